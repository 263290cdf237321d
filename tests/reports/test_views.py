"""Every reports view: the normal case, anonymous, the wrong role (403), the outsider (404)."""

import datetime
import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accesslog.models import AccessLogEntry
from accounts.models import Role, RoleMembership
from reports.models import ReportJob, TranscriptReportRow
from reports.services import report_job_run
from tests.factories import StudentProfileFactory, UserFactory, make_staff
from tests.reports.conftest import College
from tests.world import add_section, school_year

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def transcript_job(college: College, *, user=None, run=True, **fields) -> ReportJob:
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=user or college.registrar,
        college=college.college,
        **fields,
    )
    if run:
        report_job_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.fixture
def teacher(college):
    return make_staff(Role.TEACHER, college.section.high_school)


# --- the jobs page --------------------------------------------------------------------


def test_jobs_page_lists_own_and_nightly_reports_of_the_college(client, college, year):
    college.eligible()
    mine = transcript_job(college)
    nightly = ReportJob.objects.create(
        kind="transcript_credit", college=college.college, nightly_key="transcript:n:1"
    )
    colleague = transcript_job(college, user=make_staff(Role.REGISTRAR, college.college))
    elsewhere = College(year)
    other = transcript_job(elsewhere, run=False)
    client.force_login(college.registrar)

    response = client.get(reverse("reports:report_jobs"))

    assert response.status_code == 200
    shown = {view.job.pk for view in response.context["jobs"]}
    assert shown == {mine.pk, nightly.pk}
    assert colleague.pk not in shown
    assert other.pk not in shown
    assert reverse("reports:report_job_download", args=[mine.pk]).encode() in response.content
    assert b'hx-trigger="every 2s"' in response.content  # the nightly job is queued


def test_jobs_page_anonymous_and_wrong_role(client, teacher):
    assert_login_redirect(client.get(reverse("reports:report_jobs")))
    client.force_login(teacher)
    assert client.get(reverse("reports:report_jobs")).status_code == 403
    client.force_login(StudentProfileFactory().user)
    assert client.get(reverse("reports:report_jobs")).status_code == 403


def test_jobs_page_queries_do_not_grow(client, college, django_assert_max_num_queries):
    client.force_login(college.registrar)
    transcript_job(college, run=False)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("reports:report_jobs"))
    for _ in range(8):
        transcript_job(college)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("reports:report_jobs"))


# --- one job and its polling fragment -------------------------------------------------


def test_job_page_and_its_polling_fragment(client, college):
    college.eligible()
    job = transcript_job(college, run=False)
    client.force_login(college.registrar)

    page = client.get(reverse("reports:report_job_detail", args=[job.pk]))
    assert page.status_code == 200
    assert b"<progress" in page.content
    assert b"Waiting to start" in page.content

    running = client.get(reverse("reports:report_job_detail", args=[job.pk]), **HTMX)
    assert running.status_code == 200  # keep polling
    assert b"<html" not in running.content

    report_job_run(job_id=job.pk)
    done = client.get(reverse("reports:report_job_detail", args=[job.pk]), **HTMX)
    assert done.status_code == 286  # htmx stops polling
    assert reverse("reports:report_job_download", args=[job.pk]).encode() in done.content
    assert b"2 rows" in done.content


def test_job_page_shows_a_failed_job_with_retry(client, college):
    job = transcript_job(college, run=False, status="failed", error="The disk was full.")
    client.force_login(college.registrar)
    response = client.get(reverse("reports:report_job_detail", args=[job.pk]))
    assert b"The disk was full." in response.content
    assert reverse("reports:report_job_retry", args=[job.pk]).encode() in response.content


def test_job_page_shows_a_stuck_job_with_retry(client, college):
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    job = transcript_job(
        college, run=False, status="running", started_at=long_ago, heartbeat_at=long_ago
    )
    client.force_login(college.registrar)
    response = client.get(reverse("reports:report_job_detail", args=[job.pk]), **HTMX)
    assert response.status_code == 286
    assert b"Stuck" in response.content
    assert reverse("reports:report_job_retry", args=[job.pk]).encode() in response.content


def test_job_page_anonymous_wrong_role_outsider(client, college, year, teacher):
    job = transcript_job(college, run=False)
    url = reverse("reports:report_job_detail", args=[job.pk])
    assert_login_redirect(client.get(url))
    client.force_login(teacher)
    assert client.get(url).status_code == 403
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.get(url).status_code == 404
    # A registrar of the same college does not see a colleague's own report either.
    client.force_login(make_staff(Role.REGISTRAR, college.college))
    assert client.get(url).status_code == 404


# --- downloads ------------------------------------------------------------------------


def test_download_sends_the_file_and_logs_it(client, college):
    enrollment = college.eligible()
    job = transcript_job(college)
    client.force_login(college.registrar)

    response = client.get(reverse("reports:report_job_download", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert job.file_name in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert enrollment.student.sers_id in body
    entry = AccessLogEntry.objects.get(action="download")
    assert entry.actor == college.registrar
    assert list(entry.students.values_list("student_id", flat=True)) == [enrollment.student_id]


def test_download_anonymous_wrong_role_outsider(client, college, year, teacher):
    college.eligible()
    job = transcript_job(college)
    url = reverse("reports:report_job_download", args=[job.pk])
    assert_login_redirect(client.get(url))
    client.force_login(teacher)
    assert client.get(url).status_code == 403
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.get(url).status_code == 404
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_download_rechecks_the_role(client, college, year):
    """The requester moved to another college: their old report is no longer theirs."""
    college.eligible()
    job = transcript_job(college)
    college.registrar.memberships.all().delete()
    RoleMembership.objects.create(
        user=college.registrar, role=Role.REGISTRAR, college=College(year).college
    )
    client.force_login(college.registrar)
    assert client.get(reverse("reports:report_job_download", args=[job.pk])).status_code == 403


def test_download_of_an_unfinished_or_expired_job_explains(client, college):
    college.eligible()
    queued = transcript_job(college, run=False)
    client.force_login(college.registrar)
    response = client.get(reverse("reports:report_job_download", args=[queued.pk]), follow=True)
    assert b"has no file to download" in response.content

    done = transcript_job(college)
    default_storage.delete(done.file)
    response = client.get(reverse("reports:report_job_download", args=[done.pk]), follow=True)
    assert b"file of this report is missing" in response.content
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_nightly_report_download_for_the_colleges_registrars(client, college, year):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit",
        college=college.college,
        nightly_key="transcript:1:2026-12-01",
        only_new=True,
        marks_sent=True,
    )
    report_job_run(job_id=job.pk)
    client.force_login(college.registrar)
    assert client.get(reverse("reports:report_job_download", args=[job.pk])).status_code == 200
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.get(reverse("reports:report_job_download", args=[job.pk])).status_code == 404


# --- retry and re-run -----------------------------------------------------------------


def test_retry_a_failed_job(client, college, django_capture_on_commit_callbacks):
    college.eligible()
    job = transcript_job(college, run=False, status="failed", error="x")
    client.force_login(college.registrar)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:report_job_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done"


def test_retry_of_a_done_job_is_refused_with_a_message(client, college):
    job = transcript_job(college)
    client.force_login(college.registrar)
    response = client.post(reverse("reports:report_job_retry", args=[job.pk]), follow=True)
    assert b"needs no retry" in response.content
    job.refresh_from_db()
    assert job.attempts == 1


def test_retry_anonymous_wrong_role_outsider(client, college, year, teacher):
    job = transcript_job(college, run=False, status="failed", error="x")
    url = reverse("reports:report_job_retry", args=[job.pk])
    assert_login_redirect(client.post(url))
    client.force_login(teacher)
    assert client.post(url).status_code == 403
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.post(url).status_code == 404
    client.force_login(college.registrar)
    assert client.get(url).status_code == 405
    job.refresh_from_db()
    assert job.status == "failed"


def test_rerun_builds_the_same_rows_again(client, college, django_capture_on_commit_callbacks):
    college.eligible()
    source = transcript_job(college)
    client.force_login(college.registrar)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report_job_rerun", args=[source.pk]), {"file_format": "pesc"}
        )
    rerun = ReportJob.objects.exclude(pk=source.pk).get()
    assert response.url == reverse("reports:report_job_detail", args=[rerun.pk])
    assert (rerun.source_job, rerun.file_format, rerun.status) == (source, "pesc", "done")


def test_rerun_refuses_a_bad_format_and_unfinished_reports(client, college):
    source = transcript_job(college)
    queued = transcript_job(college, run=False)
    client.force_login(college.registrar)
    response = client.post(
        reverse("reports:report_job_rerun", args=[source.pk]), {"file_format": "pdf"}, follow=True
    )
    assert b"Choose a file format" in response.content
    response = client.post(
        reverse("reports:report_job_rerun", args=[queued.pk]), {"file_format": "csv"}, follow=True
    )
    assert b"Only a finished transcript-credit report" in response.content
    assert ReportJob.objects.count() == 2


def test_rerun_anonymous_wrong_role_outsider(client, college, year, teacher):
    source = transcript_job(college)
    url = reverse("reports:report_job_rerun", args=[source.pk])
    assert_login_redirect(client.post(url, {"file_format": "csv"}))
    client.force_login(teacher)
    assert client.post(url, {"file_format": "csv"}).status_code == 403
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.post(url, {"file_format": "csv"}).status_code == 404
    assert ReportJob.objects.count() == 1


# --- asking for a transcript-credit report --------------------------------------------


def test_registrar_asks_for_a_report(client, college, year, django_capture_on_commit_callbacks):
    college.eligible()
    client.force_login(college.registrar)
    page = client.get(reverse("reports:report_transcript_new"))
    assert page.status_code == 200
    assert list(page.context["form"].fields["college"].queryset) == [college.college]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report_transcript_new"),
            {
                "college": college.college.pk,
                "academic_year": year.pk,
                "term": "",
                "file_format": "xlsx",
                "marks_sent": "on",
            },
        )

    job = ReportJob.objects.get()
    assert response.url == reverse("reports:report_job_detail", args=[job.pk])
    assert (job.requested_by, job.academic_year, job.file_format) == (
        college.registrar,
        year,
        "xlsx",
    )
    assert (job.marks_sent, job.only_new, job.status) == (True, False, "done")


def test_the_default_report_holds_every_credit_the_queue_shows(
    client, college, year, django_capture_on_commit_callbacks
):
    """The form as it opens (no school year chosen) takes the credits of every year that
    the registrar's queue shows as ready, not only this year's."""
    last_year = school_year(2025)
    earlier = add_section(college.articulation, year=last_year)
    for _ in range(3):
        college.eligible(section=earlier)
    college.eligible()
    queue = client_queue_count(client, college)
    assert queue == 4

    page = client.get(reverse("reports:report_transcript_new"))
    form = page.context["form"]
    # As a browser sends the form untouched: each select's chosen option (else its first).
    defaults = {
        name: form[name].value() or next(iter(form.fields[name].choices))[0]
        for name in ("college", "academic_year", "term")
    } | {"file_format": "csv"}
    for name in ("only_new", "marks_sent"):
        if form[name].value():
            defaults[name] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:report_transcript_new"), defaults)

    job = ReportJob.objects.get()
    assert job.academic_year is None
    assert TranscriptReportRow.objects.filter(job=job).count() == queue


def client_queue_count(client, college) -> int:
    """How many credits the registrar's transcription queue shows as ready."""
    client.force_login(college.registrar)
    page = client.get(reverse("enrollment:registrar_queue")).content.decode()
    return int(re.search(r"(\d+) credits? ready to transcribe", page).group(1))


@pytest.mark.django_db(transaction=True)
def test_a_report_built_at_once_is_said_to_be_ready(client, college, year):
    """Where tasks run in-process (the demo) the report is built before its page comes
    back: the message says it is ready, as its status does, and nowhere "being built"."""
    college.eligible()
    client.force_login(college.registrar)
    data = {"college": college.college.pk, "academic_year": "", "term": "", "file_format": "csv"}
    response = client.post(reverse("reports:report_transcript_new"), data, follow=True)
    html = response.content.decode()
    assert "Your report is ready to download." in html
    assert "being built" not in html
    assert ">Ready<" in html


def test_a_report_waiting_for_a_worker_claims_nothing_else(client, college, year):
    college.eligible()
    client.force_login(college.registrar)
    data = {"college": college.college.pk, "academic_year": "", "term": "", "file_format": "csv"}
    # The task waits for the commit (the test's transaction): the report has not started.
    response = client.post(reverse("reports:report_transcript_new"), data, follow=True)
    html = response.content.decode()
    assert "ready to download" not in html
    assert "being built" not in html
    assert ">Waiting to start<" in html


def test_a_bad_request_shows_errors_and_queues_nothing(client, college, year):
    client.force_login(college.registrar)
    other = College(year)
    response = client.post(
        reverse("reports:report_transcript_new"),
        {"college": other.college.pk, "term": "fall", "file_format": "csv"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "college" in form.errors
    assert "term" in form.errors
    assert not ReportJob.objects.exists()


def test_state_staff_may_pick_any_college(client, college, year):
    College(year)
    client.force_login(make_staff(Role.STATE_STAFF))
    response = client.get(reverse("reports:report_transcript_new"))
    assert response.context["form"].fields["college"].queryset.count() == 2


def test_transcript_form_anonymous_and_wrong_role(client, college, teacher):
    assert_login_redirect(client.get(reverse("reports:report_transcript_new")))
    client.force_login(teacher)
    assert client.get(reverse("reports:report_transcript_new")).status_code == 403
    client.force_login(make_staff(Role.CONSORTIUM_ADMIN, college.consortium))
    assert client.post(reverse("reports:report_transcript_new"), {}).status_code == 403


# --- the dashboard --------------------------------------------------------------------


def test_dashboard_for_state_staff(client, college, year):
    for _ in range(12):
        college.eligible()
    client.force_login(make_staff(Role.STATE_STAFF))

    response = client.get(reverse("reports:report_dashboard"))

    assert response.status_code == 200
    assert response.context["year"] == year  # the current year by default
    assert b'id="chart-data-year-cluster"' in response.content
    assert b'<canvas id="chart-funnel"' in response.content
    assert b"<script>" not in response.content  # data goes in json_script, not code
    content = response.content.decode()
    assert college.consortium.name in content
    assert "Statewide" in content


def test_dashboard_filters_and_htmx_partial(client, college, year):
    college.eligible()
    client.force_login(make_staff(Role.STATE_STAFF))
    url = reverse("reports:report_dashboard") + "?academic_year=&dimension=high_school"

    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-results")
    assert b"<html" not in partial.content
    assert partial.context["year"] is None
    assert partial.context["dimension"].key == "high_school"
    assert college.section.high_school.name.encode() in partial.content

    full = client.get(url)
    assert b"<html" in full.content


def test_dashboard_bad_filters_show_a_message(client):
    client.force_login(make_staff(Role.STATE_STAFF))
    response = client.get(reverse("reports:report_dashboard") + "?academic_year=999&dimension=shoe")
    assert response.status_code == 200
    assert b"Those filters are not valid" in response.content


def test_dashboard_anonymous_and_wrong_role(client, college, teacher):
    assert_login_redirect(client.get(reverse("reports:report_dashboard")))
    client.force_login(teacher)
    assert client.get(reverse("reports:report_dashboard")).status_code == 403
    client.force_login(college.registrar)
    assert client.get(reverse("reports:report_dashboard")).status_code == 403


def test_dashboard_queries_do_not_grow(client, year, django_assert_max_num_queries):
    client.force_login(make_staff(Role.STATE_STAFF))
    College(year).eligible()
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("reports:report_dashboard"))
    for _ in range(3):
        place = College(year)
        for _ in range(3):
            place.eligible()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("reports:report_dashboard"))


def test_dashboard_export_queues_a_job(client, year, django_capture_on_commit_callbacks):
    user = make_staff(Role.STATE_STAFF)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report_dashboard_export"),
            {
                "table": "breakdown",
                "academic_year": year.pk,
                "dimension": "cluster",
                "file_format": "xlsx",
            },
        )
    job = ReportJob.objects.get()
    assert response.url == reverse("reports:report_job_detail", args=[job.pk])
    assert (job.kind, job.parameters, job.status) == (
        "dashboard_table",
        {"table": "breakdown", "dimension": "cluster"},
        "done",
    )


def test_dashboard_export_bad_input_and_roles(client, college):
    assert_login_redirect(client.post(reverse("reports:report_dashboard_export"), {}))
    client.force_login(college.registrar)
    assert client.post(reverse("reports:report_dashboard_export"), {}).status_code == 403
    client.force_login(make_staff(Role.STATE_STAFF))
    response = client.post(
        reverse("reports:report_dashboard_export"),
        {"table": "secrets", "file_format": "csv"},
        follow=True,
    )
    assert b"That export is not available" in response.content
    assert not ReportJob.objects.exists()


def test_enrollments_export(client, college, year, django_capture_on_commit_callbacks):
    college.eligible()
    specialist = make_staff(Role.CAREER_SPECIALIST, college.section.high_school.district)
    client.force_login(specialist)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report_enrollments_export"),
            {"academic_year": year.pk, "file_format": "csv"},
        )
    job = ReportJob.objects.get()
    assert response.url == reverse("reports:report_job_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.kind, job.row_count, job.status) == ("enrollments", 1, "done")
    assert job.export_log_entry.role == "career_specialist"


def test_enrollments_export_bad_input_and_roles(client, college, teacher):
    assert_login_redirect(client.post(reverse("reports:report_enrollments_export"), {}))
    client.force_login(college.registrar)
    assert client.post(reverse("reports:report_enrollments_export"), {}).status_code == 403
    client.force_login(teacher)
    assert client.post(reverse("reports:report_enrollments_export"), {}).status_code == 403
    client.force_login(make_staff(Role.STATE_STAFF))
    response = client.post(
        reverse("reports:report_enrollments_export"), {"file_format": "csv"}, follow=True
    )
    assert b"Choose a school year" in response.content
    assert not ReportJob.objects.exists()


def test_menu_entries(client, college):
    client.force_login(college.registrar)
    content = client.get(reverse("home")).content.decode()
    assert reverse("reports:report_transcript_new") in content
    assert reverse("reports:report_dashboard") not in content
    client.force_login(make_staff(Role.STATE_STAFF))
    content = client.get(reverse("home")).content.decode()
    assert reverse("reports:report_dashboard") in content
    client.force_login(UserFactory())
    assert reverse("reports:report_dashboard") not in client.get(reverse("home")).content.decode()


def test_job_page_and_transcript_form_queries_do_not_grow(
    client, college, django_assert_max_num_queries
):
    job = transcript_job(college, run=False)
    client.force_login(college.registrar)
    url = reverse("reports:report_job_detail", args=[job.pk])
    with django_assert_max_num_queries(10) as page_queries:
        client.get(url)
    with django_assert_max_num_queries(8) as poll_queries:
        client.get(url, **HTMX)
    with django_assert_max_num_queries(12) as form_queries:
        client.get(reverse("reports:report_transcript_new"))
    for _ in range(5):
        college.eligible()
        transcript_job(college)
    with django_assert_max_num_queries(len(page_queries.captured_queries)):
        client.get(url)
    with django_assert_max_num_queries(len(poll_queries.captured_queries)):
        client.get(url, **HTMX)
    with django_assert_max_num_queries(len(form_queries.captured_queries)):
        client.get(reverse("reports:report_transcript_new"))


def test_state_staff_find_their_reports_from_the_dashboard(client):
    client.force_login(make_staff(Role.STATE_STAFF))
    content = client.get(reverse("reports:report_dashboard")).content.decode()
    assert reverse("reports:report_jobs") in content
    assert reverse("reports:report_transcript_new") in content
