"""Sessions kept in the database and read from the shared cache (Redis in production).

SESSION_ENGINE = "accounts.sessions" (sers/settings/base.py, when REDIS_URL is set).

Django's `cached_db` engine, plus one economy. The idle timeout is renewed on every
request (SESSION_SAVE_EVERY_REQUEST): with the plain `db` engine every page view, even a
read, was a SELECT and an UPDATE of the session row, a committed write. Here a request
reads the session from the cache, and a save whose data did not change renews the cache
entry (its lifetime is the idle timeout) and writes the database row only when that row
was last written DB_WRITE_SECONDS ago or more. A change to the session's data is always
written to both at once.

What stays true:
- The idle timeout: the cache entry expires SESSION_COOKIE_AGE after the last request.
  Were the entry lost (eviction, a Redis restart), the row's expiry is at most
  DB_WRITE_SECONDS behind: the session may end that much earlier, never later.
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
DB_SAVED_AT = "_sers_db_saved_at"  # when this session's row was last written (epoch s)


class SessionStore(CachedDBStore):
    def save(self, must_create=False):
        now = time.time()
        saved_at = self._session.get(DB_SAVED_AT) if self.session_key else None
        if (
            not must_create
            and not self.modified
            and isinstance(saved_at, int | float)
            and 0 <= now - saved_at < DB_WRITE_SECONDS
        ):
            try:
                self._cache.set(self.cache_key, self._session, self.get_expiry_age())
                return
            except Exception:
                logger.exception("session cache unavailable; writing the database row")
        # Straight into the data, not through __setitem__: a renewal is not a change.
        self._session[DB_SAVED_AT] = int(now)
        super().save(must_create)
