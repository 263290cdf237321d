"""Tests of enrollment.services.transcription: registrars mark credits transcribed, or undo."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import formats, timezone

from accesslog.models import AccessLogEntry
from enrollment import rules
from enrollment.models import Enrollment, EnrollmentStatusChange, Section
from enrollment.services import transcription
from tests.world import TODAY, S, advance, settle_fee

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(here):
    """Two eligible credits (attained, fee settled, email verified)."""
    for e in here.enrollments[:2]:
        advance(e, S.ATTAINED)
        settle_fee(e)
    return here.enrollments[:2]


def rows() -> list:
    """Every enrollment, the history and the change log: to show nothing moved."""
    return [
        sorted(
            Enrollment.objects.values_list(
                "pk", "status", "transcribed_on", "college_student_id", "status_changed_at"
            )
        ),
        EnrollmentStatusChange.objects.count(),
        AccessLogEntry.objects.count(),
    ]


def transcribe(place, college_student_ids, actor=None, transcribed_on=TODAY):
    return transcription.enrollments_transcribe(
        actor=actor or place.registrar,
        college_student_ids=college_student_ids,
        transcribed_on=transcribed_on,
    )


# --- marking credits transcribed ------------------------------------------------------------


def test_the_ticked_credits_are_marked_and_the_students_told(
    here, ready, django_capture_on_commit_callbacks
):
    first, second = ready
    posted = datetime.date(2026, 11, 30)
    with django_capture_on_commit_callbacks(execute=True):
        count = transcribe(here, {first.pk: " ctc-0001 ", second.pk: "ctc-0002"}, None, posted)
    assert count == 2
    first.refresh_from_db()
    assert (first.status, first.college_student_id, first.transcribed_on) == (
        S.TRANSCRIBED,
        "ctc-0001",
        posted,
    )
    assert Enrollment.objects.get(pk=second.pk).college_student_id == "ctc-0002"
    change = EnrollmentStatusChange.objects.filter(enrollment=first).latest("pk")
    assert (change.from_status, change.to_status, change.changed_by) == (
        S.ATTAINED,
        S.TRANSCRIBED,
        here.registrar,
    )
    entry = AccessLogEntry.objects.get()
    assert (entry.what, entry.role, entry.actor) == (
        "credit transcribed",
        "registrar",
        here.registrar,
    )
    assert set(entry.students.values_list("student_id", flat=True)) == {
        first.student_id,
        second.student_id,
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        e.student.user.email for e in (first, second)
    )
    assert all(
        m.subject == f"Your credit is on your {here.college.name} transcript" for m in mail.outbox
    )


@pytest.mark.parametrize(
    ("ids", "transcribed_on", "expected"),
    [
        ("none", TODAY, ["Tick at least one enrollment to mark transcribed."]),
        (
            "all",
            TODAY + datetime.timedelta(days=1),
            {"transcribed_on": ["The posting date cannot be in the future."]},
        ),
        (
            "one blank",
            TODAY,
            {"college_student_id": ["Enter the college student id of every ticked student."]},
        ),
        (
            # Never cut to the 30 characters the field holds: refused with the limit.
            "one too long",
            TODAY,
            {
                "college_student_id": [
                    "College student ID: Ensure this value has at most 30 characters (it has 31)."
                ]
            },
        ),
        (
            "one with a NUL",
            TODAY,
            {"college_student_id": ["College student ID: Null characters are not allowed."]},
        ),
    ],
)
def test_wrong_input_marks_nothing(here, ready, ids, transcribed_on, expected):
    first, second = ready
    college_ids = {
        "none": {},
        "all": {first.pk: "C1", second.pk: "C2"},
        "one blank": {first.pk: "C1", second.pk: "  "},
        "one too long": {first.pk: "C1", second.pk: "C" * 31},
        "one with a NUL": {first.pk: "C1", second.pk: "C\x002"},
    }[ids]
    before = rows()
    with pytest.raises(ValidationError) as refused:
        transcribe(here, college_ids, transcribed_on=transcribed_on)
    if isinstance(expected, dict):
        assert refused.value.message_dict == expected
    else:
        assert refused.value.messages == expected
    assert rows() == before


def test_one_credit_not_ready_marks_none_of_them(here, ready, django_capture_on_commit_callbacks):
    unpaid = advance(here.enrollments[2], S.ATTAINED)
    before = rows()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        transcribe(here, {ready[0].pk: "1", ready[1].pk: "2", unpaid.pk: "3"})
    assert refused.value.messages == [
        "Nothing was marked: 1 of the ticked enrollments are not ready to transcribe (or not "
        "at your college). Reload the queue and try again."
    ]
    assert rows() == before
    assert mail.outbox == []


def test_a_registrar_of_another_college_marks_nothing(here, there, ready):
    before = rows()
    with pytest.raises(ValidationError) as refused:
        transcribe(here, {e.pk: "C" for e in ready}, actor=there.registrar)
    assert "Nothing was marked: 2 of the ticked enrollments" in refused.value.messages[0]
    assert rows() == before


@pytest.mark.parametrize("who", ["teacher", "admin", "specialist"])
def test_only_registrars_transcribe(here, ready, who):
    before = rows()
    with pytest.raises(PermissionDenied):
        transcribe(here, {e.pk: "C" for e in ready}, actor=getattr(here, who))
    assert rows() == before


# --- the earliest posting date ----------------------------------------------------------------


def complete_class(place, on: datetime.date) -> None:
    """Mark `place`'s class complete at noon (site time) on `on`."""
    noon = timezone.make_aware(datetime.datetime.combine(on, datetime.time(12)))
    Section.objects.filter(pk=place.section.pk).update(
        completed_at=noon, completed_by=place.section.teacher
    )


@pytest.mark.parametrize(
    ("completed_on", "posted_on", "earliest"),
    [
        # The class was marked complete (its credits attained) on 20 November.
        (datetime.date(2026, 11, 20), datetime.date(2026, 11, 19), datetime.date(2026, 11, 20)),
        (datetime.date(2026, 11, 20), datetime.date(1, 1, 1), datetime.date(2026, 11, 20)),
        # Not recorded: not before the class's school year started (1 July 2026).
        (None, datetime.date(2026, 6, 30), datetime.date(2026, 7, 1)),
        (None, datetime.date(1, 1, 1), datetime.date(2026, 7, 1)),
    ],
)
def test_a_posting_date_before_the_credit_was_attained_marks_nothing(
    here, ready, completed_on, posted_on, earliest
):
    if completed_on:
        complete_class(here, completed_on)
    before = rows()
    with pytest.raises(ValidationError) as refused:
        transcribe(here, {e.pk: "C" for e in ready}, transcribed_on=posted_on)
    assert refused.value.code == "date_before_attained"
    assert refused.value.messages == [
        "The posting date cannot be before the credits were attained: 2 of them need "
        f"{formats.date_format(earliest)} or later."
    ]
    assert rows() == before


@pytest.mark.parametrize(
    ("completed_on", "posted_on"),
    [(datetime.date(2026, 11, 20), datetime.date(2026, 11, 20)), (None, datetime.date(2026, 7, 1))],
)
def test_the_day_the_credit_was_attained_is_a_good_posting_date(
    here, ready, completed_on, posted_on
):
    if completed_on:
        complete_class(here, completed_on)
    assert transcribe(here, {ready[0].pk: "C1"}, transcribed_on=posted_on) == 1
    assert Enrollment.objects.get(pk=ready[0].pk).transcribed_on == posted_on


def test_one_credit_too_early_is_named_alone(here, ready):
    """The message of the registrar's form for one credit."""
    complete_class(here, datetime.date(2026, 11, 20))
    with pytest.raises(ValidationError) as refused:
        transcribe(here, {ready[0].pk: "C1"}, transcribed_on=datetime.date(2026, 11, 1))
    assert refused.value.messages == [
        "The posting date cannot be before the credit was attained: give "
        f"{formats.date_format(datetime.date(2026, 11, 20))} or later."
    ]


# --- undoing a transcription ----------------------------------------------------------------


def test_an_undo_with_a_reason_takes_the_credit_back_off(here, ready):
    enrollment = ready[0]
    transcribe(here, {enrollment.pk: "C1"})
    undone = transcription.enrollment_transcription_undo(
        actor=here.registrar, enrollment_id=enrollment.pk, reason="  Posted to the wrong term "
    )
    assert (undone.status, undone.transcribed_on) == (S.ATTAINED, None)
    change = EnrollmentStatusChange.objects.filter(enrollment=enrollment).latest("pk")
    assert (change.from_status, change.to_status, change.reason) == (
        S.TRANSCRIBED,
        S.ATTAINED,
        "Posted to the wrong term",
    )
    assert AccessLogEntry.objects.latest("pk").what == "transcription undone"


def test_the_last_allowed_day_is_still_inside(here, ready):
    enrollment = ready[0]
    transcribe(here, {enrollment.pk: "C1"})
    last_day = rules.transcription_undo_until(Enrollment.objects.get(pk=enrollment.pk))
    transcription.enrollment_transcription_undo(
        actor=here.registrar, enrollment_id=enrollment.pk, reason="Oops", today=last_day
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == S.ATTAINED


def test_undo_is_refused_after_the_allowed_days(here, ready):
    enrollment = ready[0]
    transcription.enrollments_transcribe(
        actor=here.registrar, college_student_ids={enrollment.pk: "C1"}, transcribed_on=TODAY
    )
    # The allowed days run from when the credit was marked (the real clock), not from TODAY.
    marked = Enrollment.objects.get(pk=enrollment.pk)
    late = rules.transcription_undo_until(marked) + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        transcription.enrollment_transcription_undo(
            actor=here.registrar, enrollment_id=enrollment.pk, reason="Oops", today=late
        )
    assert refused.value.code == "undo_expired"
    assert Enrollment.objects.get(pk=enrollment.pk).status == S.TRANSCRIBED


def test_an_undo_needs_a_reason_and_a_transcribed_credit(here, ready):
    transcribed, attained = ready
    transcribe(here, {transcribed.pk: "C1"})
    before = rows()
    with pytest.raises(ValidationError) as refused:
        transcription.enrollment_transcription_undo(
            actor=here.registrar, enrollment_id=transcribed.pk, reason="   "
        )
    assert refused.value.message_dict == {
        "reason": ["Give a reason for undoing the transcription."]
    }
    with pytest.raises(ValidationError) as refused:
        transcription.enrollment_transcription_undo(
            actor=here.registrar, enrollment_id=attained.pk, reason="Oops"
        )
    assert refused.value.messages == ["This enrollment is not marked transcribed."]
    assert rows() == before


@pytest.mark.parametrize(
    ("who", "refusal"), [("registrar there", Http404), ("admin here", PermissionDenied)]
)
def test_only_a_registrar_of_the_college_undoes(here, there, ready, who, refusal):
    enrollment = ready[0]
    transcribe(here, {enrollment.pk: "C1"})
    actor = there.registrar if who == "registrar there" else here.admin
    before = rows()
    with pytest.raises(refusal):
        transcription.enrollment_transcription_undo(
            actor=actor, enrollment_id=enrollment.pk, reason="Oops"
        )
    assert rows() == before


def test_a_class_completed_on_a_host_whose_clock_runs_ahead_does_not_refuse_today():
    """Several web hosts: the completion stamp may be a moment past this host's midnight.
    The earliest posting day is never after today here."""
    tomorrow_early = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time(0, 0, 1)
        )
    )
    assert (
        transcription.earliest_transcription_date(tomorrow_early, datetime.date(2026, 7, 1))
        == timezone.localdate()
    )
