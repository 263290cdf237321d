"""Tests of enrollment.services.duplicates: the statewide duplicate check."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from enrollment.models import PossibleDuplicate
from enrollment.services import duplicate_checks, duplicates
from tests.factories import StudentProfileFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(2009, 3, 4)


def student(place, first, last, born=BORN, **more):
    return StudentProfileFactory(
        high_school=place.school,
        legal_first_name=first,
        legal_last_name=last,
        birth_date=born,
        **more,
    )


def queued() -> dict:
    return {
        frozenset((p.student_id, p.existing_student_id)): p for p in PossibleDuplicate.objects.all()
    }


def test_the_check_finds_likely_pairs_across_consortia_with_reasons(here, there):
    jon = student(here, "Jonathan", "Smith")
    jonny = student(there, "Jon", "Smith")  # moved to another consortium
    swapped = student(here, "Nguyen", "Anh", born=datetime.date(2008, 6, 1))
    anh = student(there, "Anh", "Nguyen", born=datetime.date(2008, 6, 1))
    typed = student(here, "Ana", "Reyes", born=datetime.date(2009, 5, 1))
    ana = student(there, "Ana", "Reyes", born=datetime.date(2009, 1, 5))
    twin = student(here, "Maria", "Smith")  # Jonathan's twin sister
    other_gender = student(here, "Daniela", "Okafor", phone="509-555-0100")
    brother = student(here, "Daniel", "Okafor", phone="509-555-0100", born=BORN)
    other_gender.birth_date = BORN
    other_gender.save(update_fields=["birth_date"])

    summary = duplicates.duplicate_check()

    pairs = queued()
    assert set(pairs) == {
        frozenset((jon.pk, jonny.pk)),
        frozenset((swapped.pk, anh.pk)),
        frozenset((typed.pk, ana.pk)),
    }
    assert summary.new_pairs == 3
    nickname = pairs[frozenset((jon.pk, jonny.pk))]
    assert (nickname.student_id, nickname.existing_student_id) == (jonny.pk, jon.pk)
    assert nickname.source == PossibleDuplicate.Source.STATEWIDE
    assert {"given_nickname", "family_same", "birth_date_same"} <= set(nickname.reasons)
    assert nickname.score is not None
    assert "names_swapped" in pairs[frozenset((swapped.pk, anh.pk))].reasons
    assert "birth_date_swapped" in pairs[frozenset((typed.pk, ana.pk))].reasons
    found = {pk for pair in pairs for pk in pair}
    assert not {twin.pk, other_gender.pk, brother.pk} & found


def test_pairs_already_queued_or_reviewed_are_not_queued_again(here, there):
    jon = student(here, "Jonathan", "Smith")
    jonny = student(there, "Jon", "Smith")
    reviewed = PossibleDuplicate.objects.create(
        student=jon,  # the other order
        existing_student=jonny,
        match_kind="variant",
        source="sign_up",
        status=PossibleDuplicate.Status.DIFFERENT_PEOPLE,
        reviewed_at=timezone.now(),
    )
    assert duplicates.duplicate_check().new_pairs == 0
    assert list(PossibleDuplicate.objects.all()) == [reviewed]


def test_merged_records_are_left_out(here):
    kept = student(here, "Jonathan", "Smith")
    merged = student(here, "Jonathan", "Smith", merged_into=kept)
    assert merged.merged_into_id == kept.pk
    summary = duplicates.duplicate_check()
    assert summary.students == len(here.students) + 1
    assert not PossibleDuplicate.objects.exists()


def test_one_run_at_a_time_and_the_last_run_is_kept(here):
    student(here, "Jonathan", "Smith")
    student(here, "Jon", "Smith")
    cache.add(duplicates.LOCK_KEY, True)
    assert duplicates.duplicate_check().skipped
    assert not PossibleDuplicate.objects.exists()
    cache.delete(duplicates.LOCK_KEY)
    summary = duplicates.duplicate_check()
    assert summary.new_pairs == 1
    status = duplicates.duplicate_check_status()
    assert status["state"] == "done"
    assert status["new_pairs"] == 1
    assert duplicates.duplicate_check().new_pairs == 0  # no repeats


def test_a_consortium_asking_for_a_check_runs_the_statewide_one(
    here, there, django_capture_on_commit_callbacks
):
    """Students move: staff of one consortium asking find pairs across consortia."""
    student(here, "Jonathan", "Smith")
    student(there, "Jon", "Smith")
    with django_capture_on_commit_callbacks(execute=True):
        _state, queued = duplicate_checks.duplicate_check_request()
    assert queued
    state = duplicate_checks.duplicate_check_state()
    assert (state.running, state.new_pairs) == (False, 1)


def test_a_message_queued_by_the_earlier_release_runs_the_statewide_check(here, there):
    from enrollment.tasks import scan_for_duplicates

    student(here, "Jonathan", "Smith")
    student(there, "Jon", "Smith")
    assert scan_for_duplicates.delay(here.consortium.pk).get()["new_pairs"] == 1


def test_the_nightly_task_runs_the_check(here):
    from enrollment.tasks import check_for_duplicates

    student(here, "Jonathan", "Smith")
    student(here, "Jon", "Smith")
    assert check_for_duplicates.delay().get()["new_pairs"] == 1


def test_the_check_is_scheduled_nightly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["enrollment-statewide-duplicate-check"]
    assert entry["task"] == "enrollment.tasks.check_for_duplicates"
