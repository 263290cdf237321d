"""Fixtures for the reports tests: a college with enrollments at every step (built with
tests/world.py; `year` and `today` come from tests/conftest.py), and a real Celery worker
(for the tests marked redis and postgres)."""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from accounts.models import Role
from sers.celery import app
from tests.factories import CollegeCourseFactory, CollegeFactory, make_staff
from tests.world import add_agreement, add_enrollment, add_section, add_student, advance, waive_fee

ROOT = Path(__file__).resolve().parent.parent.parent
# The day the credits these tests transcribe were posted: after the school year's end,
# with no college student id (advance(..., transcribed_on=POSTED, college_student_id=None)).
POSTED = datetime.date(2027, 7, 1)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Report files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _today(today):
    """The factories' default year (2026-27) is the current one."""


class College:
    """A college (of a consortium of its own) with one agreement of two college courses
    and a class of it in the year, at a school and with a teacher of its own."""

    def __init__(self, year):
        self.year = year
        self.college = CollegeFactory()
        self.consortium = self.college.consortium
        self.courses = [
            CollegeCourseFactory(
                college=self.college,
                prefix="ACCT",
                number="101",
                title="Accounting I",
                credits=Decimal("5.0"),
            ),
            CollegeCourseFactory(
                college=self.college,
                prefix="ACCT",
                number="102",
                title="Accounting II",
                credits=Decimal("3.0"),
            ),
        ]
        self.articulation = add_agreement(
            self.consortium, self.college, [year], courses=self.courses
        )
        self.section = add_section(self.articulation, year=year)
        self.registrar = make_staff(Role.REGISTRAR, self.college)

    def eligible(self, *, section=None, grade="A", **student_fields):
        """An enrollment ready to transcribe: attained, fee waived, email verified. The
        student (add_student: `student_fields`) is at a school of their own."""
        enrollment = add_enrollment(add_student(**student_fields), section or self.section)
        advance(enrollment, grade=grade)
        waive_fee(enrollment)
        return enrollment


@pytest.fixture
def college(year):
    return College(year)


# --- a real Celery worker ------------------------------------------------------------


def database_url() -> str:
    """The URL of the database this test runs in (test_..., one per xdist worker)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def celery_broker():
    """Send tasks to Redis instead of running them here; restored afterwards."""
    redis_url = os.environ["REDIS_URL"]
    keys = ("broker_url", "result_backend", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": WORKER_VISIBILITY_TIMEOUT},
    )
    try:
        yield redis_url
    finally:
        app.conf.update(saved)


WORKER_START_TIMEOUT = 60
# Short, so a job whose worker was killed is handed out again within the test.
WORKER_VISIBILITY_TIMEOUT = 8


class Workers:
    """Starts `celery -A sers worker` processes on a queue of the test's own."""

    def __init__(self, tmp_path: Path, redis_url: str, media_root: Path):
        self.queue = f"sers-test-{uuid.uuid4().hex}"
        self.tmp_path = tmp_path
        self.redis_url = redis_url
        self.media_root = media_root
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *, chunk_delay_ms: int = 0, chunk_size: int = 2000) -> subprocess.Popen:
        number = len(self.processes) + 1
        log_path = self.tmp_path / f"worker-{number}.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "sers.settings.dev",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "MEDIA_ROOT": str(self.media_root),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "CELERY_VISIBILITY_TIMEOUT": str(WORKER_VISIBILITY_TIMEOUT),
            "SERS_REPORT_CHUNK_DELAY_MS": str(chunk_delay_ms),
            "SERS_REPORT_CHUNK_SIZE": str(chunk_size),
            "DEBUG": "false",
        }
        command = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "sers",
            "worker",
            "--pool=solo",
            f"--queues={self.queue}",
            f"--hostname={self.queue}-{number}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 - a fixed command, no user input
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append((process, log_path))
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while " ready." not in log_path.read_text():
            if process.poll() is not None:
                pytest.fail(f"celery worker exited with {process.returncode}:\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"celery worker not ready in time:\n{self.logs()}")
            time.sleep(0.2)
        return process

    def send(self, task, *args):
        with app.connection_for_write(self.redis_url) as conn:
            return task.apply_async(args=args, queue=self.queue, connection=conn)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: the worker gets no chance to acknowledge or hand back its task."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text()}" for _process, path in self.processes
        )

    def stop_all(self) -> None:
        for process, _path in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, _path in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def celery_workers(tmp_path, celery_broker, transactional_db, settings):
    """workers.start() starts a real worker; all are stopped at the end of the test."""
    workers = Workers(tmp_path, celery_broker, Path(settings.MEDIA_ROOT))
    try:
        yield workers
    finally:
        workers.stop_all()
