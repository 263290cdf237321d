"""Teachers' rosters: confirm students, take a student off the roster."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import (
    Enrollment,
    EnrollmentStatus,
    Section,
)
from .transitions import (
    StatusChange,
    TransitionNotAllowed,
    change_log_record,
    enrollment_change_status,
    enrollments_change_status,
)

logger = logging.getLogger(__name__)


S = EnrollmentStatus


# --- teachers: roster -------------------------------------------------------------------------

# Why a teacher takes a student off the roster; the label goes into the history.
REMOVAL_REASONS: dict[str, str] = {
    "not_in_class": gettext_lazy("Not in my class"),
    "dropped": gettext_lazy("Dropped the class"),
    "duplicate": gettext_lazy("Duplicate registration"),
}


def teacher_section_in_scope(actor, section_id: int, *, lock: bool = False) -> Section:
    """The class, if `actor` teaches it (PermissionDenied otherwise)."""
    queryset = Section.objects.select_related(
        "articulation__high_school_course", "academic_year", "high_school"
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    section = queryset.get(pk=section_id)
    if section.teacher_id != actor.pk:
        raise PermissionDenied
    return section


def roster_confirm(*, actor, section_id: int, enrollment_ids: list[int] | None = None) -> int:
    """Confirm registered students in the class (all of them when ids is None).

    One transaction: every listed student is confirmed, or none. Returns how many.
    """
    with transaction.atomic():
        section = teacher_section_in_scope(actor, section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is marked complete; its roster is final."))
        waiting = Enrollment.objects.filter(section=section, status=S.REGISTERED)
        if enrollment_ids is not None:
            ids = {int(pk) for pk in enrollment_ids}
            if not ids:
                raise ValidationError(_("Tick at least one student to confirm."))
            found = set(waiting.filter(pk__in=ids).values_list("pk", flat=True))
            if found != ids:
                raise ValidationError(
                    _("Some of the ticked students are no longer waiting for confirmation.")
                )
        else:
            found = set(waiting.values_list("pk", flat=True))
        enrollments_change_status(
            changes=[StatusChange(enrollment_id=pk, to_status=S.CONFIRMED) for pk in sorted(found)],
            actor=actor,
        )
        change_log_record(actor=actor, what="roster confirmed", enrollment_ids=found)
    logger.info("roster confirmed: section_id=%s count=%s", section_id, len(found))
    return len(found)


def roster_remove(*, actor, enrollment_id: int, reason_code: str, note: str = "") -> Enrollment:
    """Take a student off the class roster, with one of REMOVAL_REASONS."""
    if reason_code not in REMOVAL_REASONS:
        raise ValidationError({"reason": _("Choose why the student is removed.")})
    with transaction.atomic():
        enrollment = Enrollment.objects.select_related("section").get(pk=enrollment_id)
        section = teacher_section_in_scope(actor, enrollment.section_id, lock=True)
        if section.completed_at:
            raise ValidationError(_("This class is marked complete; its roster is final."))
        reason = str(REMOVAL_REASONS[reason_code])
        if note.strip():
            reason = f"{reason}: {note.strip()}"
        try:
            enrollment = enrollment_change_status(
                enrollment_id=enrollment.pk, to_status=S.REMOVED, actor=actor, reason=reason
            )
        except TransitionNotAllowed:
            raise ValidationError(
                _("This student already has a grade or left the class, so they cannot be removed.")
            ) from None
        change_log_record(
            actor=actor, what="removed from class", student_ids=[enrollment.student_id]
        )
    return enrollment
