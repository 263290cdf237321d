"""Class lists from the schools' student information systems: importing a high school's
OneRoster export, and remembering which SERS class each of its classes is.

An import is checked completely first (enrollment.oneroster: every file, line and
reference, and that it is the uploader's school); with any problem nothing is written.
Then, in one transaction, the previous import of the same school (or of the same teacher,
for a teacher's own classes) gives way: its classes, students and enrollments are
deleted, its record stays (who imported what, when) and stops being current; the new
import's rows are inserted in bulk. Nobody is registered in SERS by an import.
"""

import logging
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import Capability, access_for
from organisations.models import HighSchool
from sers import bulk

from ..models import SisClass, SisClassMapping, SisEnrollment, SisImport, SisStudent
from ..oneroster import Problems, School, read_upload, validate
from ..selectors import oneroster as selectors

logger = logging.getLogger(__name__)

BATCH = 2000
SKIP = "skip"  # a mapping decision: the SIS class is not a SERS class


@dataclass
class ImportOutcome:
    problems: Problems = field(default_factory=Problems)
    sis_import: SisImport | None = None

    @property
    def ok(self) -> bool:
        return self.sis_import is not None


def school_context(high_school: HighSchool) -> School:
    """The school an upload is for, as the checks take it (with every other school's code:
    an export of another SERS school is refused by name)."""
    others = {
        code.casefold(): name
        for code, name in HighSchool.objects.exclude(pk=high_school.pk).values_list("code", "name")
    }
    return School(code=high_school.code, name=high_school.name, other_codes=others)


def sis_import_create(
    *, actor, high_school_id: int, files, today: date | None = None
) -> ImportOutcome:
    """Check a OneRoster export (a list of uploaded files: one .zip, or the .csv files)
    for a high school and, when it is right in every line, keep it as the school's current
    class lists (a teacher's: as theirs). The school must be in the actor's scope (404)."""
    access = access_for(actor)
    access.require(Capability.IMPORT_SIS_ROSTERS)
    school = selectors.upload_school(access=access, high_school_id=high_school_id)
    outcome = ImportOutcome()
    texts = read_upload(files, outcome.problems)
    roster = validate(
        texts,
        school=school_context(school),
        today=today or timezone.localdate(),
        problems=outcome.problems,
    )
    if roster is None:
        logger.info(
            "sis import refused: school_id=%s problems=%s", school.pk, outcome.problems.total
        )
        return outcome
    teacher = None if selectors.uploads_as_staff(access=access, high_school=school) else actor
    with transaction.atomic():
        # One import of a school at a time.
        HighSchool.objects.select_for_update().filter(pk=school.pk).first()
        previous = SisImport.objects.filter(high_school=school, teacher=teacher, is_current=True)
        for old in previous.select_for_update():
            _forget_rows(old)
            old.is_current = False
            old.save(update_fields=["is_current"])
        sis_import = SisImport.objects.create(
            high_school=school,
            teacher=teacher,
            imported_by=actor,
            source_system=roster.source_system,
            classes_count=len(roster.classes),
            students_count=len(roster.students),
            enrollments_count=len(roster.enrollments),
        )
        classes = bulk.bulk_create(
            SisClass,
            [SisClass(sis_import_id=sis_import.pk, **vars(c)) for c in roster.classes],
            batch_size=BATCH,
        )
        students = bulk.bulk_create(
            SisStudent,
            [SisStudent(sis_import_id=sis_import.pk, **vars(s)) for s in roster.students],
            batch_size=BATCH,
        )
        class_ids = {c.sourced_id: c.pk for c in classes}
        student_ids = {s.sourced_id: s.pk for s in students}
        bulk.bulk_create(
            SisEnrollment,
            [
                SisEnrollment(
                    sis_class_id=class_ids[class_id],
                    sis_student_id=student_ids[user_id],
                )
                for class_id, user_id in roster.enrollments
            ],
            batch_size=BATCH,
        )
    outcome.sis_import = sis_import
    logger.info(
        "sis import: import_id=%s school_id=%s classes=%s students=%s enrollments=%s",
        sis_import.pk,
        school.pk,
        sis_import.classes_count,
        sis_import.students_count,
        sis_import.enrollments_count,
    )
    return outcome


def _forget_rows(sis_import: SisImport) -> None:
    """An import's rows, once it stops being current (its record stays): three
    statements, whatever the size."""
    SisEnrollment.objects.filter(sis_class__sis_import=sis_import).delete()
    SisStudent.objects.filter(sis_import=sis_import).delete()
    SisClass.objects.filter(sis_import=sis_import).delete()


# --- which SERS class each SIS class is -----------------------------------------------------


def sis_mappings_save(*, actor, import_id: int, decisions: dict[int, str]) -> int:
    """Remember the decisions taken on an import's mapping page: SisClass id → a SERS
    class id (as text), SKIP (not a SERS class) or "" (left undecided). A class may be
    mapped only to one the user may choose on the page (the school's, or a teacher's own);
    a decision someone took for another class the user may not choose stays. All or
    nothing; returns how many mappings changed."""
    access = access_for(actor)
    access.require(Capability.IMPORT_SIS_ROSTERS)
    sis_import = selectors.sis_import(access=access, import_id=import_id)
    if not sis_import.is_current:
        raise ValidationError(
            _("A newer class list of this school was uploaded since: map the classes there.")
        )
    allowed = {s.pk for s in selectors.mappable_sections(sis_import=sis_import)}
    classes = {
        c.pk: c.sourced_id
        for c in SisClass.objects.filter(sis_import=sis_import, pk__in=list(decisions))
    }
    wanted: dict[str, int | None] = {}
    for class_id, choice in decisions.items():
        if class_id not in classes:
            raise ValidationError(_("The page is out of date: open it again."))
        if choice == "":
            continue
        if choice == SKIP:
            wanted[classes[class_id]] = None
        elif choice.isdigit() and int(choice) in allowed:
            wanted[classes[class_id]] = int(choice)
        else:
            raise ValidationError(_("Choose one of the classes listed, or skip."))
    now = timezone.now()
    with transaction.atomic():
        # One decision of a school at a time (two people confirming the same new class).
        HighSchool.objects.select_for_update().filter(pk=sis_import.high_school_id).first()
        existing = {
            m.class_sourced_id: m
            for m in SisClassMapping.objects.select_for_update().filter(
                high_school_id=sis_import.high_school_id, class_sourced_id__in=list(wanted)
            )
        }
        new = []
        moves: dict[int | None, list[int]] = {}
        for sourced_id, section_id in wanted.items():
            mapping = existing.get(sourced_id)
            if mapping is None:
                new.append(
                    SisClassMapping(
                        high_school_id=sis_import.high_school_id,
                        class_sourced_id=sourced_id,
                        section_id=section_id,
                        decided_by=actor,
                        decided_at=now,
                    )
                )
            elif mapping.section_id != section_id:
                if mapping.section_id is not None and mapping.section_id not in allowed:
                    continue  # someone mapped it to a class this user may not choose
                moves.setdefault(section_id, []).append(mapping.pk)
        bulk.bulk_create(SisClassMapping, new)
        for section_id, ids in moves.items():
            bulk.bulk_update(
                SisClassMapping.objects.filter(pk__in=ids),
                section_id=section_id,
                decided_by=actor,
                decided_at=now,
            )
        changed = len(new) + sum(len(ids) for ids in moves.values())
    logger.info("sis mappings saved: import_id=%s changed=%s", sis_import.pk, changed)
    return changed
