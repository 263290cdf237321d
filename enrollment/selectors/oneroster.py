"""Class lists from the schools' student information systems: the schools a user may
upload for, their imports, the mapping page's rows, and what the teacher's roster shows
of the school's list. Every read is scoped to the user's Access.

Who: career specialists and district staff for the high schools in their scope (their
uploads are the school's); a teacher for their own classes (their uploads show on their
own classes only, and they map them to their own classes only).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q, QuerySet

from accounts.permissions import NOTHING, Access, Capability, get_in_scope
from organisations.models import AcademicYear, HighSchool
from organisations.selectors import academic_year_current

from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    Section,
    SisClass,
    SisClassMapping,
    SisImport,
    SisStudent,
)
from ..oneroster.matching import Candidate, Person, match_people, suggest

RECENT_IMPORTS = 20


def _staff_schools(access: Access) -> Q:
    """The high schools whose imports the user makes as staff."""
    if not access.can(Capability.IMPORT_SIS_ROSTERS):
        return NOTHING
    condition = NOTHING
    if access.district_ids:
        condition |= Q(district_id__in=access.district_ids)
    if access.high_school_ids:
        condition |= Q(pk__in=access.high_school_ids)
    return condition


def _upload_schools(access: Access) -> Q:
    if not access.can(Capability.IMPORT_SIS_ROSTERS):
        return NOTHING
    condition = _staff_schools(access)
    if access.is_teacher and access.teacher_high_school_ids:
        condition |= Q(pk__in=access.teacher_high_school_ids)
    return condition


def upload_schools(*, access: Access) -> QuerySet[HighSchool]:
    """The high schools the user may upload a class list for."""
    return HighSchool.objects.filter(_upload_schools(access)).order_by("name")


def upload_school(*, access: Access, high_school_id: int) -> HighSchool:
    """One of them; any other school is a 404."""
    return get_in_scope(HighSchool.objects.all(), _upload_schools(access), pk=high_school_id)


def uploads_as_staff(*, access: Access, high_school: HighSchool) -> bool:
    """Whether the user's upload for this school is the school's (else: the teacher's own)."""
    return HighSchool.objects.filter(_staff_schools(access), pk=high_school.pk).exists()


def _import_scope(access: Access) -> Q:
    if not access.can(Capability.IMPORT_SIS_ROSTERS):
        return NOTHING
    condition = Q(high_school__in=HighSchool.objects.filter(_staff_schools(access)))
    if access.is_teacher:
        condition |= Q(teacher_id=access.user_id)
    return condition


def recent_imports(*, access: Access) -> list[SisImport]:
    """The latest imports the user may see (current ones first), with what mapping they
    still wait for. One query."""
    return list(
        SisImport.objects.filter(_import_scope(access))
        .select_related("high_school", "imported_by", "teacher")
        .order_by("-is_current", "-imported_at", "-id")[:RECENT_IMPORTS]
    )


def sis_import(*, access: Access, import_id: int) -> SisImport:
    """One import in the user's scope; anyone else's is a 404."""
    return get_in_scope(
        SisImport.objects.select_related("high_school", "imported_by", "teacher"),
        _import_scope(access),
        pk=import_id,
    )


# --- the mapping page ------------------------------------------------------------------------


@dataclass
class MappingRow:
    sis_class: SisClass
    students: int
    mapping: SisClassMapping | None  # decided before (this import or an earlier one)
    suggestion: int | None  # a SERS class id, when nothing is decided yet
    score: float
    locked: bool  # decided for a class the user may not map to: shown, not changed

    @property
    def chosen(self) -> str:
        """The choice the page shows selected: a class id, "skip", or "" (undecided)."""
        if self.mapping is not None:
            return str(self.mapping.section_id) if self.mapping.section_id else "skip"
        return str(self.suggestion) if self.suggestion else ""


@dataclass
class MappingPage:
    rows: list[MappingRow]
    options: list[tuple[str, str]]  # (class id, label) of each SERS class to map to
    undecided: int = 0
    suggested: int = 0


def mappable_sections(*, sis_import: SisImport) -> list[Section]:
    """The SERS classes this import's classes may be mapped to: the school's classes in
    the school years the import's classes run (else the current year), a teacher's
    import: that teacher's only. Two queries: the import's dates, then the classes."""
    bounds = SisClass.objects.filter(sis_import=sis_import).aggregate(
        first_start=Min("starts_on"),
        first_end=Min("ends_on"),
        last_start=Max("starts_on"),
        last_end=Max("ends_on"),
    )
    first = bounds["first_start"] or bounds["first_end"]
    last = bounds["last_end"] or bounds["last_start"]
    if first and last:
        years = AcademicYear.objects.filter(start_date__lte=last, end_date__gte=first)
    else:
        current = academic_year_current()
        years = AcademicYear.objects.filter(pk=current.pk if current else None)
    sections = Section.objects.filter(
        high_school_id=sis_import.high_school_id, academic_year__in=years
    )
    if sis_import.teacher_id is not None:
        sections = sections.filter(teacher_id=sis_import.teacher_id)
    return list(
        sections.select_related(
            "articulation__high_school_course", "teacher", "academic_year"
        ).order_by("articulation__high_school_course__title", "section_code", "pk")
    )


def section_label(section: Section) -> str:
    teacher = section.teacher.get_full_name() or section.teacher.email
    return (
        f"{section.articulation.high_school_course.title} · {section.section_code} · "
        f"{section.get_term_display()} · {teacher} · {section.academic_year.code}"
    )


def _candidate(section: Section) -> Candidate:
    course = section.articulation.high_school_course
    return Candidate(
        section_id=section.pk,
        title=course.title,
        local_code=course.local_code,
        teacher_name=section.teacher.get_full_name(),
        teacher_email=section.teacher.email,
        section_code=section.section_code,
        term=section.term,
        year_start=section.academic_year.start_date,
        year_end=section.academic_year.end_date,
    )


def mapping_page(*, sis_import: SisImport) -> MappingPage:
    """Each class of the import with its decided mapping or a suggestion. Four queries
    (the import's classes with their counts, the mappings, the years and the classes)."""
    classes = list(
        SisClass.objects.filter(sis_import=sis_import)
        .annotate(n_students=Count("enrollments"))
        .order_by("title", "sourced_id")
    )
    mappings = {
        m.class_sourced_id: m
        for m in SisClassMapping.objects.filter(
            high_school_id=sis_import.high_school_id,
            class_sourced_id__in=[c.sourced_id for c in classes],
        ).select_related("decided_by")
    }
    sections = mappable_sections(sis_import=sis_import)
    allowed = {s.pk for s in sections}
    candidates = [_candidate(s) for s in sections]
    rows = []
    for sis_class in classes:
        mapping = mappings.get(sis_class.sourced_id)
        suggestion, score = (None, 0.0) if mapping else suggest(sis_class, candidates)
        locked = (
            mapping is not None
            and mapping.section_id is not None
            and (mapping.section_id not in allowed)
        )
        rows.append(MappingRow(sis_class, sis_class.n_students, mapping, suggestion, score, locked))
    # Suggestions first (what waits for a decision), then the rest by title.
    rows.sort(key=lambda r: (r.mapping is not None, r.suggestion is None, r.sis_class.title))
    return MappingPage(
        rows=rows,
        options=[(str(s.pk), section_label(s)) for s in sections],
        undecided=sum(1 for r in rows if r.mapping is None),
        suggested=sum(1 for r in rows if r.mapping is None and r.suggestion),
    )


# --- the teacher's roster ---------------------------------------------------------------


@dataclass
class SchoolList:
    """What the school's list (its SIS) says of a SERS class."""

    imported_at: datetime
    classes: list[SisClass]
    on_list: set[int]  # enrollment ids of registered students on the school's list
    not_on_list: set[int]  # enrollment ids of registered students who are not
    not_registered: list[SisStudent]  # on the school's list, not registered in SERS


def section_school_list(*, section: Section, roster: list[Enrollment]) -> SchoolList | None:
    """The school's class list of a SERS class mapped to SIS classes, compared with its
    roster (the enrollments with their students and accounts); None when it is not mapped
    or no current import holds its classes. Two queries."""
    mapped = SisClassMapping.objects.filter(
        high_school_id=section.high_school_id, section_id=section.pk
    ).values("class_sourced_id")
    found = (
        SisClass.objects.filter(
            Q(sis_import__teacher__isnull=True) | Q(sis_import__teacher_id=section.teacher_id),
            sis_import__high_school_id=section.high_school_id,
            sis_import__is_current=True,
            sourced_id__in=mapped,
        )
        .select_related("sis_import")
        .order_by("sourced_id", "-sis_import__imported_at", "-sis_import_id")
    )
    classes: dict[str, SisClass] = {}
    for sis_class in found:
        classes.setdefault(sis_class.sourced_id, sis_class)  # the newest import's
    if not classes:
        return None
    chosen = list(classes.values())
    students = list(
        SisStudent.objects.filter(enrollments__sis_class__in=[c.pk for c in chosen])
        .distinct()
        .order_by("family_name", "given_name", "pk")
    )
    # A student in two of the classes (one per semester) is one person: by sourcedId.
    unique = list({s.sourced_id: s for s in students}.values())
    matched = match_people(
        [
            Person(
                key=i,
                first_name=s.given_name,
                last_name=s.family_name,
                middle_name=s.middle_name,
                email=s.email,
                other_first_name=s.preferred_given_name,
            )
            for i, s in enumerate(unique)
        ],
        [
            Person(
                key=e.pk,
                first_name=e.student.legal_first_name,
                last_name=e.student.legal_last_name,
                middle_name=e.student.legal_middle_name,
                email=e.student.user.email,
            )
            for e in roster
        ],
    )
    active = {e.pk for e in roster if e.status not in INACTIVE_STATUSES}
    on_list = set(matched.values()) & active
    return SchoolList(
        imported_at=max(c.sis_import.imported_at for c in chosen),
        classes=sorted(chosen, key=lambda c: c.title),
        on_list=on_list,
        not_on_list=active - on_list,
        not_registered=[s for i, s in enumerate(unique) if i not in matched],
    )
