"""The staff duplicate check of a consortium as a job: asked for from the duplicates page,
run by the worker (or in-process where tasks run so), and its state kept so that the page
says what is true: still running, or done with how many new pairs.

The state lives in the cache (Redis in production) for a day: it describes a job, it is
not a record. With the cache down nothing is known, and the page says only that the check
was asked for.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from .. import tasks
from .merging import duplicate_scan

logger = logging.getLogger(__name__)

STATE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class DuplicateCheckState:
    asked_at: datetime
    finished_at: datetime | None = None
    new_pairs: int = 0

    @property
    def running(self) -> bool:
        return self.finished_at is None


def _key(consortium_id: int) -> str:
    return f"enrollment:duplicate-check:{consortium_id}"


def _write(consortium_id: int, state: DuplicateCheckState) -> None:
    try:
        cache.set(_key(consortium_id), state, STATE_SECONDS)
    except Exception:  # the cache is down: the check runs all the same
        logger.exception("could not keep the state of a duplicate check")


def duplicate_check_states(*, consortium_ids) -> dict[int, DuplicateCheckState]:
    """The last check of each consortium that has one still known."""
    ids = sorted(consortium_ids)
    try:
        found = cache.get_many([_key(pk) for pk in ids])
    except Exception:
        logger.exception("could not read the state of the duplicate checks")
        return {}
    return {pk: found[_key(pk)] for pk in ids if _key(pk) in found}


def duplicate_check_request(*, consortium_ids) -> dict[int, DuplicateCheckState]:
    """Ask for a check of each consortium (sent at commit) and return their states as
    they stand once sent: finished already where tasks run in-process."""
    asked = timezone.now()
    for consortium_id in sorted(consortium_ids):
        _write(consortium_id, DuplicateCheckState(asked_at=asked))
        tasks.scan_for_duplicates.delay_on_commit(consortium_id)
    return duplicate_check_states(consortium_ids=consortium_ids)


def duplicate_check_run(*, consortium_id: int) -> int:
    """Run a consortium's check (merging.duplicate_scan) and keep when it finished and
    how many new pairs it queued."""
    known = duplicate_check_states(consortium_ids=[consortium_id]).get(consortium_id)
    new_pairs = duplicate_scan(consortium_id=consortium_id)
    _write(
        consortium_id,
        DuplicateCheckState(
            asked_at=known.asked_at if known else timezone.now(),
            finished_at=timezone.now(),
            new_pairs=new_pairs,
        ),
    )
    return new_pairs
