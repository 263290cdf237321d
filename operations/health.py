"""Readiness: /readyz answers whether this process can serve real work now.

/healthz (sers/views.py) is liveness: the process answers and its database connection
works. /readyz checks each dependency in turn: the database, the Redis cache, the Celery
broker, that every migration is applied, and that the file storage takes a write. Each
check is bounded in time and never raises; the answer names each check "ok" or "down"
with the class of the error only (e.g. "OperationalError"), never a message, a URL, a
host or a password. 200 when every check is ok, else 503.
"""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

# Seconds each check may take before it counts as down ("Timeout").
CHECK_TIMEOUT = 3.0
BROKER_CONNECT_TIMEOUT = 2.0


class CheckFailed(Exception):
    """A probe answered, but not as it should; the reason is the error's class name."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    reason: str = ""  # down: the error's class; ok: an optional detail ("in-process")

    def as_json(self) -> dict:
        answer = {"status": "ok" if self.ok else "down"}
        if self.reason:
            answer["detail" if self.ok else "reason"] = self.reason
        return answer


# --- the probes: each raises when its dependency is not usable -----------------------------


def probe_database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic(using=DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Bounded on the server too (the thread bound below cannot stop a query).
            # (SET takes no bound parameter: the value is our own integer.)
            cursor.execute(f"SET LOCAL statement_timeout = {int(CHECK_TIMEOUT * 1000)}")
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise CheckFailed("UnexpectedAnswer")
    return ""


def probe_cache() -> str:
    key = f"readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise CheckFailed("CacheMiss")
    finally:
        cache.delete(key)
    return ""


def probe_broker() -> str:
    from sers.celery import app

    connection = app.connection_for_write()
    try:
        if connection.transport.driver_type == "memory":
            return "in-process"  # no REDIS_URL: tasks run in this process (dev, tests)
        connection.ensure_connection(
            max_retries=1,
            interval_start=0,
            interval_step=0.2,
            interval_max=0.2,
            timeout=BROKER_CONNECT_TIMEOUT,
        )
    finally:
        connection.release()
    return ""


_migrations_applied = False  # once applied, they stay applied for this process


def migration_plan() -> list:
    """The migrations still to apply to the default database (empty: up to date)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def probe_migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return ""
    if migration_plan():
        raise CheckFailed("UnappliedMigrations")
    _migrations_applied = True
    return ""


def probe_storage() -> str:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)
    return ""


@dataclass(frozen=True)
class Check:
    name: str
    probe_name: str  # a probe_* function of this module, looked up when the check runs
    in_thread: bool  # False: it uses this request's database connection

    @property
    def probe(self) -> Callable[[], str]:
        return globals()[self.probe_name]


CHECKS: list[Check] = [
    Check("database", "probe_database", in_thread=False),
    Check("migrations", "probe_migrations", in_thread=False),
    Check("cache", "probe_cache", in_thread=True),
    Check("broker", "probe_broker", in_thread=True),
    Check("storage", "probe_storage", in_thread=True),
]


def _reason(error: BaseException) -> str:
    return error.reason if isinstance(error, CheckFailed) else type(error).__name__


def _run(check: Check) -> CheckResult:
    """Run one probe; never raises. A probe that uses no database runs in a thread of its
    own, so a dependency that hangs costs at most CHECK_TIMEOUT."""
    if not check.in_thread:
        try:
            return CheckResult(check.name, True, check.probe())
        except Exception as error:
            return CheckResult(check.name, False, _reason(error))

    outcome: dict[str, CheckResult] = {}

    def target() -> None:
        try:
            outcome["result"] = CheckResult(check.name, True, check.probe())
        except Exception as error:
            outcome["result"] = CheckResult(check.name, False, _reason(error))

    thread = threading.Thread(target=target, name=f"readyz-{check.name}", daemon=True)
    thread.start()
    thread.join(CHECK_TIMEOUT)
    return outcome.get("result") or CheckResult(check.name, False, "Timeout")


def readiness() -> list[CheckResult]:
    return [_run(check) for check in CHECKS]


@never_cache
@csrf_exempt
@require_safe
def readyz(request):
    """Readiness for the load balancer and docker compose: 200 when every dependency
    works, else 503; JSON naming each check."""
    results = readiness()
    ready = all(result.ok for result in results)
    body = {
        "status": "ok" if ready else "down",
        "checks": {result.name: result.as_json() for result in results},
    }
    return JsonResponse(body, status=200 if ready else 503)
