"""Tests of enrollment.services.rosters: teachers confirm students and take them off."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accesslog.models import AccessLogEntry
from enrollment.models import Enrollment, EnrollmentStatusChange
from enrollment.services import grading, rosters
from tests.world import S, add_teacher, advance

pytestmark = pytest.mark.django_db


def statuses(place):
    return [Enrollment.objects.get(pk=e.pk).status for e in place.enrollments]


def changes():
    return list(
        AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE)
        .order_by("id")
        .prefetch_related("students")
    )


def students_of(entry):
    return {link.student_id for link in entry.students.all()}


def rows_of(place) -> list:
    """The class's enrollments, their history and the change log: to show nothing moved."""
    return [
        sorted(
            Enrollment.objects.filter(section=place.section).values_list(
                "pk", "status", "status_changed_at"
            )
        ),
        EnrollmentStatusChange.objects.count(),
        AccessLogEntry.objects.count(),
    ]


def last_change(enrollment):
    return EnrollmentStatusChange.objects.filter(enrollment=enrollment).latest("pk")


def complete(place):
    place.section.completed_at = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    place.section.completed_by = place.teacher
    place.section.save()


# --- confirming -----------------------------------------------------------------------------


def test_confirming_the_class_confirms_every_student_still_waiting(here):
    first, second, third = here.enrollments
    advance(second, S.CONFIRMED)
    Enrollment.objects.filter(pk=third.pk).update(status=S.WITHDRAWN)
    assert rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk) == 1
    assert statuses(here) == [S.CONFIRMED, S.CONFIRMED, S.WITHDRAWN]
    change = last_change(first)
    assert (change.from_status, change.to_status, change.changed_by) == (
        S.REGISTERED,
        S.CONFIRMED,
        here.teacher,
    )
    (entry,) = changes()
    assert (entry.what, students_of(entry)) == ("roster confirmed", {first.student_id})


def test_confirming_a_class_with_nobody_waiting_does_nothing(here):
    for enrollment in here.enrollments:
        advance(enrollment, S.CONFIRMED)
    before = rows_of(here)
    assert rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk) == 0
    assert rows_of(here) == before


def test_confirming_the_ticked_students_only(here):
    first, _second, third = here.enrollments
    count = rosters.roster_confirm(
        actor=here.teacher, section_id=here.section.pk, enrollment_ids=[str(first.pk), third.pk]
    )
    assert count == 2
    assert statuses(here) == [S.CONFIRMED, S.REGISTERED, S.CONFIRMED]


@pytest.mark.parametrize(
    ("ticked", "message"),
    [
        ("nobody", "Tick at least one student to confirm."),
        (
            "one removed",
            "Some of the ticked students are no longer waiting for confirmation.",
        ),
        (
            "another class",
            "Some of the ticked students are no longer waiting for confirmation.",
        ),
    ],
)
def test_a_wrong_tick_confirms_nobody(here, there, ticked, message):
    first, second, _third = here.enrollments
    rosters.roster_remove(actor=here.teacher, enrollment_id=second.pk, reason_code="dropped")
    ids = {
        "nobody": [],
        "one removed": [first.pk, second.pk],
        "another class": [first.pk, there.enrollments[0].pk],
    }[ticked]
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk, enrollment_ids=ids)
    assert refused.value.messages == [message]
    assert rows_of(here) == before
    assert Enrollment.objects.get(pk=there.enrollments[0].pk).status == S.REGISTERED


def test_bulk_confirm_rolls_back_when_one_change_fails(here, monkeypatch):
    # Every status is written, then the history write fails.
    def failing(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(EnrollmentStatusChange.objects, "bulk_create", failing)
    with pytest.raises(RuntimeError):
        rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk)
    assert statuses(here) == [S.REGISTERED] * 3
    assert not EnrollmentStatusChange.objects.filter(to_status=S.CONFIRMED).exists()


def test_a_change_that_fails_half_way_leaves_no_entry(here, monkeypatch):
    """The entry is written in the change's transaction: no change, no entry."""

    # Every status is written, then the history write fails.
    def failing(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(EnrollmentStatusChange.objects, "bulk_create", failing)
    with pytest.raises(RuntimeError):
        rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk)
    assert changes() == []
    assert set(Enrollment.objects.values_list("status", flat=True)) == {S.REGISTERED}


# --- taking a student off the roster --------------------------------------------------------


def test_removal_records_the_reason_and_the_note(here):
    enrollment = here.enrollments[0]
    removed = rosters.roster_remove(
        actor=here.teacher,
        enrollment_id=enrollment.pk,
        reason_code="not_in_class",
        note="  Third period, not fourth ",
    )
    assert removed.status == S.REMOVED
    change = last_change(enrollment)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        S.REGISTERED,
        S.REMOVED,
        "Not in my class: Third period, not fourth",
        here.teacher,
    )
    (entry,) = changes()
    assert (entry.what, students_of(entry)) == ("removed from class", {enrollment.student_id})


@pytest.mark.parametrize("reason_code", sorted(rosters.REMOVAL_REASONS))
def test_each_reason_is_recorded_in_words(here, reason_code):
    enrollment = advance(here.enrollments[0], S.CONFIRMED)
    rosters.roster_remove(actor=here.teacher, enrollment_id=enrollment.pk, reason_code=reason_code)
    assert last_change(enrollment).reason == str(rosters.REMOVAL_REASONS[reason_code])


def test_a_removal_needs_one_of_the_reasons(here):
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        rosters.roster_remove(
            actor=here.teacher, enrollment_id=here.enrollments[0].pk, reason_code="bored"
        )
    assert refused.value.message_dict == {"reason": ["Choose why the student is removed."]}
    assert rows_of(here) == before


@pytest.mark.parametrize("status", [S.GRADED, S.ATTAINED, S.WITHDRAWN])
def test_a_graded_or_departed_student_cannot_be_removed(here, status):
    enrollment = here.enrollments[0]
    if status == S.WITHDRAWN:
        Enrollment.objects.filter(pk=enrollment.pk).update(status=S.WITHDRAWN)
    else:
        advance(enrollment, status)
    before = rows_of(here)
    with pytest.raises(ValidationError) as refused:
        rosters.roster_remove(
            actor=here.teacher, enrollment_id=enrollment.pk, reason_code="dropped"
        )
    assert refused.value.messages == [
        "This student already has a grade or left the class, so they cannot be removed."
    ]
    assert rows_of(here) == before


# --- a complete class, another teacher ------------------------------------------------------


def test_the_roster_of_a_complete_class_is_final(here):
    complete(here)
    before = rows_of(here)
    final = "This class is marked complete; its roster is final."
    with pytest.raises(ValidationError) as refused:
        rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk)
    assert refused.value.messages == [final]
    with pytest.raises(ValidationError) as refused:
        rosters.roster_remove(
            actor=here.teacher, enrollment_id=here.enrollments[0].pk, reason_code="dropped"
        )
    assert refused.value.messages == [final]
    assert rows_of(here) == before


@pytest.mark.parametrize("who", ["another teacher", "the consortium admin", "the teacher there"])
def test_only_the_teacher_of_the_class_changes_its_roster(here, there, who):
    actor = {
        "another teacher": add_teacher(here.school),
        "the consortium admin": here.admin,
        "the teacher there": there.teacher,
    }[who]
    before = rows_of(here)
    with pytest.raises(PermissionDenied):
        rosters.roster_confirm(actor=actor, section_id=here.section.pk)
    with pytest.raises(PermissionDenied):
        rosters.roster_remove(
            actor=actor, enrollment_id=here.enrollments[0].pk, reason_code="dropped"
        )
    assert rows_of(here) == before


# --- the change log ------------------------------------------------------------------------


def test_roster_confirm_remove_and_complete_are_logged(here):
    first, second, third = here.enrollments
    rosters.roster_confirm(actor=here.teacher, section_id=here.section.pk)
    rosters.roster_remove(
        actor=here.teacher, enrollment_id=third.pk, reason_code=next(iter(rosters.REMOVAL_REASONS))
    )
    grading.grades_save(
        actor=here.teacher, section_id=here.section.pk, grades={first.pk: "A", second.pk: "D"}
    )
    grading.section_complete(actor=here.teacher, section_id=here.section.pk)
    whats = [(e.what, students_of(e)) for e in changes()]
    everyone = {e.student_id for e in here.enrollments}
    assert whats == [
        ("roster confirmed", everyone),
        ("removed from class", {third.student_id}),
        ("grades saved", {first.student_id, second.student_id}),
        ("class completed", {first.student_id, second.student_id}),
    ]
