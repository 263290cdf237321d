"""Grades: checking a grade, saving a roster's grades, completing a class, and the
override of a final result."""

import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.permissions import Capability, access_for
from articulations.models import Articulation
from organisations.grades import GradeError, meets_minimum, normalize
from sers import metrics

from .. import tasks
from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
)
from ..rules import GRADABLE_STATUSES, grading_closed_reason
from .rosters import teacher_section_in_scope
from .transitions import (
    StatusChange,
    change_log_record,
    enrollment_change_status,
    enrollments_change_status,
)

logger = logging.getLogger(__name__)


S = EnrollmentStatus


# --- teachers: grades -------------------------------------------------------------------------


@dataclass
class GradeRow:
    """One row of a grade entry: what was typed and what it means."""

    enrollment_id: int
    raw: str
    grade: str = ""
    attained: bool | None = None
    error: str = ""
    changed: bool = False


class GradesRefused(ValidationError):
    """At least one row is wrong, so no grade was saved. `rows` says which and why."""

    def __init__(self, message: str, rows: dict[int, GradeRow]):
        self.rows = rows
        super().__init__(message, code="grades_refused")


def grade_check(*, articulation: Articulation, raw: str) -> GradeRow:
    """Read a typed grade in the agreement's scale: its normal form and whether it meets
    the minimum (or the error). Pure: no database."""

    row = GradeRow(enrollment_id=0, raw=raw)
    scale = articulation.minimum_grade_scale
    try:
        row.grade = normalize(scale, raw)
    except GradeError as error:
        row.error = str(error)
        return row
    row.attained = meets_minimum(
        scale=scale,
        grade=row.grade,
        minimum_scale=articulation.minimum_grade_scale,
        minimum=articulation.minimum_grade,
    )
    return row


def grades_save(
    *, actor, section_id: int, grades: dict[int, str], today: date | None = None
) -> list[GradeRow]:
    """Save the grades typed for a class: every row, or none.

    Each grade is read in the agreement's scale; an empty box is skipped. A registered
    student who gets a grade is confirmed first (the teacher says they are in the
    class). Refused with GradesRefused (per-row messages) when any grade is invalid, and
    with a ValidationError after the grading deadline or once the class is complete.
    """
    with transaction.atomic():
        section = teacher_section_in_scope(actor, section_id, lock=True)
        closed = grading_closed_reason(section, today=today)
        if closed:
            raise ValidationError(closed, code="grading_closed")
        enrollments = {
            e.pk: e for e in Enrollment.objects.filter(section=section, pk__in=list(grades))
        }
        rows: dict[int, GradeRow] = {}
        for enrollment_id, raw in grades.items():
            enrollment = enrollments.get(enrollment_id)
            if not (raw or "").strip():
                continue
            if enrollment is None:
                rows[enrollment_id] = GradeRow(
                    enrollment_id, raw, error=_("This student is not in the class.")
                )
                continue
            row = grade_check(articulation=section.articulation, raw=raw)
            row.enrollment_id = enrollment_id
            if not row.error and enrollment.status not in GRADABLE_STATUSES:
                row.error = _("This student is %(status)s: the grade cannot change here.") % {
                    "status": S(enrollment.status).label.lower()
                }
            rows[enrollment_id] = row
        if any(row.error for row in rows.values()):
            raise GradesRefused(
                _("No grade was saved: correct the rows marked below, then save again."), rows
            )
        confirm, to_grade = [], []
        for enrollment_id, row in rows.items():
            enrollment = enrollments[enrollment_id]
            if enrollment.status == S.GRADED and enrollment.grade == row.grade:
                continue
            if enrollment.status == S.REGISTERED:
                confirm.append(StatusChange(enrollment_id=enrollment_id, to_status=S.CONFIRMED))
            to_grade.append(
                StatusChange(enrollment_id=enrollment_id, to_status=S.GRADED, grade=row.grade)
            )
            row.changed = True
        # Two moves for the whole class, not two per student: the registered ones are
        # confirmed first, then everyone changed is graded (one history row for each).
        enrollments_change_status(changes=confirm, actor=actor)
        enrollments_change_status(changes=to_grade, actor=actor)
        change_log_record(
            actor=actor,
            what="grades saved",
            student_ids=[enrollments[pk].student_id for pk, row in rows.items() if row.changed],
        )
        changed = sum(1 for row in rows.values() if row.changed)
        transaction.on_commit(lambda: _count_grade_save(changed))
    logger.info(
        "grades saved: section_id=%s changed=%s",
        section_id,
        sum(1 for row in rows.values() if row.changed),
    )
    return list(rows.values())


def _count_grade_save(changed: int) -> None:
    metrics.GRADE_SAVES.inc()
    metrics.GRADES_SAVED.inc(changed)


def section_complete(*, actor, section_id: int) -> dict[str, int]:
    """Finalize a class: every graded student becomes attained or not attained by the
    agreement's minimum, in one transaction, and the class is marked complete.

    Refused while a student still waits for confirmation or a grade.
    """

    with transaction.atomic():
        section = teacher_section_in_scope(actor, section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is already marked complete."))
        enrollments = list(
            Enrollment.objects.filter(section=section).exclude(status__in=INACTIVE_STATUSES)
        )
        waiting = [e for e in enrollments if e.status in (S.REGISTERED, S.CONFIRMED)]
        if waiting:
            raise ValidationError(
                ngettext(
                    "%(count)s student has no grade yet: enter a grade or remove them first.",
                    "%(count)s students have no grade yet: enter a grade or remove them first.",
                    len(waiting),
                )
                % {"count": len(waiting)},
                code="ungraded",
            )
        articulation = section.articulation
        counts = {"attained": 0, "not_attained": 0}
        attained_ids, graded_ids, results = [], [], []
        for enrollment in enrollments:
            if enrollment.status != S.GRADED:
                continue
            met = meets_minimum(
                scale=articulation.minimum_grade_scale,
                grade=enrollment.grade,
                minimum_scale=articulation.minimum_grade_scale,
                minimum=articulation.minimum_grade,
            )
            results.append(
                StatusChange(
                    enrollment_id=enrollment.pk, to_status=S.ATTAINED if met else S.NOT_ATTAINED
                )
            )
            counts["attained" if met else "not_attained"] += 1
            graded_ids.append(enrollment.pk)
            if met:
                attained_ids.append(enrollment.pk)
        enrollments_change_status(changes=results, actor=actor)
        change_log_record(actor=actor, what="class completed", enrollment_ids=graded_ids)
        section.completed_at = timezone.now()
        section.completed_by = actor
        section.save(update_fields=["completed_at", "completed_by"])
        if graded_ids:
            tasks.send_student_notifications.delay_on_commit("grade_posted", graded_ids)
        if attained_ids:
            tasks.send_student_notifications.delay_on_commit("credit_eligible", attained_ids)
    logger.info("class complete: section_id=%s %s", section_id, counts)
    return counts


def grade_override(*, actor, enrollment_id: int, grade: str, reason: str) -> Enrollment:
    """A consortium admin changes a grade after the deadline or after the class is complete.

    The result follows the new grade (attained or not attained); the history row is an
    override with the reason. A transcribed credit must be un-transcribed first.
    """

    access = access_for(actor)
    access.require(Capability.OVERRIDE_RULES)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for this override.")})
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("section__articulation")
            .get(pk=enrollment_id)
        )
        articulation = enrollment.section.articulation
        if articulation.consortium_id not in access.consortium_ids:
            raise Http404
        row = grade_check(articulation=articulation, raw=grade)
        if row.error:
            raise ValidationError({"grade": row.error})
        status = enrollment.status
        if status == S.TRANSCRIBED:
            raise ValidationError(
                _("This credit is on the college transcript: the registrar must undo that first.")
            )
        if status in (S.REGISTERED, S.CONFIRMED, S.GRADED):
            if status == S.REGISTERED:
                enrollment_change_status(
                    enrollment_id=enrollment.pk,
                    to_status=S.CONFIRMED,
                    actor=actor,
                    reason=reason,
                    override=True,
                )
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk,
                to_status=S.GRADED,
                actor=actor,
                grade=row.grade,
                reason=reason,
                override=True,
            )
            if enrollment.section.completed_at:
                # The class is final already: the result follows at once.
                met = meets_minimum(
                    scale=articulation.minimum_grade_scale,
                    grade=row.grade,
                    minimum_scale=articulation.minimum_grade_scale,
                    minimum=articulation.minimum_grade,
                )
                enrollment = enrollment_change_status(
                    enrollment_id=enrollment.pk,
                    to_status=S.ATTAINED if met else S.NOT_ATTAINED,
                    actor=actor,
                    reason=reason,
                    override=True,
                )
        elif status in (S.ATTAINED, S.NOT_ATTAINED):
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk,
                to_status=S.ATTAINED if row.attained else S.NOT_ATTAINED,
                actor=actor,
                grade=row.grade,
                reason=reason,
                override=True,
            )
        else:
            raise ValidationError(_("This student left the class: there is no grade to change."))
        change_log_record(actor=actor, what="grade override", student_ids=[enrollment.student_id])
        if enrollment.status == S.ATTAINED:
            tasks.send_student_notifications.delay_on_commit("credit_eligible", [enrollment.pk])
    logger.info("grade override: enrollment_id=%s by user_id=%s", enrollment_id, actor.pk)
    return enrollment
