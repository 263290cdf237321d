"""Which database a query goes to: the primary, or the reporting replica.

With DATABASE_REPLICA_URL there is a "replica" database, a streaming replica of the
primary. The heavy reads of reporting run inside `reporting_reads()`, and the router sends
the reads made there to the replica:

    with reporting_reads():
        dashboard = dashboard_report(...)        # read from the replica

Everything else goes to the primary: every write (also inside such a block), every read
outside one, and everything when there is no replica. So a page a user sees right after
their own write reads the primary, unless it is written inside the block on purpose.

A replica is behind the primary by its lag, usually milliseconds, longer when it is busy
or its replay is paused. A dashboard may be that old. Where an old read would be wrong,
`reporting_reads(fresh=True)` notes the primary's WAL position when the block begins and
waits (up to SERS_REPLICA_WAIT_SECONDS) until the replica has replayed it, so the reads
see at least everything committed before the block; if the replica does not get there in
time, or cannot be reached, the block reads from the primary. A transcript-credit report
chooses its rows this way, after locking its college (reports/services.py): a row an
earlier report marked as sent is never chosen again, and the rows it marks as sent are
exactly the ids it read.
"""

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
# How often a fresh block asks the replica how far it has replayed.
_POLL_SECONDS = 0.05

# The database the reads of the current block go to; None outside any block.
_reads_from: ContextVar[str | None] = ContextVar("sers_reporting_reads", default=None)


class ReportingRouter:
    """Reads inside `reporting_reads()` to the database it chose; all else to the primary."""

    def db_for_read(self, model, **hints):
        return _reads_from.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def replica_enabled() -> bool:
    return settings.SERS_REPLICA_READS and REPLICA in settings.DATABASES


@contextlib.contextmanager
def reporting_reads(*, fresh: bool = False) -> Iterator[str]:
    """Send the reads of the block to the replica (see the module docstring); yields the
    alias chosen, "replica" or "default". Querysets must be evaluated inside the block."""
    alias = _choose(fresh=fresh) if replica_enabled() else DEFAULT_DB_ALIAS
    token = _reads_from.set(alias)
    try:
        yield alias
    finally:
        _reads_from.reset(token)


def _choose(*, fresh: bool) -> str:
    try:
        if not fresh:
            _replayed_to(None)  # reachable, and a replica
            return REPLICA
        position = _primary_position()
        deadline = time.monotonic() + settings.SERS_REPLICA_WAIT_SECONDS
        while not _replayed_to(position):
            if time.monotonic() >= deadline:
                logger.warning(
                    "reporting replica behind the primary after %ss: reading the primary",
                    settings.SERS_REPLICA_WAIT_SECONDS,
                )
                return DEFAULT_DB_ALIAS
            time.sleep(_POLL_SECONDS)
        return REPLICA
    except DatabaseError as error:
        logger.warning(
            "reporting replica unavailable (%s): reading the primary", type(error).__name__
        )
        connections[REPLICA].close()
        return DEFAULT_DB_ALIAS


def _primary_position() -> str:
    """The primary's WAL insert position: every transaction committed so far is before it
    (the insert position, not the flushed one, also covers asynchronous commits)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def _replayed_to(position: str | None) -> bool:
    """Whether the replica has replayed the WAL up to `position` (None: anywhere). A
    database that is not replaying WAL (not a replica, or promoted) raises DatabaseError."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn",
            [position or "0/0"],
        )
        in_recovery, caught_up = cursor.fetchone()
    if not in_recovery:
        raise DatabaseError("the replica database is not in recovery")
    return bool(caught_up)
