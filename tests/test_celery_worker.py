"""End to end: a real `celery worker` process runs a task sent through Redis.

The other tests run tasks in-process (CELERY_TASK_ALWAYS_EAGER); this one checks the
wiring they cannot: the task is found by name in the worker, its arguments survive JSON,
the worker reaches the test database and sends email, and the send-once rule holds
across processes.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.db import connection
from django.template.loader import render_to_string

from accounts.models import SentEmail
from accounts.tasks import send_welcome_email
from sers.celery import app
from tests.factories import UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60
TASK_TIMEOUT = 60


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
def celery_not_eager():
    """Send tasks to the broker instead of running them here; restored afterwards."""
    redis_url = os.environ["REDIS_URL"]
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    try:
        yield redis_url
    finally:
        app.conf.update(saved)


@pytest.fixture
def worker(tmp_path, celery_not_eager, transactional_db, django_db_serialized_rollback):
    """A real worker process on a queue of its own, so parallel test runs share nothing.

    Transactional (the worker must see committed rows), with serialized rollback like
    every transactional test here (see tests/browser/fixtures.py).
    """
    queue = f"sers-test-{uuid.uuid4().hex}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    celery_bin = Path(sys.executable).parent / "celery"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "sers.settings.dev",
        "DATABASE_URL": database_url(),
        "REDIS_URL": celery_not_eager,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "DEBUG": "false",
    }
    command = [
        str(celery_bin),
        "-A",
        "sers",
        "worker",
        "--pool=solo",
        f"--queues={queue}",
        f"--hostname={queue}@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (the project's own celery)
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=None
        )
    try:
        # Wait until the worker has declared its queue, then hand it out.
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while " ready." not in log_path.read_text():
            if process.poll() is not None:
                pytest.fail(
                    f"celery worker exited with {process.returncode}:\n{log_path.read_text()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"celery worker not ready in time:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield {"queue": queue, "mail_dir": mail_dir, "log": log_path, "redis_url": celery_not_eager}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def run_in_worker(worker, task, *args):
    """Send `task` through Redis to the worker's queue and wait for its return value."""
    redis_url = worker["redis_url"]
    with app.connection_for_write(redis_url) as conn:
        sent = task.apply_async(args=args, queue=worker["queue"], connection=conn)
    backend = RedisBackend(app=app, url=redis_url)
    try:
        result = AsyncResult(sent.id, app=app, backend=backend)
        try:
            return result.get(timeout=TASK_TIMEOUT, propagate=True)
        except Exception:
            pytest.fail(f"task {task.name} failed in the worker:\n{worker['log'].read_text()}")
    finally:
        backend.client.close()


def test_worker_sends_the_welcome_email_once(worker):
    user = UserFactory(email="worker-test@example.org", first_name="Ada")
    subject = " ".join(render_to_string("accounts/emails/welcome_subject.txt").split())

    assert run_in_worker(worker, send_welcome_email, user.pk) is True

    messages = [path.read_text() for path in sorted(worker["mail_dir"].iterdir())]
    assert len(messages) == 1, messages
    assert f"Subject: {subject}" in messages[0]
    assert "To: worker-test@example.org" in messages[0]
    assert SentEmail.objects.filter(user=user, kind="welcome").count() == 1

    # Sent again (a retry, a double click): nothing more goes out.
    assert run_in_worker(worker, send_welcome_email, user.pk) is False
    assert len(list(worker["mail_dir"].iterdir())) == 1
    assert SentEmail.objects.filter(user=user).count() == 1
