"""Tests of enrollment.services.merging: dismissing a pair, merging (the duplicate check
itself: test_duplicates.py)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accesslog.models import AccessLogEntry
from accounts.models import User
from enrollment.models import (
    Enrollment,
    EnrollmentStatusChange,
    Fee,
    PossibleDuplicate,
    StudentMerge,
    StudentProfile,
)
from enrollment.services import merging
from tests.factories import StudentProfileFactory
from tests.world import S

pytestmark = pytest.mark.django_db


def rows() -> list:
    """The students, their enrollments, fees, history, pairs and merges, and the change log:
    to show nothing moved."""
    return [
        sorted(StudentProfile.objects.values_list("pk", "merged_into", "birth_date")),
        sorted(User.objects.values_list("pk", "is_active")),
        sorted(Enrollment.objects.values_list("pk", "student", "status")),
        sorted(Fee.objects.values_list("pk", "student", "status")),
        sorted(PossibleDuplicate.objects.values_list("pk", "student", "status")),
        EnrollmentStatusChange.objects.count(),
        StudentMerge.objects.count(),
        AccessLogEntry.objects.count(),
    ]


# --- dismissing a pair ----------------------------------------------------------------------


def test_a_pair_of_different_people_is_dismissed_once(here, twin_records):
    kept, copy, _moved = twin_records
    pair = PossibleDuplicate.objects.create(
        student=copy, existing_student=kept, match_kind="same", source="sign_up"
    )
    merging.possible_duplicate_dismiss(actor=here.admin, duplicate_id=pair.pk)
    pair.refresh_from_db()
    assert (pair.status, pair.reviewed_by) == (
        PossibleDuplicate.Status.DIFFERENT_PEOPLE,
        here.admin,
    )
    assert pair.reviewed_at is not None
    entry = AccessLogEntry.objects.get()
    assert entry.what == "duplicate pair: different people"
    assert set(entry.students.values_list("student_id", flat=True)) == {kept.pk, copy.pk}

    before = rows()
    with pytest.raises(ValidationError) as refused:
        merging.possible_duplicate_dismiss(actor=here.admin, duplicate_id=pair.pk)
    assert refused.value.messages == ["This pair has been reviewed already."]
    assert rows() == before


# --- merging --------------------------------------------------------------------------------


def test_a_merge_moves_the_records_and_closes_the_other_account(here, twin_records):
    kept, copy, moved = twin_records
    record = merging.students_merge(
        actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="  Signed up twice "
    )
    assert (record.survivor, record.merged, record.merged_by, record.reason) == (
        kept,
        copy,
        here.admin,
        "Signed up twice",
    )
    assert Enrollment.objects.get(pk=moved.pk).student == kept
    merge_row = EnrollmentStatusChange.objects.filter(enrollment=moved).latest("pk")
    assert (merge_row.kind, merge_row.from_status, merge_row.to_status, merge_row.changed_by) == (
        EnrollmentStatusChange.Kind.MERGE,
        S.REGISTERED,
        S.REGISTERED,
        here.admin,
    )
    assert StudentProfile.objects.get(pk=copy.pk).merged_into == kept
    assert User.objects.get(pk=copy.user_id).is_active is False
    entry = AccessLogEntry.objects.get(what="merge of duplicate student records")
    assert (entry.actor, entry.role) == (here.admin, "consortium_admin")
    assert set(entry.students.values_list("student_id", flat=True)) == {kept.pk, copy.pk}


def test_a_merged_record_cannot_be_merged_again(here, twin_records):
    kept, copy, _moved = twin_records
    merging.students_merge(actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="x")
    with pytest.raises(ValidationError):
        merging.students_merge(
            actor=here.admin, survivor_id=here.students[1].pk, merged_id=copy.pk, reason="x"
        )


def test_the_queued_pair_is_settled_by_the_merge(here, twin_records):
    kept, copy, _moved = twin_records
    pair = PossibleDuplicate.objects.create(
        student=copy, existing_student=kept, match_kind="same", source="sign_up"
    )
    third = StudentProfileFactory(high_school=here.school)
    other = PossibleDuplicate.objects.create(
        student=third, existing_student=copy, match_kind="close", source="sign_up"
    )
    merging.students_merge(actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="x")
    pair.refresh_from_db()
    other.refresh_from_db()
    assert pair.status == "merged"
    assert (other.status, other.existing_student) == ("open", kept)


def test_an_undecided_conflict_merges_nothing(here, twin_records):
    kept, copy, _moved = twin_records
    StudentProfile.objects.filter(pk=copy.pk).update(birth_date=datetime.date(2009, 12, 31))
    before = rows()
    with pytest.raises(merging.MergeRefused) as refused:
        merging.students_merge(
            actor=here.admin,
            survivor_id=kept.pk,
            merged_id=copy.pk,
            reason="Same student",
            decisions={"birth_date": "neither"},
        )
    assert refused.value.code == "merge_conflict"
    assert refused.value.messages == ["Nothing was merged: decide each conflict below first."]
    assert [c.key for c in refused.value.conflicts] == ["birth_date"]
    assert rows() == before


@pytest.mark.parametrize(
    ("reason", "same", "messages"),
    [
        ("  ", False, ["Say why these two records are the same student."]),
        ("Same", True, ["Choose two different records."]),
    ],
    ids=["no-reason", "one-record"],
)
def test_a_merge_needs_a_reason_and_two_records(here, twin_records, reason, same, messages):
    kept, copy, _moved = twin_records
    before = rows()
    with pytest.raises(ValidationError) as refused:
        merging.students_merge(
            actor=here.admin,
            survivor_id=kept.pk,
            merged_id=kept.pk if same else copy.pk,
            reason=reason,
        )
    assert refused.value.messages == messages
    assert rows() == before


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("teacher", PermissionDenied),
        ("specialist", PermissionDenied),
        ("registrar", PermissionDenied),
        ("admin there", Http404),
    ],
)
def test_only_a_consortium_admin_of_both_records_merges(here, there, twin_records, who, refusal):
    kept, copy, _moved = twin_records
    actor = there.admin if who == "admin there" else getattr(here, who)
    before = rows()
    with pytest.raises(refusal):
        merging.students_merge(actor=actor, survivor_id=kept.pk, merged_id=copy.pk, reason="x")
    assert rows() == before
