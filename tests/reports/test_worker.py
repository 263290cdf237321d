"""Report jobs through a real `celery worker` on Redis and PostgreSQL.

The other tests run tasks in-process. These check what they cannot: a report asked for
in a request reaches a worker through Redis once the request commits, and a job whose
worker is killed mid-way (SIGKILL: no chance to clean up or acknowledge) is handed to
another worker after the visibility timeout and still completes exactly once.
"""

import time

import pytest
from django.core.files.storage import default_storage

from accesslog.models import AccessLogEntry
from reports.models import ReportJob, TranscriptReportRow
from reports.services import transcript_report_request
from reports.tasks import run_report_job
from sers.celery import app
from tests.reports.conftest import WORKER_VISIBILITY_TIMEOUT

# serialized_rollback: the worker tests flush the database afterwards; this puts the
# career clusters (a data migration) back before each test.
pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JOB_TIMEOUT = 90


def wait_for(condition, *, timeout: float, workers, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{workers.logs()}")


def job_files(job: ReportJob) -> list[str]:
    folder = f"reports/jobs/{job.pk}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


@pytest.fixture
def routed_to(celery_workers):
    """Tasks sent the ordinary way (delay_on_commit) go to the test's own queue."""
    saved = app.conf.task_routes
    app.conf.task_routes = {"reports.tasks.*": {"queue": celery_workers.queue}}
    app.amqp.flush_routes()
    try:
        yield celery_workers
    finally:
        app.conf.task_routes = saved
        app.amqp.flush_routes()


def test_a_report_asked_for_in_a_request_is_built_by_a_worker(routed_to, college):
    workers = routed_to
    enrollments = [college.eligible() for _ in range(3)]
    workers.start()

    job = transcript_report_request(
        requester=college.registrar,
        college=college.college,
        academic_year=None,
        term="",
        file_format="xlsx",
        only_new=False,
        marks_sent=True,
    )

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=JOB_TIMEOUT, workers=workers, what="the report job")
    assert job.status == ReportJob.Status.DONE, job.error
    assert (job.row_count, job.progress, job.attempts) == (6, 100, 1)
    assert job_files(job) == [job.file_name]
    assert TranscriptReportRow.objects.filter(job=job).count() == len(enrollments)
    assert job.export_log_entry.student_count == 3


def test_a_job_survives_its_worker_being_killed_and_completes_once(celery_workers, college):
    workers = celery_workers
    for _ in range(40):
        college.eligible()  # 80 rows: two college courses each
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=college.registrar,
        college=college.college,
        marks_sent=True,
    )
    # Slow: 20 chunks of 4 rows with 0.4 s after each, so the kill lands mid-job.
    first = workers.start(chunk_size=4, chunk_delay_ms=400)
    workers.send(run_report_job, job.pk)

    def midway():
        job.refresh_from_db()
        return job.status == ReportJob.Status.RUNNING and 10 <= job.progress < 90

    wait_for(midway, timeout=JOB_TIMEOUT, workers=workers, what="the job to be half done")
    workers.kill(first)
    killed_at = time.monotonic()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.RUNNING
    assert job.attempts == 1
    assert job.file == ""

    # Redis hands the unacknowledged task out again once its visibility timeout has
    # passed; a worker restores such tasks when it starts.
    time.sleep(max(0.0, WORKER_VISIBILITY_TIMEOUT + 1 - (time.monotonic() - killed_at)))
    workers.start(chunk_size=4)

    def done():
        job.refresh_from_db()
        return job.is_finished

    wait_for(done, timeout=JOB_TIMEOUT, workers=workers, what="the job to finish")
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.attempts == 2
    assert job.row_count == 80
    assert job_files(job) == [job.file_name]
    assert TranscriptReportRow.objects.filter(job=job).count() == 40
    assert AccessLogEntry.objects.filter(action="export").count() == 1
    # And it is not run a third time.
    time.sleep(2)
    job.refresh_from_db()
    assert job.attempts == 2
