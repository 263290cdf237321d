"""The duplicate check staff ask for, as a job: asked for from the duplicates page, run by
the worker (or in-process where tasks run so), its state read so that the page says what
is true: running, or when the last check finished and how many new pairs it queued.

The check is statewide (duplicates.duplicate_check: students move between consortia), so
there is one state for everybody, whoever asked: a click queues one run, however many
consortia the person looks after, and a click while a check is running or waiting queues
nothing more. The last run's end is the statewide check's own status, so the nightly run
counts too, and a run that found another under way is answered by that run's end.

The states live in the cache (Redis in production): they describe a job, they are not a
record. With the cache down nothing is known, and the page says only what it was asked.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from .. import tasks
from .duplicates import LOCK_SECONDS, duplicate_check_status

logger = logging.getLogger(__name__)

ASKED_KEY = "enrollment:duplicate-check:asked"
ASKED_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class DuplicateCheckState:
    running: bool = False  # asked for and not finished since, or under way
    finished_at: datetime | None = None  # the last run's end, if known
    new_pairs: int = 0
    failed: bool = False


def duplicate_check_state() -> DuplicateCheckState:
    """Where the statewide check stands, as the duplicates page says it."""
    try:
        asked_at = cache.get(ASKED_KEY)
        status = duplicate_check_status() or {}
    except Exception:  # the cache is down: nothing is known
        logger.exception("could not read the state of the duplicate check")
        return DuplicateCheckState()
    finished_at = status.get("finished_at")
    started_at = status.get("started_at")
    # A run whose worker died says "running" for ever; its lock is gone after LOCK_SECONDS.
    under_way = (
        status.get("state") == "running"
        and started_at is not None
        and timezone.now() - started_at < timedelta(seconds=LOCK_SECONDS)
    )
    waiting = asked_at is not None and (finished_at is None or finished_at < asked_at)
    if under_way or waiting:
        return DuplicateCheckState(running=True)
    return DuplicateCheckState(
        finished_at=finished_at,
        new_pairs=status.get("new_pairs", 0),
        failed=status.get("state") == "failed",
    )


def duplicate_check_request() -> tuple[DuplicateCheckState, bool]:
    """Ask for the statewide check (queued at commit) unless one is running or waiting.
    Returns the state as it stands once sent (finished already where tasks run
    in-process) and whether this request queued a run."""
    if duplicate_check_state().running:
        return DuplicateCheckState(running=True), False
    try:
        cache.set(ASKED_KEY, timezone.now(), ASKED_SECONDS)
    except Exception:  # the cache is down: the check runs all the same
        logger.exception("could not keep the state of the duplicate check")
    tasks.check_for_duplicates.delay_on_commit()
    return duplicate_check_state(), True
