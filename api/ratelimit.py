"""Rate limits of the API, counted in the Django cache (Redis in production, so every
web process shares the counts): calls per token, and failed sign-ins per client address.

Fixed one-minute windows: a counter per key and minute, created with `add` and raised
with `incr` (both atomic in Redis), that expires by itself. A caller over the limit waits
until the minute ends (the Retry-After of the 429). With the cache down the API keeps
answering, unlimited, rather than failing every call.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limited:
    """Over the limit: try again in `retry_after` seconds."""

    retry_after: int


def _window(now: float) -> tuple[int, int]:
    """The current window's number and the whole seconds until it ends (at least 1)."""
    window = int(now // WINDOW_SECONDS)
    return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def _key(kind: str, ident: str, window: int) -> str:
    return f"sers:api:rate:{kind}:{ident}:{window}"


def hit(kind: str, ident: str, *, limit: int) -> Limited | None:
    """Count one call of `ident`; Limited when it goes over `limit` in this window."""
    window, remaining = _window(time.time())
    key = _key(kind, ident, window)
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this call starts a new count
        count = 1
        cache.set(key, count, timeout=WINDOW_SECONDS + 5)
    except Exception:  # the cache is down: no limit rather than no API
        logger.warning("API rate limit not counted: the cache is unavailable", exc_info=True)
        return None
    return Limited(retry_after=remaining) if count > limit else None


def over(kind: str, ident: str, *, limit: int) -> Limited | None:
    """Limited when `ident` already reached `limit` in this window (nothing counted)."""
    window, remaining = _window(time.time())
    try:
        count = cache.get(_key(kind, ident, window), 0)
    except Exception:
        logger.warning("API rate limit not read: the cache is unavailable", exc_info=True)
        return None
    return Limited(retry_after=remaining) if count >= limit else None
