"""The annual roll-over: preview, the rule for what lapses, an idempotent background run."""

import datetime

import pytest
from django.urls import reverse

from articulations.models import Articulation, ArticulationStatusChange, RolloverRun
from articulations.selectors import rollover_plan
from articulations.services import rollover
from articulations.services.drafts import articulation_revise
from organisations.models import AcademicYear
from tests.factories import AcademicYearFactory
from tests.world import add_teacher

from .conftest import history

pytestmark = pytest.mark.django_db
S = Articulation.Status
ROLLOVER = reverse("articulations:rollover")


@pytest.fixture
def mixed(world):
    """One agreement for every outcome of a roll-over from 2026-27."""
    invited = add_teacher(world.school, is_active=False)
    elsewhere = add_teacher(world.other_school)
    return {
        "renews": world.active,
        "not_renewing": world.articulation(renew_each_year=False),
        "retired_course": world.articulation(),
        "invited_teacher_only": world.articulation(teachers=[invited]),
        "teacher_elsewhere": world.articulation(teachers=[elsewhere]),
        "draft": world.articulation(status=S.DRAFT),
        "old": world.articulation(valid_years=[world.last_year]),
    }


def test_plan_lists_what_renews_and_what_lapses_with_reasons(world, mixed):
    mixed["retired_course"].college_courses.update(is_active=False)
    plan = rollover_plan(consortium_id=world.consortium.pk, from_year=world.year, to_year=None)
    assert [i.articulation for i in plan.renew] == [mixed["renews"]]
    reasons = {i.articulation.pk: i.reasons for i in plan.lapse}
    assert reasons[mixed["not_renewing"].pk] == ["Marked not to renew."]
    assert "no longer offered" in reasons[mixed["retired_course"].pk][0]
    assert "No qualified teacher" in reasons[mixed["invited_teacher_only"].pk][0]
    assert "No qualified teacher" in reasons[mixed["teacher_elsewhere"].pk][0]
    assert mixed["draft"].pk not in reasons
    assert mixed["old"].pk not in reasons
    # 2025-26 ended before today: that agreement is marked expired by the run.
    assert plan.expire == [mixed["old"]]


def test_rollover_is_idempotent(world, mixed):
    mixed["retired_course"].college_courses.update(is_active=False)
    before_years = {a.pk: set(a.valid_years.all()) for a in Articulation.objects.all()}
    next_year = rollover.academic_year_next(year=world.year)
    assert next_year.code == "2027-28"
    assert next_year.start_date == datetime.date(2027, 7, 1)
    first = rollover.rollover_apply(
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
        actor=world.admin,
    )
    assert (first.renewed, first.already_renewed, first.lapsed, first.expired) == (1, 0, 4, 1)
    assert next_year in mixed["renews"].valid_years.all()
    for key in ("not_renewing", "retired_course", "invited_teacher_only", "draft"):
        assert set(mixed[key].valid_years.all()) == before_years[mixed[key].pk]
    mixed["old"].refresh_from_db()
    assert mixed["old"].status == S.EXPIRED
    assert history(mixed["old"]) == [(S.ACTIVE, S.EXPIRED)]
    snapshot = (
        sorted(
            Articulation.valid_years.through.objects.values_list(
                "articulation_id", "academicyear_id"
            )
        ),
        sorted(Articulation.objects.values_list("pk", "status")),
        ArticulationStatusChange.objects.count(),
        AcademicYear.objects.count(),
    )
    second = rollover.rollover_apply(
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
        actor=world.admin,
    )
    assert (second.renewed, second.already_renewed, second.expired) == (0, 1, 0)
    assert snapshot == (
        sorted(
            Articulation.valid_years.through.objects.values_list(
                "articulation_id", "academicyear_id"
            )
        ),
        sorted(Articulation.objects.values_list("pk", "status")),
        ArticulationStatusChange.objects.count(),
        AcademicYear.objects.count(),
    )


def test_a_revision_in_progress_is_renewed_with_its_agreement(world):
    revision = articulation_revise(articulation_id=world.active.pk, actor=world.admin)
    next_year = rollover.academic_year_next(year=world.year)
    rollover.rollover_apply(
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
        actor=world.admin,
    )
    assert next_year in revision.valid_years.all()


def test_only_the_consortium_own_agreements_roll_over(world, outsider_admin):
    from tests.factories import ArticulationFactory

    other = ArticulationFactory(valid_years=[world.year])
    next_year = rollover.academic_year_next(year=world.year)
    rollover.rollover_apply(
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
        actor=world.admin,
    )
    assert next_year not in other.valid_years.all()


def test_the_next_year_is_reused_when_it_exists(world):
    existing = AcademicYearFactory(start_year=2027)
    assert rollover.academic_year_next(year=world.year) == existing


def test_request_runs_the_job_and_records_it(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = rollover.rollover_request(
            actor=world.admin, consortium_id=world.consortium.pk, from_year_id=world.year.pk
        )
    run.refresh_from_db()
    assert run.status == RolloverRun.Status.DONE
    assert run.to_year.code == "2027-28"
    assert (run.renewed_count, run.lapsed_count, run.requested_by) == (1, 0, world.admin)
    assert run.finished_at is not None
    # A job delivered twice does the work once.
    assert rollover.rollover_run(run_id=run.pk).renewed_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = rollover.rollover_request(
            actor=world.admin, consortium_id=world.consortium.pk, from_year_id=world.year.pk
        )
    again.refresh_from_db()
    assert (again.renewed_count, again.already_renewed_count) == (0, 1)


def test_a_failed_run_is_recorded_and_nothing_changes(world, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    run = RolloverRun.objects.create(
        consortium=world.consortium,
        from_year=world.year,
        to_year=rollover.academic_year_next(year=world.year),
        requested_by=world.admin,
    )
    monkeypatch.setattr(rollover, "rollover_apply", broken)
    run = rollover.rollover_run(run_id=run.pk)
    assert run.status == RolloverRun.Status.FAILED
    assert run.error == "RuntimeError"


# ---------------------------------------------------------------------------------------
# Views


def test_preview_page(client, world, mixed):
    client.force_login(world.admin)
    response = client.get(ROLLOVER)
    assert response.status_code == 200
    content = response.content.decode()
    assert "2027-28" in content
    assert "does not exist yet" in content
    assert "Marked not to renew." in content
    assert "No qualified teacher with an active account" in content
    assert not AcademicYear.objects.filter(code="2027-28").exists()  # a preview writes nothing


def test_run_from_the_page(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ROLLOVER, {"consortium": world.consortium.pk, "from_year": "2026-27"}
        )
    assert response.status_code == 302
    run = RolloverRun.objects.get()
    assert run.status == RolloverRun.Status.DONE
    page = client.get(response.url).content.decode()
    assert "Already renewed" in page
    assert 'hx-trigger="every 3s"' not in page  # nothing left to poll for


def test_runs_fragment_polls_while_a_run_is_queued(client, world):
    RolloverRun.objects.create(
        consortium=world.consortium,
        from_year=world.year,
        to_year=rollover.academic_year_next(year=world.year),
        requested_by=world.admin,
    )
    client.force_login(world.admin)
    fragment = reverse("articulations:rollover_runs")
    response = client.get(
        fragment, {"consortium": world.consortium.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b'hx-trigger="every 3s"' in response.content
    # Without HTMX it sends people to the full page.
    assert client.get(fragment, {"consortium": world.consortium.pk}).status_code == 302


def test_rollover_anonymous_wrong_role_outsider(client, world, outsider_admin):
    assert client.get(ROLLOVER).status_code == 302
    client.force_login(world.approver)
    assert client.get(ROLLOVER).status_code == 403
    assert (
        client.post(
            ROLLOVER, {"consortium": world.consortium.pk, "from_year": "2026-27"}
        ).status_code
        == 403
    )
    client.force_login(outsider_admin)
    # Another consortium cannot be chosen: the form refuses it, and nothing runs.
    response = client.post(ROLLOVER, {"consortium": world.consortium.pk, "from_year": "2026-27"})
    assert response.status_code == 200
    assert "consortium" in response.context["form"].errors
    assert not RolloverRun.objects.exists()


def test_preview_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.admin)
    with django_assert_max_num_queries(24) as few:
        client.get(ROLLOVER)
    for _ in range(10):
        world.articulation(teachers=[add_teacher(world.school)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(ROLLOVER)
