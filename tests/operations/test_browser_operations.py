"""The operations page in chromium: on a 360 px phone, in Spanish, its tables become one
card per row (no sideways scrolling), it passes axe, and Retry works from the keyboard."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from operations.models import ScheduledJobRun
from reports.models import ReportJob
from tests.browser.axe import axe_check
from tests.factories import make_staff
from tests.world import build_place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_state_staff_read_the_page_on_a_phone_in_spanish_and_retry_a_job(
    phone_page, login, year, today
):
    place = build_place(year, name="Cascade", students=2)
    state = make_staff(Role.STATE_STAFF)
    failed = ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        college=place.college,
        status=ReportJob.Status.FAILED,
        requested_by=place.registrar,
        finished_at=timezone.now(),
    )
    ScheduledJobRun.objects.create(
        name="reports-expire-files",
        task="reports.tasks.expire_report_files",
        last_started_at=timezone.now(),
        last_succeeded_at=timezone.now(),
    )
    page = phone_page
    page.goto(reverse("home"))
    page.select_option("#language-select", "es")
    with page.expect_navigation():
        page.locator("footer button[type=submit]").press("Enter")
    login(page, state)
    page.goto(reverse("operations:home"))
    assert page.locator("h1").inner_text().strip() == "Operaciones"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The scheduled jobs are cards: each value comes with its column's name.
    card = page.locator("table.sers-stack tbody tr", has_text="reports-expire-files")
    assert card.evaluate("row => getComputedStyle(row).display") == "block"
    page.mouse.move(0, 0)
    axe_check(page)
    with page.expect_navigation():
        page.get_by_role("button", name=f"Reintentar el informe n.º {failed.pk}").press("Enter")
    failed.refresh_from_db()
    assert failed.status != ReportJob.Status.FAILED
    assert page.js_errors == []
