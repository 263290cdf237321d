"""The operations page (/operations/): state staff see report jobs, scheduled jobs, emails,
sign-in lockouts and queues as counts and job details, never a student; everyone else
gets 403, visitors the sign-in page. And its Retry button for failed or stuck reports."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import EmailFailure, Role, SentEmail
from operations.models import ScheduledJobRun
from reports.models import ReportJob
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PAGE = reverse("operations:home")


def retry_url(job_id: int) -> str:
    return reverse("operations:report_job_retry", args=[job_id])


@pytest.fixture
def state(db):
    return make_staff(Role.STATE_STAFF)


@pytest.fixture
def jobs(here):
    """A failed, a stuck, a running, a waiting and a finished report of our college."""
    now = timezone.now()
    common = {"kind": ReportJob.Kind.TRANSCRIPT_CREDIT, "college": here.college}
    failed = ReportJob.objects.create(
        **common,
        requested_by=here.registrar,
        status=ReportJob.Status.FAILED,
        error="Something went wrong while building the report. Try again.",
        finished_at=now - datetime.timedelta(hours=1),
        attempts=1,
    )
    stuck = ReportJob.objects.create(
        **common,
        nightly_key="nightly:stuck",
        status=ReportJob.Status.RUNNING,
        started_at=now - datetime.timedelta(hours=2),
        heartbeat_at=now - datetime.timedelta(hours=2),
        attempts=1,
    )
    running = ReportJob.objects.create(
        **common,
        requested_by=here.registrar,
        status=ReportJob.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=1,
    )
    waiting = ReportJob.objects.create(**common, requested_by=here.registrar)
    done = ReportJob.objects.create(
        **common,
        requested_by=here.registrar,
        status=ReportJob.Status.DONE,
        finished_at=now,
        row_count=3,
    )
    return {"failed": failed, "stuck": stuck, "running": running, "waiting": waiting, "done": done}


@pytest.fixture
def activity(here):
    """A scheduled job's runs, emails sent, and failed sign-ins (one account locked)."""
    now = timezone.now()
    ScheduledJobRun.objects.create(
        name="reports-expire-files",
        task="reports.tasks.expire_report_files",
        last_started_at=now - datetime.timedelta(hours=1),
        last_succeeded_at=now - datetime.timedelta(hours=1),
        last_duration_seconds=1.5,
    )
    ScheduledJobRun.objects.create(
        name="reports-transcript-credit-nightly",
        task="reports.tasks.build_nightly_transcript_reports",
        last_started_at=now - datetime.timedelta(hours=30),
        last_succeeded_at=now - datetime.timedelta(hours=30),
        last_failed_at=now - datetime.timedelta(hours=3),
        last_error="OperationalError",
    )
    for student in here.students:
        SentEmail.objects.create(user=student.user, kind="welcome", dedupe_key=f"w:{student.pk}")
    SentEmail.objects.create(
        user=here.students[0].user, kind="deadline_reminder", dedupe_key="reminder:1"
    )
    EmailFailure.objects.create(
        user=here.students[1].user, kind="welcome", error="SMTPRecipientsRefused"
    )
    old = SentEmail.objects.create(user=here.teacher, kind="old_kind", dedupe_key="old:1")
    SentEmail.objects.filter(pk=old.pk).update(sent_at=now - datetime.timedelta(days=8))
    student_email = here.students[0].user.email
    for address, username, failures in (
        ("203.0.113.7", student_email, settings.AXES_FAILURE_LIMIT),
        ("203.0.113.8", "someone-else@example.org", 2),
    ):
        AccessAttempt.objects.create(
            username=username,
            ip_address=address,
            user_agent="test",
            http_accept="*/*",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=failures,
        )


def test_state_staff_see_every_section(client, state, here, jobs, activity, monkeypatch):
    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "memory://")  # as without REDIS_URL
    client.force_login(state)
    response = client.get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    for heading in ("Report jobs", "Scheduled jobs", "Emails", "Sign-in lockouts", "Task queues"):
        assert heading in text
    overview = response.context["overview"]

    listed = {view.job.pk: view.state for view in overview.report_jobs.jobs}
    assert listed == {
        jobs["failed"].pk: "failed",
        jobs["stuck"].pk: "stuck",
        jobs["running"].pk: "running",
        jobs["waiting"].pk: "queued",
    }
    assert overview.report_jobs.counts == {"queued": 1, "running": 1, "stuck": 1, "failed": 1}
    # Retry buttons for the failed and the stuck report only.
    assert retry_url(jobs["failed"].pk) in text
    assert retry_url(jobs["stuck"].pk) in text
    assert retry_url(jobs["running"].pk) not in text
    assert retry_url(jobs["waiting"].pk) not in text

    scheduled = {job.name: job for job in overview.scheduled}
    assert set(scheduled) == set(settings.CELERY_BEAT_SCHEDULE)
    assert not scheduled["reports-expire-files"].overdue
    assert scheduled["reports-transcript-credit-nightly"].overdue  # last success 30 h ago
    assert scheduled["enrollment-deadline-reminders"].never_run
    assert scheduled["enrollment-deadline-reminders"].overdue
    assert "Never run" in text
    assert "OperationalError" in text
    assert "Overdue" in text

    assert overview.emails.by_kind == [
        {"kind": "deadline_reminder", "sent": 1, "failed": 0},
        {"kind": "welcome", "sent": len(here.students), "failed": 1},
    ]
    assert "1 email failed in this period" in text

    lockouts = overview.lockouts
    assert (lockouts.failed_sign_ins, lockouts.accounts_locked, lockouts.addresses_locked) == (
        settings.AXES_FAILURE_LIMIT + 2,
        1,
        0,
    )
    assert [(q.name, q.state) for q in overview.queues.queues] == [("celery", "in-process")]


def test_no_student_data_on_the_page(client, state, here, jobs, activity):
    client.force_login(state)
    text = client.get(PAGE).content.decode()
    for student in here.students:
        for value in (
            student.legal_first_name,
            student.legal_last_name,
            student.sers_id,
            student.user.email,
        ):
            assert value not in text, value
    for value in ("203.0.113.7", "203.0.113.8", "someone-else@example.org", here.registrar.email):
        assert value not in text


def test_state_staff_have_it_in_the_menu(client, state, here):
    client.force_login(state)
    assert f'href="{PAGE}"' in client.get(reverse("home")).content.decode()
    client.force_login(here.admin)
    assert f'href="{PAGE}"' not in client.get(reverse("home")).content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona", ["registrar", "admin", "teacher", "specialist", "student"])
def test_other_roles_get_403(client, here, persona):
    user = here.students[0].user if persona == "student" else getattr(here, persona)
    client.force_login(user)
    assert client.get(PAGE).status_code == 403


def test_query_count_does_not_grow_with_the_jobs(
    client, state, here, jobs, activity, django_assert_max_num_queries
):
    client.force_login(state)
    client.get(PAGE)  # sessions and caches warmed
    with django_assert_max_num_queries(13):
        assert client.get(PAGE).status_code == 200
    for _ in range(10):
        ReportJob.objects.create(
            kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
            college=here.college,
            requested_by=here.registrar,
            status=ReportJob.Status.FAILED,
            finished_at=timezone.now(),
        )
    with django_assert_max_num_queries(13):
        assert client.get(PAGE).status_code == 200


# --- Retry -----------------------------------------------------------------------------------


def test_retry_requeues_a_failed_job_once(client, state, jobs):
    client.force_login(state)
    job = jobs["failed"]
    response = client.post(retry_url(job.pk), follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    assert f"Report #{job.pk} was sent to be built again." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.error, job.progress) == (ReportJob.Status.QUEUED, "", 0)

    # A second click (the job is waiting now) is refused with a clear message.
    response = client.post(retry_url(job.pk), follow=True)
    assert f"Report #{job.pk} is not failed or stuck; it needs no retry." in (
        response.content.decode()
    )
    job.refresh_from_db()
    assert job.status == ReportJob.Status.QUEUED


def test_retry_sends_the_job_to_the_worker_on_commit(
    client, state, jobs, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("reports.tasks.run_report_job.delay", lambda job_id: sent.append(job_id))
    client.force_login(state)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(retry_url(jobs["stuck"].pk))
    assert len(callbacks) == 1
    assert sent == [jobs["stuck"].pk]


def test_retry_of_a_running_job_is_refused(client, state, jobs):
    client.force_login(state)
    response = client.post(retry_url(jobs["running"].pk), follow=True)
    assert "needs no retry" in response.content.decode()
    jobs["running"].refresh_from_db()
    assert jobs["running"].status == ReportJob.Status.RUNNING


@pytest.mark.parametrize("persona", ["registrar", "admin", "teacher", "student"])
def test_retry_by_another_role_is_403(client, here, jobs, persona):
    user = here.students[0].user if persona == "student" else getattr(here, persona)
    client.force_login(user)
    assert client.post(retry_url(jobs["failed"].pk)).status_code == 403
    jobs["failed"].refresh_from_db()
    assert jobs["failed"].status == ReportJob.Status.FAILED


def test_retry_of_an_unknown_job_is_404(client, state):
    client.force_login(state)
    assert client.post(retry_url(987654)).status_code == 404


def test_retry_needs_the_csrf_token(state, jobs):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(state)
    assert client.post(retry_url(jobs["failed"].pk)).status_code == 403
    jobs["failed"].refresh_from_db()
    assert jobs["failed"].status == ReportJob.Status.FAILED


def test_retry_needs_a_post(client, state, jobs):
    client.force_login(state)
    assert client.get(retry_url(jobs["failed"].pk)).status_code == 405


def test_retry_by_a_visitor_asks_to_sign_in(client, jobs):
    response = client.post(retry_url(jobs["failed"].pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.redis
def test_queue_sizes_come_from_redis(monkeypatch):
    import os
    import uuid

    from operations.selectors import celery_queues
    from sers.celery import app

    name = f"test-ops-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(app.conf, "broker_url", os.environ["REDIS_URL"])
    monkeypatch.setattr("operations.selectors.queue_names", lambda app: [name])
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(name)
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.close()
    try:
        assert [(q.name, q.size) for q in celery_queues().queues] == [(name, 2)]
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(name)
            client = connection.default_channel.client
            client.delete(*client.keys(f"*{name}*") or [name])


def test_queue_sizes_say_why_when_the_broker_is_down(monkeypatch):
    from operations.selectors import celery_queues
    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    section = celery_queues()
    assert section.queues[0].size is None
    assert section.queues[0].state not in ("ok", "in-process")


def test_an_email_the_server_refuses_is_kept_without_its_message(here, settings):
    """accounts.services: the claim is rolled back (a later run may send it), the failure
    is kept with its error class, never the message (which names the address)."""
    from unittest import mock

    from accounts.services import user_send_welcome_email

    user = here.students[0].user
    refused = OSError(f"550 mailbox {user.email} unavailable")
    with (
        mock.patch("accounts.services.send_mail", side_effect=refused),
        pytest.raises(OSError, match="550"),
    ):
        user_send_welcome_email(user_id=user.pk)
    failure = EmailFailure.objects.get()
    assert (failure.kind, failure.user_id, failure.error) == ("welcome", user.pk, "OSError")
    assert not SentEmail.objects.filter(user=user, kind="welcome").exists()
