"""The reports dashboard read from its precomputed aggregates (reports/aggregates.py): the
same numbers as counted live, for every table, breakdown, year and scope; "as of" on the
page; a rebuild after a change shows it; a fixed number of queries; the same access rules."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import access_for
from enrollment.models import EnrollmentStatus as S
from reports import tasks
from reports.aggregates import dashboard_aggregates_refresh
from reports.models import DashboardAggregate
from reports.selectors import dashboard as dashboard_selectors
from tests.factories import make_staff
from tests.world import (
    add_enrollment,
    add_fee,
    add_section,
    add_student,
    advance,
    enroll,
    school_year,
    settle_fee,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_wide(here, there, year):
    """Two consortia over two school years, enrollments at every step, fees paid, waived
    and unpaid, self-reported demographics, a student of `there` in `here`'s class (in
    both districts' reports), and a withdrawn registration (counted nowhere)."""
    earlier = school_year(2025)
    here.articulation.valid_years.add(earlier)
    old_class = add_section(here.articulation, school=here.school, year=earlier)
    for n, enrollment in enumerate(here.enrollments):
        advance(enrollment, (S.ATTAINED, S.NOT_ATTAINED, S.CONFIRMED)[n])
    settle_fee(here.enrollments[0])
    genders = ("female", "male", "", "nonbinary")
    races = ("hispanic", "white", "", "asian")
    steps = (S.ATTAINED, S.TRANSCRIBED, S.GRADED, S.ATTAINED, S.REGISTERED, S.NOT_ATTAINED)
    for n in range(14):
        enrollment = enroll(here, gender=genders[n % 4], race_ethnicity=races[n % 4])
        if steps[n % 6] != S.REGISTERED:
            advance(enrollment, steps[n % 6])
        if n % 3 == 0:
            settle_fee(enrollment)
        elif n % 3 == 1:
            fee = enrollment.student.fees.get()
            fee.status, fee.paid_amount, fee.paid_on = "paid", fee.amount, year.start_date
            fee.save()
    for n in range(11):
        student = add_student(here.school, gender=genders[n % 2])
        status = S.TRANSCRIBED if n == 0 else S.ATTAINED if n % 2 else S.NOT_ATTAINED
        add_enrollment(student, old_class, status)
        add_fee(student, here.consortium, earlier, "waived" if n % 4 else "paid")
        if n < 5:  # they take a class this year too: one student, two years
            add_enrollment(student, here.section)
    visitor = add_student(there.school, gender="female")  # of there, in here's class
    add_enrollment(visitor, here.section, S.ATTAINED)
    add_enrollment(add_student(there.school), there.section, S.WITHDRAWN)
    for _ in range(9):
        enroll(there)
    return earlier


def snapshot(table) -> list:
    rows = [*table.rows, *([table.total] if table.total else [])]
    return [
        [column.key for column in table.columns],
        *[(row.label, [(c.value, c.students, c.suppressed) for c in row.cells]) for row in rows],
    ]


def assert_same(stored, live, where) -> None:
    assert stored.as_of is not None
    assert live.as_of is None
    for name in ("breakdown", "year_cluster", "funnel"):
        assert snapshot(getattr(stored, name)) == snapshot(getattr(live, name)), (name, where)
    assert stored.summary == live.summary
    assert stored.charts == live.charts
    assert stored.scope_label == live.scope_label


def test_the_aggregates_equal_the_live_numbers_everywhere(here, there, year, state_wide):
    school_staff = make_staff(Role.CAREER_SPECIALIST, here.school)
    users = {
        "state": make_staff(Role.STATE_STAFF),
        "here's consortium": here.admin,
        "there's consortium": there.admin,
        "here's district": here.specialist,
        "there's district": there.specialist,
        "here's school": school_staff,
    }
    dashboard_aggregates_refresh()
    checked = 0
    for who, user in users.items():
        access = access_for(user)
        for year_id in (None, year.pk, state_wide.pk):
            for dimension in dashboard_selectors.DIMENSIONS:
                arguments = {"access": access, "academic_year_id": year_id, "dimension": dimension}
                stored = dashboard_selectors.dashboard_report(**arguments)
                live = dashboard_selectors.dashboard_report(**arguments, live=True)
                assert_same(stored, live, (who, year_id, dimension))
                checked += 1
    assert checked == 6 * 3 * 8
    # The numbers are not all hidden or empty: this compares something.
    state = dashboard_selectors.dashboard_report(
        access=access_for(users["state"]), academic_year_id=None, dimension="consortium"
    )
    assert (
        state.breakdown.total.cells[0].value == 3 + 14 + 11 + 1 + 1 + 9
    )  # here, the earlier year, visitor, there
    visible = [c for row in state.breakdown.rows for c in row.cells if not c.suppressed]
    assert visible


def test_the_visitor_counts_in_both_districts(here, there, year, state_wide):
    dashboard_aggregates_refresh()

    def enrollments(place):
        return (
            dashboard_selectors.dashboard_report(
                access=access_for(place.specialist), academic_year_id=year.pk, dimension="district"
            )
            .breakdown.total.cells[1]
            .value
        )

    assert enrollments(there) == 1 + 9 + 1  # their class, and their student in here's class
    assert enrollments(here) == 3 + 14 + 5 + 1  # with the visitor, taught here


def test_a_scope_of_several_units_is_counted_live(here, there, year, state_wide):
    both = make_staff(Role.CONSORTIUM_ADMIN, here.consortium)
    both.memberships.create(role=Role.CONSORTIUM_ADMIN, consortium=there.consortium)
    dashboard_aggregates_refresh()
    arguments = {"access": access_for(both), "academic_year_id": year.pk, "dimension": "college"}
    dashboard = dashboard_selectors.dashboard_report(**arguments)
    assert dashboard.as_of is None  # distinct students of two consortia: not stored
    live = dashboard_selectors.dashboard_report(**arguments, live=True)
    assert snapshot(dashboard.breakdown) == snapshot(live.breakdown)


def test_without_aggregates_the_dashboard_counts_live(here, year):
    state = access_for(make_staff(Role.STATE_STAFF))
    dashboard = dashboard_selectors.dashboard_report(
        access=state, academic_year_id=year.pk, dimension="consortium"
    )
    assert dashboard.as_of is None
    assert dashboard.breakdown.total.cells[1].value == 3


def test_a_rebuild_replaces_every_row_and_stamps_them(here, year):
    first = dashboard_aggregates_refresh()
    second = dashboard_aggregates_refresh()
    assert second["rows"] == first["rows"] == DashboardAggregate.objects.count()
    assert set(DashboardAggregate.objects.values_list("refreshed_at", flat=True)) == {
        second["as_of"]
    }


# --- the page -------------------------------------------------------------------------------


URL = reverse("reports:report_dashboard")


def test_the_page_says_as_of_when_and_how_often(client, here, year):
    client.force_login(make_staff(Role.STATE_STAFF))
    assert b"Figures as of" not in client.get(URL).content  # counted live: now

    dashboard_aggregates_refresh()
    response = client.get(URL)

    assert response.context["dashboard"].as_of is not None
    content = response.content.decode()
    minutes = settings.SERS_DASHBOARD_REFRESH_MINUTES
    assert "Figures as of" in content
    assert f"refreshed every {minutes} minutes." in content


def test_the_page_in_spanish_says_as_of(client, here, year):
    user = make_staff(Role.STATE_STAFF)
    client.force_login(user)
    dashboard_aggregates_refresh()
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="es")
    assert "Cifras al" in response.content.decode()


def test_a_refresh_after_a_change_shows_it(client, here, year):
    client.force_login(make_staff(Role.STATE_STAFF))
    for _ in range(10):
        enroll(here)
    dashboard_aggregates_refresh()

    def enrollments_total():
        page = client.get(URL + f"?academic_year={year.pk}&dimension=consortium")
        return page.context["dashboard"].breakdown.total.cells[1].value

    assert enrollments_total() == 13
    enroll(here)
    assert enrollments_total() == 13  # as of the last rebuild
    tasks.refresh_dashboard_aggregates.delay()  # as beat runs it (in-process in tests)
    assert enrollments_total() == 14


def test_the_page_reads_in_a_fixed_number_of_queries(
    client, here, there, year, django_assert_max_num_queries
):
    client.force_login(make_staff(Role.STATE_STAFF))
    dashboard_aggregates_refresh()
    client.get(URL)  # warm caches (session, content types); then 9 queries here
    with django_assert_max_num_queries(10) as few:
        client.get(URL + "?academic_year=&dimension=high_school")
    for _ in range(12):
        enroll(there)
    add_section(here.articulation, school=here.school, year=school_year(2024))
    dashboard_aggregates_refresh()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL + "?academic_year=&dimension=high_school")


def test_anonymous_and_wrong_roles(client, here):
    dashboard_aggregates_refresh()
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    for user in (here.teacher, here.registrar, here.students[0].user):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_beat_rebuilds_them_on_a_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["reports-dashboard-aggregates"]
    assert entry["task"] == "reports.tasks.refresh_dashboard_aggregates"
    assert entry["schedule"].total_seconds() == settings.SERS_DASHBOARD_REFRESH_MINUTES * 60
