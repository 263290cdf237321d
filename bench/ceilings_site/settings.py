"""Production settings plus the bench-only URLs (/bench/bare, /bench/write).

Everything else is sers.settings.production as the benchmark's environment sets it up
(bench/ceilings.py: PostgreSQL, Redis, a random SECRET_KEY, loopback only), so the pages
and the floors run the same middleware, sessions, cache and database settings.
"""

import os
from pathlib import Path

from sers.settings.production import *  # noqa: F403
from sers.settings.production import BASE_DIR

ROOT_URLCONF = "bench.ceilings_site.urls"
# collectstatic writes here, not to the project's staticfiles/ (bench/out/ is ignored by git).
STATIC_ROOT = Path(
    os.environ.get("SERS_BENCH_STATIC_ROOT", "") or BASE_DIR / "bench" / "out" / "static"
)
