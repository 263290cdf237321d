"""Sessions kept in the database and read from the shared cache (Redis in production).

SESSION_ENGINE = "accounts.sessions" (sers/settings/base.py, when REDIS_URL is set).

Django's `cached_db` engine, plus one economy. The idle timeout is renewed on every
request (SESSION_SAVE_EVERY_REQUEST): with the plain `db` engine every page view, even a
read, was a SELECT and an UPDATE of the session row, a committed write. Here a request
reads the session from the cache, and a save whose data did not change renews the cache
entry (its lifetime is the idle timeout) and writes the database row only when that row
was last written DB_WRITE_SECONDS ago or more; the cache entry itself is renewed only when
it was written CACHE_WRITE_SECONDS ago or more, so most reads write nothing at all. A
change to the session's data is always written to both at once.

What stays true:
- The idle timeout: the cache entry expires SESSION_COOKIE_AGE after the last request,
  or up to CACHE_WRITE_SECONDS sooner. Were the entry lost (eviction, a Redis restart),
  the row's expiry is at most DB_WRITE_SECONDS behind: the session may end that much
  earlier, never later.
- Ending every session of a deactivated account (security.user_sessions_end) still reads
  the rows; it looks DB_WRITE_SECONDS further back, so it also finds the sessions whose
  row looks expired while their cache entry is still alive, and deleting a session
  deletes both.
- Signing out, a new key at sign-in, and the 12-hour limit are unchanged (they change
  the data or delete the session).

Only with a cache every web process shares: with a per-process cache (locmem) one process
could keep reading data another process changed, so settings use the `db` engine then.
"""

import logging
import time

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

logger = logging.getLogger(__name__)

DB_WRITE_SECONDS = 60
CACHE_WRITE_SECONDS = 15
DB_SAVED_AT = "_sers_db_saved_at"  # when this session's row was last written (epoch s)
CACHE_SAVED_AT = "_sers_cache_saved_at"  # when its cache entry was last written


def _within(stamp, now: float, seconds: int) -> bool:
    return isinstance(stamp, int | float) and 0 <= now - stamp < seconds


class SessionStore(CachedDBStore):
    def save(self, must_create=False):
        now = time.time()
        session = self._session if self.session_key else {}
        if (
            not must_create
            and not self.modified
            and _within(session.get(DB_SAVED_AT), now, DB_WRITE_SECONDS)
        ):
            if _within(session.get(CACHE_SAVED_AT), now, CACHE_WRITE_SECONDS):
                return  # renewed moments ago: the idle timeout barely moved
            # Straight into the data, not through __setitem__: a renewal is not a change.
            self._session[CACHE_SAVED_AT] = int(now)
            try:
                self._cache.set(self.cache_key, self._session, self.get_expiry_age())
                return
            except Exception:
                logger.exception("session cache unavailable; writing the database row")
        self._session[DB_SAVED_AT] = self._session[CACHE_SAVED_AT] = int(now)
        super().save(must_create)
