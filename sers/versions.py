"""Cache versions: one token per scope, kept in the cache, that every change to what the
scope covers replaces. Cached content is keyed by the versions it was built under, so a
change leaves all of it behind at once (articulations.cache: the public search;
enrollment.pagecache: signed-in pages).

A version is replaced twice: at once (a later read in the same transaction or test sees
the new one) and after the commit (a request that read the old rows between the change
and its commit may have cached them under the version set at the change). A lost version
only means content built again.
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


def changed(scopes: Iterable[str]) -> None:
    """What these scopes cover changed: renew their versions now and at commit."""
    scopes = frozenset(scopes)
    if not scopes:
        return
    _renew(scopes)
    transaction.on_commit(lambda: _renew(scopes))
