"""Teachers: their classes, rosters, enrollments and class requests."""

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from accounts.permissions import (
    Access,
    Capability,
    get_in_scope,
)
from articulations.models import Articulation
from organisations.models import AcademicYear

from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Section,
    SectionRequest,
)

S = EnrollmentStatus


# =============================================================================================
# Staff pages. Each read takes the user's Access and stays inside their scope; each runs
# in a fixed number of queries whatever the size of the roster, queue or list.
# =============================================================================================

ENROLLMENT_DISPLAY = (
    "student__user",
    "section__articulation__high_school_course",
    "section__articulation__college",
    "section__teacher",
    "section__high_school",
    "section__academic_year",
)


ACTIVE_ORDER = Case(
    When(status__in=INACTIVE_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField()
)


def teacher_sections(*, access: Access) -> QuerySet[Section]:
    """The classes the user teaches (none unless they hold the teacher role)."""
    if not access.can(Capability.MANAGE_ROSTER):
        return Section.objects.none()
    return Section.objects.filter(teacher_id=access.user_id)


def teacher_classes(*, access: Access, year: AcademicYear | None) -> list[Section]:
    """The teacher's classes of a school year, each with its roster counts by status.
    One query."""
    if year is None:
        return []
    counts = {
        f"n_{status}": Count("enrollments", filter=Q(enrollments__status=status))
        for status in S.values
    }
    return list(
        teacher_sections(access=access)
        .filter(academic_year=year)
        .select_related(
            "articulation__high_school_course",
            "articulation__college",
            "high_school",
            "academic_year",
        )
        .annotate(**counts)
        .order_by("articulation__high_school_course__title", "high_school__name", "section_code")
    )


def teacher_section(*, access: Access, section_id: int) -> Section:
    """One of the teacher's own classes; anyone else's is a 404."""
    return get_in_scope(
        Section.objects.select_related(
            "articulation__high_school_course",
            "articulation__college",
            "articulation__consortium",
            "high_school",
            "academic_year",
            "teacher",
        ),
        Q(pk__in=teacher_sections(access=access).values("pk")),
        pk=section_id,
    )


def teacher_section_id(*, access: Access, section_id: int) -> int:
    """The id of one of the teacher's own classes, checked in one light query (a page
    served from the cache needs no more); anyone else's is a 404."""
    if not teacher_sections(access=access).filter(pk=section_id).exists():
        raise Http404
    return section_id


def section_roster(*, section: Section) -> list[Enrollment]:
    """Every enrollment of a class, students still in it first, by last name. One query."""
    return list(
        Enrollment.objects.filter(section=section)
        .select_related("student__user", "student__high_school")
        .order_by(ACTIVE_ORDER, "student__legal_last_name", "student__legal_first_name", "pk")
    )


def teacher_enrollment(*, access: Access, enrollment_id: int) -> Enrollment:
    return get_in_scope(
        Enrollment.objects.select_related(
            "student", "section__articulation__high_school_course", "section__high_school"
        ),
        Q(section__in=teacher_sections(access=access)),
        pk=enrollment_id,
    )


def teacher_section_requests(*, access: Access) -> list:
    return list(
        SectionRequest.objects.filter(teacher_id=access.user_id)
        .select_related(
            "articulation__high_school_course", "high_school", "academic_year", "decided_by"
        )
        .order_by("-created_at", "-id")[:50]
    )


def requestable_articulations(*, access: Access, year: AcademicYear | None) -> QuerySet:
    """Active agreements the teacher is qualified for at one of their schools."""
    if year is None or not access.teacher_high_school_ids:
        return Articulation.objects.none()
    return (
        Articulation.objects.filter(
            status=Articulation.Status.ACTIVE,
            qualifications__teacher_id=access.user_id,
            high_schools__in=access.teacher_high_school_ids,
            valid_years__start_date__gte=year.start_date,
        )
        .select_related("high_school_course", "college")
        .distinct()
        .order_by("high_school_course__title", "agreement_number")
    )
