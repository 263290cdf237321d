"""The Prometheus metrics (sers/metrics.py, operations/collectors.py) and their endpoint
(operations/metrics_view.py): not public, every family there once its code path ran,
nothing personal in any label, and no query added to a normal request."""

import math

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import User
from accounts.services import user_send_welcome_email
from enrollment.services import grading
from enrollment.services.registration import enrollment_register
from operations import collectors
from operations.models import ScheduledJobRun
from reports import services as report_services
from reports.models import ReportJob
from tests.factories import UserFactory
from tests.world import TODAY, add_student

pytestmark = pytest.mark.django_db

TOKEN = "test-metrics-token-0123456789"
METRICS = "/metrics"


@pytest.fixture
def token(settings):
    settings.SERS_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN) -> str:
    response = client.get(METRICS, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def sample(text: str, name: str, **labels) -> float | None:
    for s in samples(text):
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- the endpoint --------------------------------------------------------------------------


def test_the_endpoint_answers_the_scraper_with_its_token(client, token):
    text = scrape(client)
    assert "django_http_requests_total_by_method_total" in text or "django_http" in text
    assert sample(text, "sers_report_jobs", status="queued") == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"HTTP_AUTHORIZATION": "Bearer"},
    ],
)
def test_without_the_right_token_it_is_a_page_that_does_not_exist(client, token, headers):
    answer = client.get(METRICS, **headers)
    unknown = client.get("/metrics-nowhere", **headers)
    assert answer.status_code == unknown.status_code == 404
    assert b"sers_" not in answer.content
    assert client.post(METRICS, **headers).status_code == 404


def test_with_no_token_configured_there_is_no_endpoint(client, settings):
    settings.SERS_METRICS_TOKEN = ""
    assert client.get(METRICS).status_code == 404
    assert client.get(METRICS, HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_a_scrape_reads_the_database_twice_whatever_its_size(
    client, token, here, django_assert_max_num_queries
):
    # Report jobs by state and the scheduled jobs' runs: one grouped query each.
    with django_assert_max_num_queries(2):
        scrape(client)


def test_signed_in_staff_do_not_see_it_either(client, token, here):
    client.force_login(here.admin)
    assert client.get(METRICS).status_code == 404


# --- requests ------------------------------------------------------------------------------


def test_requests_are_counted_per_view_with_their_statements(client, token, here):
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_roster", args=[here.section.pk])
    view = "enrollment:teacher_roster"
    before = value("sers_db_queries_per_request_count", view=view)
    before_sum = value("sers_db_queries_per_request_sum", view=view)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert value("sers_db_queries_per_request_count", view=view) == before + 1
    # Every statement of the request, and nothing read for the metrics themselves.
    assert value("sers_db_queries_per_request_sum", view=view) - before_sum == len(
        captured.captured_queries
    )
    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert "reports_reportjob" not in tables
    assert "operations_scheduledjobrun" not in tables

    text = scrape(client)
    assert sample(
        text,
        "django_http_responses_total_by_status_view_method_total",
        view=view,
        status="200",
        method="GET",
    )
    assert sample(
        text, "django_http_requests_latency_seconds_by_view_method_count", view=view, method="GET"
    )


def test_the_page_cache_counts_its_misses_and_hits(client, token, here):
    client.force_login(here.teacher)
    url = reverse("enrollment:teacher_roster", args=[here.section.pk])
    miss = value("sers_page_cache_requests_total", page="roster", result="miss")
    hit = value("sers_page_cache_requests_total", page="roster", result="hit")
    client.get(url)
    client.get(url)
    assert value("sers_page_cache_requests_total", page="roster", result="miss") == miss + 1
    assert value("sers_page_cache_requests_total", page="roster", result="hit") == hit + 1
    assert sample(scrape(client), "sers_page_cache_requests_total", page="roster", result="hit")


# --- sign-in -------------------------------------------------------------------------------


def sign_in(client, email, password, ip="203.0.113.20"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_sign_ins_failures_and_throttled_attempts(client, password):
    user = UserFactory(email="metrics-signin@example.org")
    ok, failed, throttled = (
        value("sers_sign_ins_total"),
        value("sers_sign_in_failures_total"),
        value("sers_sign_ins_throttled_total"),
    )
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2):
        sign_in(client, user.email, password)
        client.logout()
        sign_in(client, user.email, "wrong-1")
        assert value("sers_sign_ins_throttled_total") == throttled
        locked = sign_in(client, user.email, "wrong-2")
        assert locked.status_code == 429
        sign_in(client, user.email, password)
    assert value("sers_sign_ins_total") == ok + 1
    assert value("sers_sign_in_failures_total") == failed + 3
    assert value("sers_sign_ins_throttled_total") == throttled + 2
    # The lockout's page counts as its 429 for the sign-in view.
    assert value(
        "django_http_responses_total_by_status_view_method_total",
        status="429",
        view="accounts:login",
        method="POST",
    )


# --- business events -----------------------------------------------------------------------


def test_registrations_are_counted_once_committed(here, django_capture_on_commit_callbacks):
    student = add_student(here.school)
    before = value("sers_registrations_total", by="student")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrollment_register(student=student, section=here.section, actor=student.user, today=TODAY)
    assert value("sers_registrations_total", by="student") == before  # not before commit
    for callback in callbacks:
        callback()
    assert value("sers_registrations_total", by="student") == before + 1


def test_grade_saves_are_counted_with_their_grades(here, django_capture_on_commit_callbacks):
    saves, grades = value("sers_grade_saves_total"), value("sers_grades_saved_total")
    first, second, _third = here.enrollments
    with django_capture_on_commit_callbacks(execute=True):
        grading.grades_save(
            actor=here.teacher, section_id=here.section.pk, grades={first.pk: "A", second.pk: "B"}
        )
    assert value("sers_grade_saves_total") == saves + 1
    assert value("sers_grades_saved_total") == grades + 2


def test_a_report_job_its_task_and_its_duration(
    client, token, here, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    task = "reports.tasks.run_report_job"
    done = value("sers_report_job_duration_seconds_count", kind="enrollments", outcome="done")
    ran = value("sers_celery_tasks_total", task=task, state="SUCCESS")
    timed = value("sers_celery_task_duration_seconds_count", task=task)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_services.enrollments_export_request(
            requester=here.admin, academic_year=here.year, file_format="csv"
        )
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    assert (
        value("sers_report_job_duration_seconds_count", kind="enrollments", outcome="done")
        == done + 1
    )
    assert value("sers_celery_tasks_total", task=task, state="SUCCESS") == ran + 1
    assert value("sers_celery_task_duration_seconds_count", task=task) == timed + 1

    text = scrape(client)
    assert sample(text, "sers_report_jobs", status="done") == 1
    assert sample(text, "sers_report_jobs", status="failed") == 0


def test_a_failed_task_is_counted_as_a_failure(monkeypatch):
    from reports import tasks

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(report_services, "report_job_run", broken)
    task = "reports.tasks.run_report_job"
    failed = value("sers_celery_tasks_total", task=task, state="FAILURE")
    # As a worker runs it (an eager task raising in the caller skips Celery's postrun).
    result = tasks.run_report_job.apply(args=[0], throw=False)
    assert result.failed()
    assert value("sers_celery_tasks_total", task=task, state="FAILURE") == failed + 1


def test_emails_sent_and_failed(here, monkeypatch):
    user = here.students[0].user
    sent = value("sers_emails_total", kind="welcome", outcome="sent")
    failed = value("sers_emails_total", kind="welcome", outcome="failed")
    assert user_send_welcome_email(user_id=user.pk)
    assert len(mail.outbox) == 1
    assert value("sers_emails_total", kind="welcome", outcome="sent") == sent + 1

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("accounts.services.send_mail", smtp_down)
    other = here.students[1].user
    with pytest.raises(ConnectionRefusedError):
        user_send_welcome_email(user_id=other.pk)
    assert value("sers_emails_total", kind="welcome", outcome="failed") == failed + 1


# --- scrape-time collectors ----------------------------------------------------------------


def test_scheduled_jobs_report_the_age_of_their_last_success(client, token, settings):
    from django.utils import timezone

    names = sorted(settings.CELERY_BEAT_SCHEDULE)
    ran, never = names[0], names[1]
    ScheduledJobRun.objects.create(
        name=ran,
        task=settings.CELERY_BEAT_SCHEDULE[ran]["task"],
        last_succeeded_at=timezone.now() - timezone.timedelta(hours=2),
    )
    text = scrape(client)
    age = sample(text, "sers_scheduled_job_last_success_age_seconds", job=ran)
    assert 2 * 3600 - 5 < age < 2 * 3600 + 60
    assert math.isinf(sample(text, "sers_scheduled_job_last_success_age_seconds", job=never))


class FakeRedis:
    def __init__(self, lengths):
        self.lengths = lengths
        self.asked = []

    def pipeline(self, transaction=True):
        return self

    def llen(self, key):
        self.asked.append(key)

    def execute(self):
        return [self.lengths.get(key, 0) for key in self.asked]


def test_the_queue_depth_is_read_from_redis_at_scrape_time():
    fake = FakeRedis({"celery": 4, f"celery{collectors.PRIORITY_SEP}6": 2})
    (family,) = list(collectors.CeleryQueueCollector(client=fake).collect())
    assert family.name == "sers_celery_queue_length"
    assert [(s.labels, s.value) for s in family.samples] == [({"queue": "celery"}, 6)]


def test_without_a_redis_broker_there_is_no_queue_depth(settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert list(collectors.CeleryQueueCollector().collect()) == []


# --- nothing personal ----------------------------------------------------------------------


def test_no_label_holds_a_name_an_email_or_an_id_of_a_user(
    client, token, here, password, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Exercise every path: pages, sign-ins, a registration, grades, a report, emails.
    sign_in(client, here.teacher.email, password)
    sign_in(client, here.students[0].user.email, "not-the-password")
    client.force_login(here.teacher)
    roster = reverse("enrollment:teacher_roster", args=[here.section.pk])
    client.get(roster)
    client.get(roster)
    with django_capture_on_commit_callbacks(execute=True):
        student = add_student(here.school)
        enrollment_register(student=student, section=here.section, actor=student.user, today=TODAY)
        grading.grades_save(
            actor=here.teacher, section_id=here.section.pk, grades={here.enrollments[0].pk: "A"}
        )
        report_services.enrollments_export_request(
            requester=here.admin, academic_year=here.year, file_format="csv"
        )
    text = scrape(client)
    # Only these labels exist: none can hold a user, an id or a name.
    keys = {key for s in samples(text) for key in s.labels}
    assert keys <= SAFE_LABELS, keys - SAFE_LABELS
    values = {v for s in samples(text) for v in s.labels.values()}
    assert "enrollment:teacher_roster" in values
    for user in User.objects.all():
        personal = {user.email, user.first_name, user.last_name, user.email.split("@")[0]}
        for item in personal - {""}:
            leaked = [v for v in values if item.lower() in v.lower()]
            assert not leaked, (item, leaked)


SAFE_LABELS = {
    # sers_ metrics
    "view",
    "page",
    "result",
    "by",
    "kind",
    "outcome",
    "task",
    "state",
    "status",
    "queue",
    "job",
    # django-prometheus and prometheus_client's own
    "method",
    "transport",
    "templatename",
    "charset",
    "type",
    "le",
    "generation",
    "implementation",
    "major",
    "minor",
    "patchlevel",
    "version",
}
