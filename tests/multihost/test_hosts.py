"""Two web hosts and two Celery workers at once, sharing PostgreSQL, Redis and an S3 bucket.

Each host is its own program (gunicorn, `celery worker`) with the production settings, as
on separate machines; the test's browser reaches them over HTTP as a load balancer would
(tests/multihost/cluster.py). What must hold across machines:

- a session started on one web host is valid on the other (and ends on both);
- a cached page changed through one host is fresh on the other;
- a report built by either worker downloads from either web host;
- a worker killed mid-job (SIGKILL, the machine gone) leaves the job to the other worker,
  which completes it exactly once.

With DATABASE_URL pointing at PgBouncer (.ci/run), every process goes through it.
"""

import csv
import io
import os
import re
import time
import urllib.request

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accesslog.models import AccessLogEntry
from reports.models import ReportJob, TranscriptReportRow
from tests.multihost.cluster import RESTORE_SECONDS, Browser, Cluster
from tests.multihost.conftest import S3_CREDENTIALS, S3_REGION, new_bucket, s3_client
from tests.reports.conftest import database_url
from tests.reports.test_worker import wait_for as wait_until
from tests.world import build_place

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "several-hosts-1"
JOB_TIMEOUT = 120
ROWS_PER_STUDENT = 2  # the college's agreement has two college courses


@pytest.fixture(scope="module")
def bucket(s3_endpoint):
    with new_bucket(s3_endpoint) as name:
        yield name


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory, s3_endpoint, bucket):
    """Two web hosts and two workers for the module's tests."""
    with django_db_blocker.unblock():
        url = database_url()
    hosts = Cluster(
        tmp_path_factory.mktemp("hosts"),
        database_url=url,
        redis_url=os.environ["REDIS_URL"],
        s3={
            "SERS_S3_BUCKET": bucket,
            "AWS_S3_ENDPOINT_URL": s3_endpoint,
            "AWS_S3_REGION_NAME": S3_REGION,
            **S3_CREDENTIALS,
        },
    )
    try:
        for _ in range(2):
            hosts.start_web()
            hosts.start_worker()
        yield hosts
    finally:
        hosts.stop()


def with_password(user):
    """The account's password hashed with a hasher of the production settings."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "severalhosts", iterations=1000)
    user.save(update_fields=["password"])
    return user


def authenticator(user):
    """An authenticator app set up for `user`; calling it gives the current code."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return lambda: f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6):06d}"


def wait(cluster: Cluster, condition, what: str):
    return wait_until(condition, timeout=JOB_TIMEOUT, workers=cluster, what=what)


def started_on(cluster: Cluster, job_id: int) -> int:
    """The number of the worker that has started the job."""
    wait(cluster, lambda: cluster.worker_running(job_id) is not None, "a worker")
    return cluster.worker_running(job_id)


def job_state(job_id: int) -> ReportJob:
    return ReportJob.objects.get(pk=job_id)


def ask_for_report(browser: Browser, host: str, college) -> int:
    """A registrar asks a web host for a transcript-credit report (CSV, every row)."""
    answer = browser.post(
        host,
        "/reports/transcript-credit/",
        {"college": college.college.pk, "file_format": "csv"},
    )
    assert answer.status == 302, answer.text[:2000]
    match = re.fullmatch(r"/reports/jobs/(\d+)/", answer.location)
    assert match, answer.location
    return int(match.group(1))


def download(browser: Browser, host: str, job_id: int) -> bytes:
    """The file through a web host: permission checked there, then the signed link."""
    answer = browser.get(host, f"/reports/jobs/{job_id}/download/")
    assert answer.status == 302, answer.text[:2000]
    assert "X-Amz-Signature=" in answer.location
    with urllib.request.urlopen(answer.location, timeout=30) as response:  # noqa: S310
        return response.read()


def data_rows(content: bytes) -> int:
    return len(list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))) - 1


def registrar_signed_in(college, host: str) -> Browser:
    browser = Browser()
    user = with_password(college.registrar)
    browser.sign_in(host, user.email, PASSWORD, code=authenticator(user))
    return browser


# --- sessions and cached pages ---------------------------------------------------------


def test_a_session_started_on_one_host_is_valid_on_the_other(cluster, year, today):
    place = build_place(year, name="Cascade")
    teacher = with_password(place.teacher)
    first, second = cluster.web
    roster = f"/teacher/classes/{place.section.pk}/"
    for host in cluster.web:  # ready: the database, Redis, the bucket (the first call to
        # the bucket sets up the S3 client, which may outlast the check's time limit)
        wait(cluster, lambda host=host: Browser().get(host, "/readyz").status == 200, "ready")

    browser = Browser()
    browser.sign_in(first, teacher.email, PASSWORD)
    page = browser.get(second, roster)
    assert page.status == 200
    assert f'value="{place.enrollments[0].pk}"' in page.text

    # Signed out through the second host: the session has ended on the first as well,
    # even for a copy of the old cookie.
    copy = Browser(cookies=dict(browser.cookies))
    assert browser.post(second, "/accounts/logout/", {}, form_page=roster).status == 302
    for host in cluster.web:
        assert copy.get(host, roster).location.startswith("/accounts/login/")


def test_a_cached_page_changed_through_one_host_is_fresh_on_the_other(cluster, year, today):
    place = build_place(year, name="Cascade")
    teacher = with_password(place.teacher)
    first, second = cluster.web
    roster = f"/teacher/classes/{place.section.pk}/"
    browser = Browser()
    browser.sign_in(first, teacher.email, PASSWORD)
    waiting = [f'name="enrollment" value="{e.pk}"' for e in place.enrollments]

    hits = cluster.metric(first, "sers_page_cache_requests_total", result="hit")
    for _ in range(2):
        page = browser.get(first, roster)
        assert page.status == 200
        assert all(box in page.text for box in waiting)
    # The second view was served from the cache shared by the hosts (Redis).
    assert cluster.metric(first, "sers_page_cache_requests_total", result="hit") > hits

    confirmed = browser.post(second, f"{roster}confirm/", {"all": "1"}, form_page=roster)
    assert confirmed.status == 302

    for host in (first, second):
        page = browser.get(host, roster)
        assert page.status == 200
        assert not any(box in page.text for box in waiting), "a stale roster was served"


# --- report jobs -----------------------------------------------------------------------


def test_a_report_built_by_either_worker_downloads_from_either_host(cluster, college):
    students = 12  # 24 rows: six chunks of 4 rows, 0.3 s each on a worker
    for _ in range(students):
        college.eligible()
    first, second = cluster.web
    browser = registrar_signed_in(college, first)
    for host in cluster.web:
        assert browser.get(host, "/reports/transcript-credit/").status == 200

    # Reports are asked for through each host in turn until each worker has built one:
    # a worker takes one task at a time, so the next goes to the other while it is busy.
    jobs, builders = [], set()
    while builders != {0, 1}:
        assert len(jobs) < 6, f"one worker took every report\n{cluster.logs()}"
        job_id = ask_for_report(browser, cluster.web[len(jobs) % 2], college)
        builders.add(started_on(cluster, job_id))
        jobs.append(job_id)

    for job_id in jobs:
        wait(cluster, lambda job_id=job_id: job_state(job_id).is_finished, "the reports")
        job = job_state(job_id)
        assert job.status == ReportJob.Status.DONE, job.error
        assert job.attempts == 1
        stored = (
            s3_client(cluster.env["AWS_S3_ENDPOINT_URL"])
            .get_object(Bucket=cluster.env["SERS_S3_BUCKET"], Key=job.file)["Body"]
            .read()
        )
        files = [download(browser, host, job_id) for host in (first, second)]
        assert files == [stored, stored]
        assert data_rows(stored) == students * ROWS_PER_STUDENT == job.row_count
    assert AccessLogEntry.objects.filter(action="download").count() == 2 * len(jobs)


def test_a_worker_killed_mid_job_leaves_it_to_the_other_which_completes_it_once(cluster, college):
    students = 20  # 40 rows: ten chunks of 4 rows, 0.3 s each
    for _ in range(students):
        college.eligible()
    first, second = cluster.web
    browser = registrar_signed_in(college, second)

    job_id = ask_for_report(browser, first, college)
    victim = started_on(cluster, job_id)
    wait(cluster, lambda: 10 <= job_state(job_id).progress < 70, "the job to be half done")
    cluster.kill_worker(victim)
    job = job_state(job_id)
    assert (job.status, job.attempts, job.file) == (ReportJob.Status.RUNNING, 1, "")

    # Unacknowledged, the task goes back to the queue once its visibility timeout has
    # passed; the surviving worker's sweep (every CELERY_RESTORE_SECONDS) puts it back.
    wait(cluster, lambda: job_state(job_id).is_finished, "the other worker to finish")
    survivor = 1 - victim
    job = job_state(job_id)
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.attempts == 2
    assert job.row_count == students * ROWS_PER_STUDENT
    assert f"report job done: job_id={job_id} " in cluster.worker_log(survivor)
    assert f"report job done: job_id={job_id} " not in cluster.worker_log(victim)
    assert TranscriptReportRow.objects.filter(job_id=job_id).count() == students
    assert AccessLogEntry.objects.filter(action="export").count() == 1
    listed = s3_client(cluster.env["AWS_S3_ENDPOINT_URL"]).list_objects_v2(
        Bucket=cluster.env["SERS_S3_BUCKET"], Prefix=f"reports/jobs/{job_id}/"
    )
    assert [item["Key"] for item in listed["Contents"]] == [job.file]

    # Exactly once: no third run, however long the sweeps go on.
    time.sleep(3 * RESTORE_SECONDS + 1)
    assert job_state(job_id).attempts == 2
    files = {download(browser, host, job_id) for host in (first, second)}
    assert len(files) == 1
    assert data_rows(files.pop()) == job.row_count

    cluster.start_worker(victim)  # two workers again for whatever runs next
