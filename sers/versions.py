"""Cache versions: one token per scope, kept in the cache, that every change to what the
scope covers replaces. Cached content is keyed by the versions it was built under, so a
change leaves all of it behind at once (articulations.cache: the public search;
enrollment.pagecache: signed-in pages).

A version is replaced at once (a later read in the same transaction or test sees the new
one) and after the commit (a request that read the old rows between the change and its
commit may have cached them under the version set at the change). A transaction that
writes many rows touching the same scopes (a grade save, a registration with its fee and
history) replaces each scope at its first change (again only if it was read since) and all
of them once at commit: one round trip to the cache each, not two for every row. A lost
version only means content built again.
"""

import logging
import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_SECONDS = 24 * 60 * 60


def version_key(scope: str) -> str:
    return f"sers:version:{scope}"


def versions(scopes: list[str]) -> list[str]:
    """The current version of each scope, starting one where none is kept. One round trip
    to the cache when every scope has a version. Raises when the cache is down."""
    if (state := _current_changes()) is not None:
        # Read in the transaction that changed them: the next change must renew them again,
        # or content built now would be kept under the versions the next change leaves.
        state.renewed.difference_update(scopes)
    keys = [version_key(scope) for scope in scopes]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, uuid.uuid4().hex, timeout=VERSION_SECONDS)
        found.update(cache.get_many(missing))
    return [str(found.get(key, "none")) for key in keys]


def _renew(scopes: frozenset[str]) -> None:
    try:
        cache.set_many({version_key(scope): uuid.uuid4().hex for scope in scopes}, VERSION_SECONDS)
    except Exception:  # the cache is down: nothing is read from it either
        logger.exception("could not renew cache versions")


class _TransactionChanges:
    """The scopes changed in one transaction of one connection: renewed at once the first
    time (`renewed`), and all together after the commit (`pending`)."""

    def __init__(self, hooks: list):
        # Django replaces connection.run_on_commit at every commit and rollback (of a
        # savepoint too): while it is this list, this is the same transaction, and the
        # commit hook registered below is still in it.
        self.hooks = hooks
        self.renewed: set[str] = set()
        self.pending: set[str] = set()

    def renew_pending(self) -> None:
        """The commit hook, registered each time new scopes are pending: the first to run
        renews them all, the others find nothing left."""
        if self.pending:
            scopes, self.pending = frozenset(self.pending), set()
            _renew(scopes)


_STATE = "sers_version_changes"


def _current_changes() -> _TransactionChanges | None:
    """The changes of the transaction in progress on the default connection, if any."""
    connection = transaction.get_connection()
    state = getattr(connection, _STATE, None)
    if state is None or not connection.in_atomic_block:
        return None
    return state if state.hooks is connection.run_on_commit else None


def changed(scopes: Iterable[str]) -> None:
    """What these scopes cover changed: renew their versions now and at commit, once per
    transaction whatever the number of rows written."""
    scopes = frozenset(scopes)
    if not scopes:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # autocommit: the change is committed already
        _renew(scopes)
        return
    state = _current_changes()
    if state is None:
        state = _TransactionChanges(connection.run_on_commit)
        setattr(connection, _STATE, state)
    if fresh := scopes - state.renewed:
        _renew(frozenset(fresh))
        state.renewed |= fresh
    if not scopes <= state.pending:
        state.pending |= scopes
        transaction.on_commit(state.renew_pending)
