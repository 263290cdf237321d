"""Agreement imports and the annual roll-over are all or nothing: a failure injected
half-way leaves every agreement, school year and history row as it was."""

from unittest import mock

import pytest

from articulations.models import Articulation, ArticulationStatusChange, RolloverRun
from articulations.services import bulk_import, rollover
from tests.articulations.test_import import as_csv, row, state
from tests.faults import InjectedFailure, failing_on_call

pytestmark = pytest.mark.django_db
S = Articulation.Status


def import_file(world, content: bytes):
    return bulk_import.articulation_import(
        actor=world.admin, consortium_id=world.consortium.pk, filename="a.csv", content=content
    )


def mixed_file(world) -> bytes:
    """Two new agreements (written in bulk) and two changed drafts (written row by row)."""
    return as_csv(
        [
            row(world, agreement_number="IMP-1", minimum_grade="3.5"),
            row(world, agreement_number="IMP-2", high_school_course="Auto 2", minimum_grade="3.5"),
            row(world, agreement_number="IMP-3", high_school_course="Auto 3"),
            row(world, agreement_number="IMP-4", high_school_course="Auto 4"),
        ]
    )


@pytest.fixture
def two_drafts(world):
    import_file(
        world,
        as_csv(
            [
                row(world, agreement_number="IMP-1"),
                row(world, agreement_number="IMP-2", high_school_course="Auto 2"),
            ]
        ),
    )


@pytest.mark.parametrize("failing_row", [1, 2])
def test_an_import_failing_on_a_row_writes_nothing(world, two_drafts, failing_row):
    before = state()
    real = bulk_import._import_write
    with (
        mock.patch.object(
            bulk_import, "_import_write", side_effect=failing_on_call(failing_row, real)
        ),
        pytest.raises(InjectedFailure),
    ):
        import_file(world, mixed_file(world))
    assert state() == before
    assert not Articulation.objects.filter(agreement_number__in=["IMP-3", "IMP-4"]).exists()

    result = import_file(world, mixed_file(world))
    assert (result.created, result.updated) == (2, 2)


def test_an_import_failing_after_the_bulk_write_writes_nothing(world, two_drafts):
    before = state()
    real = bulk_import._import_create_drafts

    def write_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise InjectedFailure("after the new drafts were written")

    with (
        mock.patch.object(bulk_import, "_import_create_drafts", side_effect=write_then_fail),
        pytest.raises(InjectedFailure),
    ):
        import_file(world, mixed_file(world))
    assert state() == before


@pytest.fixture
def rollover_world(world):
    """One agreement that renews and three whose last school year has ended."""
    old = [world.articulation(valid_years=[world.last_year]) for _ in range(3)]
    return world, old


def rollover_state() -> tuple:
    return (
        sorted(Articulation.objects.values_list("pk", "status")),
        sorted(
            Articulation.valid_years.through.objects.values_list(
                "articulation_id", "academicyear_id"
            )
        ),
        ArticulationStatusChange.objects.count(),
    )


@pytest.mark.parametrize("failing_row", [1, 2, 3])
def test_a_rollover_failing_on_an_agreement_changes_nothing(rollover_world, failing_row):
    world, old = rollover_world
    next_year = rollover.academic_year_next(year=world.year)
    before = rollover_state()
    real = rollover.articulation_change_status
    with (
        mock.patch.object(
            rollover, "articulation_change_status", side_effect=failing_on_call(failing_row, real)
        ),
        pytest.raises(InjectedFailure),
    ):
        rollover.rollover_apply(
            consortium_id=world.consortium.pk,
            from_year_id=world.year.pk,
            to_year_id=next_year.pk,
            actor=world.admin,
        )
    assert rollover_state() == before

    result = rollover.rollover_apply(
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
        actor=world.admin,
    )
    assert (result.renewed, result.expired) == (1, 3)
    assert world.active.valid_years.filter(pk=next_year.pk).exists()
    assert {a.status for a in Articulation.objects.filter(pk__in=[a.pk for a in old])} == {
        S.EXPIRED
    }


def test_the_background_run_records_the_failure_and_changes_nothing(rollover_world):
    world, _old = rollover_world
    run = RolloverRun.objects.create(
        consortium=world.consortium,
        from_year=world.year,
        to_year=rollover.academic_year_next(year=world.year),
        requested_by=world.admin,
    )
    before = rollover_state()
    real = rollover.articulation_change_status
    with mock.patch.object(
        rollover, "articulation_change_status", side_effect=failing_on_call(2, real)
    ):
        run = rollover.rollover_run(run_id=run.pk)
    assert run.status == RolloverRun.Status.FAILED
    assert rollover_state() == before
