"""College registrars: mark credits transcribed, and undo a transcription."""

import logging
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.permissions import Capability, access_for
from enrollment.rules import eligible_for_transcription_q
from sers.formatting import display_date
from sers.text import TextLineField

from .. import tasks
from ..models import (
    Enrollment,
    EnrollmentStatus,
)
from ..rules import TRANSCRIPTION_UNDO_DAYS, local_today, transcription_undo_until
from .transitions import (
    StatusChange,
    change_log_record,
    enrollment_change_status,
    enrollments_change_status,
)

logger = logging.getLogger(__name__)


S = EnrollmentStatus
# The rules of the form's and the upload's college student id: never cut to fit.
COLLEGE_STUDENT_ID = TextLineField(
    max_length=Enrollment._meta.get_field("college_student_id").max_length, required=False
)


# The fields earliest_transcription_date reads, from an enrollment.
EARLIEST_TRANSCRIPTION_FIELDS = ("section__completed_at", "section__academic_year__start_date")
DATE_BEFORE_ATTAINED = "date_before_attained"


def earliest_transcription_date(
    class_completed_at: datetime | None, school_year_start: date
) -> date:
    """The first day a credit can have been posted: the day it was attained, that is
    the day its class was marked complete (grading.section_complete decides every result
    then; a later grade override only attains later); when that is not recorded, the
    day the class's school year started. Never after this host's today: a class marked
    complete a moment ago on a host whose clock runs ahead must not refuse a same-day
    posting here."""
    if class_completed_at is not None:
        return min(timezone.localdate(class_completed_at), timezone.localdate())
    return school_year_start


def _registrar_enrollments(actor, enrollment_ids):
    access = access_for(actor)
    access.require(Capability.TRANSCRIBE)
    return Enrollment.objects.filter(
        pk__in=enrollment_ids,
        section__articulation__college_id__in=access.registrar_college_ids,
    )


def college_student_ids_clean(
    college_student_ids: dict[int, str],
) -> tuple[dict[int, str], dict[int, ValidationError | None]]:
    """Each credit's college student ID cleaned (the form's and the upload's rules), and
    each that cannot be used: its error, or None when it is empty. The registrar's queue
    marks the rows with them (views/registrar.py)."""
    cleaned: dict[int, str] = {}
    problems: dict[int, ValidationError | None] = {}
    for enrollment_id, college_id in college_student_ids.items():
        try:
            cleaned[int(enrollment_id)] = COLLEGE_STUDENT_ID.clean(college_id or "")
        except ValidationError as error:
            problems[int(enrollment_id)] = error
            continue
        if not cleaned[int(enrollment_id)]:
            problems[int(enrollment_id)] = None
    return cleaned, problems


def enrollments_transcribe(
    *,
    actor,
    college_student_ids: dict[int, str],
    transcribed_on: date,
    today: date | None = None,
    reason: str = "",
) -> int:
    """Mark eligible enrollments transcribed with each student's college id and the
    posting date: all of them, or none. Returns how many. `reason` goes to the history
    (for example which college system reported the posting). The posting date is neither
    in the future nor before a credit was attained (earliest_transcription_date)."""

    if not college_student_ids:
        raise ValidationError(_("Tick at least one enrollment to mark transcribed."))
    if transcribed_on > local_today(today):
        raise ValidationError({"transcribed_on": _("The posting date cannot be in the future.")})
    cleaned, problems = college_student_ids_clean(college_student_ids)
    for error in problems.values():
        if error is not None:
            raise ValidationError(
                {
                    "college_student_id": _("College student ID: %(problem)s")
                    % {"problem": " ".join(error.messages)}
                }
            )
    if problems:
        raise ValidationError(
            {"college_student_id": _("Enter the college student id of every ticked student.")}
        )
    with transaction.atomic():
        earliest = {
            pk: earliest_transcription_date(*fields)
            for pk, *fields in _registrar_enrollments(actor, list(cleaned))
            .filter(eligible_for_transcription_q())
            .values_list("pk", *EARLIEST_TRANSCRIPTION_FIELDS)
        }
        eligible = set(earliest)
        if eligible != set(cleaned):
            raise ValidationError(
                _(
                    "Nothing was marked: %(count)s of the ticked enrollments are not ready to "
                    "transcribe (or not at your college). Reload the queue and try again."
                )
                % {"count": len(set(cleaned) - eligible)}
            )
        _check_not_before_attained(transcribed_on, earliest)
        enrollments_change_status(
            changes=[
                StatusChange(
                    enrollment_id=enrollment_id,
                    to_status=S.TRANSCRIBED,
                    transcribed_on=transcribed_on,
                    college_student_id=cleaned[enrollment_id],
                )
                for enrollment_id in sorted(cleaned)
            ],
            actor=actor,
            reason=reason,
        )
        change_log_record(actor=actor, what="credit transcribed", enrollment_ids=cleaned)
        tasks.send_student_notifications.delay_on_commit("transcribed", sorted(cleaned))
    logger.info("transcribed: count=%s by user_id=%s", len(cleaned), actor.pk)
    return len(cleaned)


def _check_not_before_attained(transcribed_on: date, earliest: dict[int, date]) -> None:
    """Refuse a posting date before a credit was attained (say, 0001-01-01 for
    2026-11-30). Not a dict keyed by field: the upload shows it on its file field."""
    too_early = [day for day in earliest.values() if transcribed_on < day]
    if not too_early:
        return
    day = display_date(max(too_early))
    if len(earliest) == 1:
        message = _(
            "The posting date cannot be before the credit was attained: give %(date)s or later."
        ) % {"date": day}
    else:
        message = ngettext(
            "The posting date cannot be before the credits were attained: %(count)s of them "
            "needs %(date)s or later.",
            "The posting date cannot be before the credits were attained: %(count)s of them "
            "need %(date)s or later.",
            len(too_early),
        ) % {"count": len(too_early), "date": day}
    raise ValidationError(message, code=DATE_BEFORE_ATTAINED)


def enrollment_transcription_undo(
    *, actor, enrollment_id: int, reason: str, today: date | None = None
) -> Enrollment:
    """Take a credit back off the transcript list (TRANSCRIBED → ATTAINED), with a reason,
    within TRANSCRIPTION_UNDO_DAYS of marking it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for undoing the transcription.")})
    with transaction.atomic():
        enrollment = _registrar_enrollments(actor, [enrollment_id]).select_for_update().first()
        if enrollment is None:
            raise Http404
        if enrollment.status != S.TRANSCRIBED:
            raise ValidationError(_("This enrollment is not marked transcribed."))
        if local_today(today) > transcription_undo_until(enrollment):
            raise ValidationError(
                _(
                    "It is more than %(days)s days since this credit was marked transcribed: "
                    "correct the college transcript directly, and tell your consortium."
                )
                % {"days": TRANSCRIPTION_UNDO_DAYS},
                code="undo_expired",
            )
        enrollment = enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=S.ATTAINED, actor=actor, reason=reason
        )
        change_log_record(
            actor=actor, what="transcription undone", student_ids=[enrollment.student_id]
        )
    return enrollment
