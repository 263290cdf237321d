"""The one way an enrollment's status changes: the transitions table, a row lock, an
audit row, and the announcement after commit; plus the change-log helper."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Cast
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.services import access_log_record
from sers import bulk

from ..models import (
    GRADED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
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


# Corrections only an override may make: the grade of a final result, the result kept.
OVERRIDE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ATTAINED: frozenset({S.ATTAINED}),
    S.NOT_ATTAINED: frozenset({S.NOT_ATTAINED}),
}


# Sent after the transaction that changed a status commits (notifications hang off it).
enrollment_status_changed = Signal()


class TransitionNotAllowed(ValidationError):
    """The enrollment cannot move from its current status to the one asked for."""


@dataclass(frozen=True)
class StatusChange:
    """One enrollment's move, for enrollments_change_status: the status it should get
    and, optionally, the grade, transcription date or college student id set with it."""

    enrollment_id: int
    to_status: str
    grade: str | None = None
    transcribed_on: date | None = None
    college_student_id: str | None = None


def enrollment_change_status(
    *,
    enrollment_id: int,
    to_status: str,
    actor,
    reason: str = "",
    grade: str | None = None,
    transcribed_on: date | None = None,
    college_student_id: str | None = None,
    override: bool = False,
) -> Enrollment:
    """Move one enrollment to `to_status` (enrollments_change_status for one row)."""
    (enrollment,) = enrollments_change_status(
        changes=[
            StatusChange(
                enrollment_id=enrollment_id,
                to_status=to_status,
                grade=grade,
                transcribed_on=transcribed_on,
                college_student_id=college_student_id,
            )
        ],
        actor=actor,
        reason=reason,
        override=override,
    )
    return enrollment


def _status_change_fields(
    enrollment: Enrollment, change: StatusChange, *, reason: str, override: bool
) -> dict[str, object] | None:
    """The fields `change` sets besides status (None when it asks for nothing new), once
    the transitions table and the rules allow it; raises otherwise."""
    from_status, to_status = enrollment.status, change.to_status
    fields: dict[str, object] = {}
    if change.grade is not None and change.grade != enrollment.grade:
        fields["grade"] = change.grade
    if change.transcribed_on is not None and change.transcribed_on != enrollment.transcribed_on:
        fields["transcribed_on"] = change.transcribed_on
    if (
        change.college_student_id is not None
        and change.college_student_id != enrollment.college_student_id
    ):
        fields["college_student_id"] = change.college_student_id

    if to_status == from_status and not fields:
        return None
    allowed = ALLOWED_TRANSITIONS.get(from_status, frozenset())
    if override:
        allowed = allowed | OVERRIDE_TRANSITIONS.get(from_status, frozenset())
    if to_status not in allowed:
        raise TransitionNotAllowed(
            _("This enrollment is %(from)s and cannot become %(to)s.")
            % {"from": S(from_status).label, "to": _status_label(to_status)},
            code="transition_not_allowed",
        )
    if ((from_status, to_status) in REASON_REQUIRED or override) and not reason:
        raise ValidationError(_("Give a reason for this change."), code="reason_required")
    # Say what is missing instead of failing on the database's check constraints.
    if to_status in GRADED_STATUSES and not fields.get("grade", enrollment.grade):
        raise ValidationError(_("Enter a grade."), code="grade_required")
    if to_status == S.TRANSCRIBED and not fields.get("transcribed_on", enrollment.transcribed_on):
        raise ValidationError(
            _("Enter the date the credit was posted to the transcript."),
            code="transcribed_on_required",
        )
    if to_status == S.ATTAINED and from_status == S.TRANSCRIBED:
        fields["transcribed_on"] = None  # undoing a transcription clears its date
    return fields


def _update_in_one_statement(enrollments: list[Enrollment], names: set[str]) -> None:
    """Save these fields of every enrollment with one UPDATE. Like bulk_update, but each
    field's CASE has one branch per distinct value (a handful of grades, one status, one
    time) instead of one per row, which is much cheaper to build for a whole class."""

    values = {}
    for name in sorted(names):
        field = Enrollment._meta.get_field(name)
        pks_by_value: dict[object, list[int]] = {}
        for enrollment in enrollments:
            pks_by_value.setdefault(getattr(enrollment, field.attname), []).append(enrollment.pk)
        if len(pks_by_value) == 1:
            values[field.attname] = next(iter(pks_by_value))
            continue
        case = Case(
            *(
                When(pk__in=pks, then=Value(value, output_field=field))
                for value, pks in pks_by_value.items()
            ),
            output_field=field,
        )
        if connection.features.requires_casted_case_in_updates:
            case = Cast(case, output_field=field)
        values[field.attname] = case
    bulk.bulk_update(
        Enrollment.objects.filter(pk__in=[enrollment.pk for enrollment in enrollments]),
        rows=enrollments,
        **values,
    )


def enrollments_change_status(
    *, changes: list[StatusChange], actor, reason: str = "", override: bool = False
) -> list[Enrollment]:
    """Move enrollments to new statuses: the one function that writes `status`.

    Locks every row at once (in pk order, so two callers cannot deadlock), checks each
    move against the transitions table, then saves the changed fields of all rows in one
    statement, writes one history row per moved enrollment in one statement, and
    announces each change once the transaction commits. All or nothing: one refused move
    refuses the lot (the first refused one, in the order given, says why). A move to the
    status the row already has, with nothing else changing, does nothing. Returns the
    enrollments in the order of `changes`. An enrollment appears at most once per call.

    `override` is a consortium admin setting a rule aside (a grade change after the
    grading deadline): it needs a reason, may also correct the grade of a final result
    (OVERRIDE_TRANSITIONS), and is marked as an override in the history. The caller
    checks that the actor may override.
    """
    if not changes:
        return []
    ids = [change.enrollment_id for change in changes]
    if len(set(ids)) != len(ids):
        raise ValueError("An enrollment may appear only once in one status change.")
    reason = reason.strip()
    with transaction.atomic():
        locked = {
            enrollment.pk: enrollment
            for enrollment in Enrollment.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        if len(locked) != len(ids):
            raise Enrollment.DoesNotExist("Enrollment matching query does not exist.")
        planned = []
        for change in changes:
            enrollment = locked[change.enrollment_id]
            fields = _status_change_fields(enrollment, change, reason=reason, override=override)
            if fields is not None:
                planned.append((enrollment, change.to_status, fields))
        if not planned:
            return [locked[pk] for pk in ids]

        now = timezone.now()
        update_fields = {"status", "status_changed_at"}
        kind = (
            EnrollmentStatusChange.Kind.OVERRIDE if override else EnrollmentStatusChange.Kind.CHANGE
        )
        history, announced = [], []
        for enrollment, to_status, fields in planned:
            from_status = enrollment.status
            if "grade" in fields:
                fields["graded_at"] = now
                fields["graded_by"] = actor
            for name, value in fields.items():
                setattr(enrollment, name, value)
            update_fields.update(fields)
            enrollment.status = to_status
            enrollment.status_changed_at = now
            history.append(
                EnrollmentStatusChange(
                    enrollment=enrollment,
                    from_status=from_status,
                    to_status=to_status,
                    grade=enrollment.grade if to_status in GRADED_STATUSES else "",
                    changed_by=actor,
                    reason=reason,
                    kind=kind,
                )
            )
            announced.append((enrollment.pk, from_status, to_status))
        # Rows a field does not change get the value just read under the lock: unchanged.
        _update_in_one_statement(
            [enrollment for enrollment, _to, _fields in planned], update_fields
        )
        EnrollmentStatusChange.objects.bulk_create(history)

        def announce() -> None:
            for enrollment_id, from_status, to_status in announced:
                enrollment_status_changed.send(
                    sender=Enrollment,
                    enrollment_id=enrollment_id,
                    from_status=from_status,
                    to_status=to_status,
                )

        transaction.on_commit(announce)
    return [locked[pk] for pk in ids]


def _status_label(status: str) -> str:
    return S(status).label if status in S.values else repr(status)


def enrollment_record_created(
    *, enrollment: Enrollment, actor, reason: str = "", override: bool = False
) -> None:
    """The first history row of a new enrollment (from nothing to its initial status)."""
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=enrollment.status,
        changed_by=actor,
        reason=reason,
        kind=EnrollmentStatusChange.Kind.OVERRIDE
        if override
        else EnrollmentStatusChange.Kind.CHANGE,
    )


def change_log_record(*, actor, what: str, student_ids=(), enrollment_ids=()) -> None:
    """Record in the student-record access log that `actor` changed these students'
    records, inside the caller's transaction (no change without its entry). The client
    address comes from the request being served, if any. (The cached pages learn of the
    change from the write itself: enrollment.pagecache.)"""

    ids = set(student_ids)
    if enrollment_ids:
        ids.update(
            Enrollment.objects.filter(pk__in=list(enrollment_ids)).values_list(
                "student_id", flat=True
            )
        )
    if ids:
        access_log_record(actor=actor, action="change", what=what, student_ids=ids)
