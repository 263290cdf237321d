"""The application's Prometheus metrics (README: Metrics). The bottom layer: any app may
import this module and count something; nothing here imports an app.

Every metric is a counter or a histogram, so it works the same in one process (runserver,
tests) and under gunicorn or a prefork Celery worker in prometheus_client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR). Numbers read from the database or Redis when Prometheus
scrapes (report jobs by state, queue depth, scheduled jobs) are not here but in
operations/collectors.py, and the endpoint is operations/metrics_view.py.

No label may hold personal data, not even a user id: view names, statuses, task names,
pages, kinds and outcomes only.
"""

import os
import threading
import time
from contextlib import contextmanager

from celery import signals as celery_signals
from django.db import connection
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

# --- requests ---------------------------------------------------------------------------

DB_QUERIES_PER_REQUEST = Histogram(
    "sers_db_queries_per_request",
    "Database statements run while answering one request, by view name.",
    ["view"],
    buckets=(0, 1, 2, 5, 10, 15, 20, 30, 40, 60, 100, 200, 500),
)

PAGE_CACHE = Counter(
    "sers_page_cache_requests",
    "Signed-in pages' content looked up in the page cache (enrollment/pagecache.py), by "
    "page and result: hit, miss, or error (the cache was unavailable).",
    ["page", "result"],
)

# --- sign-in ----------------------------------------------------------------------------

SIGN_INS = Counter("sers_sign_ins", "Successful sign-ins.")
SIGN_IN_FAILURES = Counter(
    "sers_sign_in_failures", "Failed sign-in attempts (throttled ones included)."
)
SIGN_INS_THROTTLED = Counter(
    "sers_sign_ins_throttled",
    "Sign-in attempts that locked out an account or address, or came while it was locked "
    "out (django-axes' user_locked_out).",
)

# --- business events (counted after commit) ---------------------------------------------

REGISTRATIONS = Counter(
    "sers_registrations",
    "Registrations of a student in a class, committed; by who registered: the student "
    "or staff on the student's behalf.",
    ["by"],
)
GRADE_SAVES = Counter("sers_grade_saves", "Grade saves of a class roster, committed.")
GRADES_SAVED = Counter("sers_grades_saved", "Grades that changed in those saves.")

EMAILS = Counter(
    "sers_emails",
    "Emails handed to the mail backend, by kind and outcome (sent, failed).",
    ["kind", "outcome"],
)

REPORT_JOB_DURATION = Histogram(
    "sers_report_job_duration_seconds",
    "Report jobs from starting to finishing, by kind and outcome (done, failed).",
    ["kind", "outcome"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
)

# --- Celery -----------------------------------------------------------------------------

CELERY_TASKS = Counter(
    "sers_celery_tasks",
    "Celery tasks run, by task name and final state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
CELERY_TASK_DURATION = Histogram(
    "sers_celery_task_duration_seconds",
    "Celery task run time, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800),
)


# --- helpers ----------------------------------------------------------------------------


@contextmanager
def email_sending(kind: str):
    """Wrap one send: counts it as sent, or as failed when the backend raised."""
    try:
        yield
    except Exception:
        EMAILS.labels(kind=kind, outcome="failed").inc()
        raise
    EMAILS.labels(kind=kind, outcome="sent").inc()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def process_registry():
    """What this process exposes: every process's files in multiprocess mode, else this
    process's own default registry."""
    if not multiprocess_dir():
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class QueryCountMiddleware:
    """Counts the statements each request runs (sers_db_queries_per_request).

    A wrapper on the connection (connection.execute_wrapper) counts in Python: no query
    of its own, and only the statements of this request on this thread. Placed right
    after django-prometheus' first middleware so the sessions' and sign-in's statements
    count too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = [0]

        def counting(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "<unnamed view>"
        DB_QUERIES_PER_REQUEST.labels(view=view).observe(count[0])
        return response


# --- Celery signals ---------------------------------------------------------------------

_task_started: dict[str, float] = {}
_task_lock = threading.Lock()


def _task_prerun(sender=None, task_id=None, **kwargs) -> None:
    with _task_lock:
        _task_started[task_id] = time.monotonic()


def _task_postrun(sender=None, task_id=None, state=None, **kwargs) -> None:
    name = getattr(sender, "name", None) or "unknown"
    with _task_lock:
        started = _task_started.pop(task_id, None)
    if started is not None:
        CELERY_TASK_DURATION.labels(task=name).observe(time.monotonic() - started)
    CELERY_TASKS.labels(task=name, state=state or "UNKNOWN").inc()


def _worker_ready(**kwargs) -> None:
    """The worker's metrics on SERS_WORKER_METRICS_PORT (when set), from the main process;
    in multiprocess mode (sers/celery.py sets it up) they include the pool's children."""
    port = os.environ.get("SERS_WORKER_METRICS_PORT", "")
    if not port:
        return
    from prometheus_client import start_http_server

    address = os.environ.get("SERS_WORKER_METRICS_ADDR", "127.0.0.1")
    start_http_server(int(port), addr=address, registry=process_registry())


def _worker_process_shutdown(pid=None, **kwargs) -> None:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def connect_celery_signals() -> None:
    """Called once at start-up (operations/apps.py)."""
    celery_signals.task_prerun.connect(_task_prerun, dispatch_uid="sers.metrics.prerun")
    celery_signals.task_postrun.connect(_task_postrun, dispatch_uid="sers.metrics.postrun")
    celery_signals.worker_ready.connect(_worker_ready, dispatch_uid="sers.metrics.worker")
    celery_signals.worker_process_shutdown.connect(
        _worker_process_shutdown, dispatch_uid="sers.metrics.child_exit"
    )
