"""Every write to students, enrollments and fees, and the business rules behind them."""

import secrets
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    GRADED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    StudentProfile,
)

S = EnrollmentStatus

# The only ways an enrollment's status may move. Anything else is refused.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.CONFIRMED, S.REMOVED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.GRADED, S.REMOVED, S.WITHDRAWN}),
    S.GRADED: frozenset({S.GRADED, S.ATTAINED, S.NOT_ATTAINED}),
    S.ATTAINED: frozenset({S.TRANSCRIBED, S.NOT_ATTAINED}),
    S.NOT_ATTAINED: frozenset({S.ATTAINED}),
    S.TRANSCRIBED: frozenset({S.ATTAINED}),
    S.WITHDRAWN: frozenset(),
    S.REMOVED: frozenset(),
}
# Moves a person must explain: removals, undoing a transcription, changing a final result.
REASON_REQUIRED: frozenset[tuple[str, str]] = frozenset(
    {
        (S.REGISTERED, S.REMOVED),
        (S.CONFIRMED, S.REMOVED),
        (S.TRANSCRIBED, S.ATTAINED),
        (S.ATTAINED, S.NOT_ATTAINED),
        (S.NOT_ATTAINED, S.ATTAINED),
    }
)

# Sent after the transaction that changed a status commits (notifications hang off it).
enrollment_status_changed = Signal()


class TransitionNotAllowed(ValidationError):
    """The enrollment cannot move from its current status to the one asked for."""


def enrollment_change_status(
    *,
    enrollment_id: int,
    to_status: str,
    actor,
    reason: str = "",
    grade: str | None = None,
    transcribed_on: date | None = None,
    college_student_id: str | None = None,
) -> Enrollment:
    """Move an enrollment to `to_status`: the one function that writes `status`.

    Locks the row, checks the transitions table, saves only the changed fields,
    writes a history row and announces the change once the transaction commits.
    Asking for the status it already has (with nothing else changing) does nothing.
    """
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
        from_status = enrollment.status
        changes: dict[str, object] = {}
        if grade is not None and grade != enrollment.grade:
            changes["grade"] = grade
        if transcribed_on is not None and transcribed_on != enrollment.transcribed_on:
            changes["transcribed_on"] = transcribed_on
        if college_student_id is not None and college_student_id != enrollment.college_student_id:
            changes["college_student_id"] = college_student_id

        if to_status == from_status and not changes:
            return enrollment
        if to_status not in ALLOWED_TRANSITIONS.get(from_status, ()):
            raise TransitionNotAllowed(
                _("This enrollment is %(from)s and cannot become %(to)s.")
                % {"from": S(from_status).label, "to": S(to_status).label},
                code="transition_not_allowed",
            )
        reason = reason.strip()
        if (from_status, to_status) in REASON_REQUIRED and not reason:
            raise ValidationError(_("Give a reason for this change."), code="reason_required")

        now = timezone.now()
        if "grade" in changes:
            changes["graded_at"] = now
            changes["graded_by"] = actor
        if to_status == S.ATTAINED and from_status == S.TRANSCRIBED:
            changes["transcribed_on"] = None  # undoing a transcription clears its date
        for name, value in changes.items():
            setattr(enrollment, name, value)
        enrollment.status = to_status
        enrollment.status_changed_at = now
        enrollment.save(update_fields=["status", "status_changed_at", *changes])
        EnrollmentStatusChange.objects.create(
            enrollment=enrollment,
            from_status=from_status,
            to_status=to_status,
            grade=enrollment.grade if to_status in GRADED_STATUSES else "",
            changed_by=actor,
            reason=reason,
        )
        transaction.on_commit(
            lambda: enrollment_status_changed.send(
                sender=Enrollment,
                enrollment_id=enrollment.pk,
                from_status=from_status,
                to_status=to_status,
            )
        )
    return enrollment


def enrollment_record_created(*, enrollment: Enrollment, actor, reason: str = "") -> None:
    """The first history row of a new enrollment (from nothing to its initial status)."""
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=enrollment.status,
        changed_by=actor,
        reason=reason,
    )


def generate_sers_id() -> str:
    """A random nine-digit id whose last digit is a Luhn check digit (catches typos)."""
    body = f"{secrets.randbelow(10**8):08d}"
    if body[0] == "0":
        body = str(secrets.randbelow(9) + 1) + body[1:]
    return body + luhn_check_digit(body)


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def sers_id_is_valid(sers_id: str) -> bool:
    return len(sers_id) == 9 and sers_id.isdigit() and luhn_check_digit(sers_id[:-1]) == sers_id[-1]


def student_profile_create(*, user, **fields) -> StudentProfile:
    """Create a profile with a fresh permanent SERS id (retrying on the rare collision)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return StudentProfile.objects.create(
                    user=user, sers_id=generate_sers_id(), **fields
                )
        except IntegrityError:
            if StudentProfile.objects.filter(user=user).exists():
                raise
    raise RuntimeError("Could not allocate a unique SERS id.")
