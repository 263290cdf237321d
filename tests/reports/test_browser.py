"""In a browser: ask for a report, watch its progress bar reach done, download the file;
the jobs and dashboard pages pass axe."""

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from reports import services
from reports.models import ReportJob
from tests.browser.axe import axe_check
from tests.factories import make_staff

# serialized_rollback: live_server flushes the database after each test; this puts the
# career clusters (a data migration) back first.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_registrar_asks_for_a_report_watches_it_finish_and_downloads_it(
    page, login, college, monkeypatch
):
    enrollments = [college.eligible() for _ in range(2)]
    # Hold the job back instead of running it at once, to see the page follow it.
    queued: list[ReportJob] = []
    monkeypatch.setattr(services, "_send_job", queued.append)
    login(page, college.registrar)

    page.goto(reverse("reports:report_transcript_new"))
    axe_check(page)
    page.get_by_label("File format").select_option("csv")
    page.get_by_label("Mark these rows as sent to the registrar").check()
    page.get_by_role("button", name="Build the report").click()

    (job,) = queued
    progress = page.get_by_role("progressbar", name=f"Progress of report {job.pk}")
    expect(page.get_by_text("Waiting to start")).to_be_visible()
    expect(progress).to_have_attribute("value", "0")
    axe_check(page)

    # The worker starts and gets half way: the page polls and shows it.
    ReportJob.objects.filter(pk=job.pk).update(
        status="running", progress=50, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    expect(progress).to_have_attribute("value", "50")
    expect(page.get_by_text("50% done")).to_be_visible()

    services.report_job_run(job_id=job.pk)
    expect(progress).to_have_attribute("value", "100")
    download_link = page.get_by_role("link", name=f"Download report {job.pk}")
    expect(download_link).to_be_visible()
    axe_check(page)

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["SERS ID"] for row in rows} == {e.student.sers_id for e in enrollments}
    assert download.suggested_filename.endswith(f"-job{job.pk}.csv")

    page.goto(reverse("reports:report_jobs"))
    expect(page.get_by_role("link", name=f"#{job.pk} Transcript-credit report")).to_be_visible()
    axe_check(page)
    assert page.js_errors == []


def test_dashboard_charts_tables_and_an_export(any_page, login, college):
    page = any_page
    for _ in range(12):
        college.eligible()
    login(page, make_staff(Role.STATE_STAFF))

    page.goto(reverse("reports:report_dashboard"))
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    # Chart.js drew both charts (each has a table with the same numbers).
    page.wait_for_function(
        "() => ['chart-year-cluster', 'chart-funnel'].every("
        "id => window.Chart && Chart.getChart(document.getElementById(id)))"
    )
    expect(
        page.get_by_role("table", name="From registration to transcript · 2026-27")
    ).to_be_visible()
    axe_check(page)
    if page.viewport_name == "phone":
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than a 360px phone"

    # Filters go through htmx, and the URL follows them.
    page.get_by_label("Break down by").select_option("college")
    page.get_by_role("button", name="Show numbers").click()
    expect(page.get_by_role("heading", name="By College")).to_be_visible()
    assert "dimension=college" in page.url
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-funnel'))")

    # Export the breakdown: runs in-process here, so the job page shows it ready.
    breakdown = page.locator("form", has=page.locator("input[name=table][value=breakdown]"))
    breakdown.get_by_role("button", name="Excel (XLSX)").click()
    job = ReportJob.objects.get()
    expect(page.get_by_role("link", name=f"Download report {job.pk}")).to_be_visible()
    assert job.parameters == {"table": "breakdown", "dimension": "college"}
    assert page.js_errors == []
