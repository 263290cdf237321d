"""Fails a test in which application code writes a cached model in bulk behind the caches'
backs.

The caches (enrollment.pagecache, articulations.cache) learn of every write through the
model signals and sers.bulk. A service that calls ``QuerySet.update()``,
``bulk_create()``, ``bulk_update()`` or raw SQL on a table they watch would leave pages
stale. This guard sees every statement the test's connections run; an UPDATE, INSERT or
DELETE of a watched table must come from ``save()``, ``delete()``, a many-to-many
``add``/``remove``/``clear`` (each sends a signal), or from inside sers.bulk. Otherwise,
when the first code of this project on the call stack belongs to an application (not to
the tests, the demo data, the benchmarks or a migration), the statement is refused with
an AssertionError, and the test fails at teardown even if something caught the error.
"""

import re
import sys
from pathlib import Path

from django.db import connections
from django.db.backends.signals import connection_created

from sers import bulk

ROOT = Path(__file__).resolve().parents[1]
APPS = frozenset(
    {"accounts", "accesslog", "organisations", "articulations", "enrollment", "reports", "sers"}
)
WRITE = re.compile(r'\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

# Django's code that sends a signal for what it writes: (file, function) -> statements.
_SIGNALLED = {
    ("base.py", "save_base"): ("UPDATE", "INSERT"),
    ("deletion.py", "delete"): ("DELETE",),  # its SET NULL updates send nothing: not here
    ("related_descriptors.py", "_add_items"): ("INSERT",),
    ("related_descriptors.py", "_remove_items"): ("DELETE",),
    ("related_descriptors.py", "clear"): ("DELETE",),
}
DJANGO_MODELS = str(Path(__import__("django").__file__).parent / "db" / "models")

violations: list[str] = []


def _signalled(code, verb: str) -> bool:
    if not code.co_filename.startswith(DJANGO_MODELS):
        return False
    verbs = _SIGNALLED.get((Path(code.co_filename).name, code.co_name), ())
    return verb in verbs


def _unannounced_writer(verb: str) -> str | None:
    """The application frame that wrote without a signal or sers.bulk, if any."""
    frame = sys._getframe(2)
    # Start above the connection's chain of execute wrappers (another wrapper, such as
    # the per-request query counter, is not the code that wrote).
    chain = frame
    while chain is not None and chain.f_code.co_name != "_execute_with_wrappers":
        chain = chain.f_back
    if chain is not None:
        frame = chain.f_back
    while frame is not None:
        code = frame.f_code
        if _signalled(code, verb):
            return None
        path = Path(code.co_filename)
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            top = path.relative_to(ROOT).parts[0]
            if top in APPS and "migrations" not in path.parts:
                return f"{path.relative_to(ROOT)}:{frame.f_lineno} ({code.co_name})"
            return None  # tests, demo data, benchmarks and migrations arrange rows freely
        frame = frame.f_back
    return None


def _guard(execute, sql, params, many, context):
    if sql[:1] in "UIDuid" and not bulk.writing_announced():
        match = WRITE.match(sql)
        if match and match.group(1) in bulk.watched_tables():
            verb = sql.split(None, 1)[0].upper()
            writer = _unannounced_writer(verb)
            if writer is not None:
                message = (
                    f"{writer} wrote the cached table {match.group(1)} with {verb} "
                    "but no signal: use sers.bulk.bulk_update / bulk_create"
                )
                violations.append(message)
                raise AssertionError(message)
    return execute(sql, params, many, context)


def _install(connection, **kwargs) -> None:
    if _guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(_guard)


def install() -> None:
    """On every connection, those open now and those opened later (threads)."""
    for connection in connections.all():
        _install(connection)
    connection_created.connect(_install, dispatch_uid="tests.bulkguard")
