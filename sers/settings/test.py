"""Tests: SQLite unless DATABASE_URL is set, tasks in-process unless REDIS_URL is set."""

from .backends import database
from .base import *  # noqa: F403
from .env import env_str

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No reporting replica unless SERS_TEST_REPLICA_URL names one (a real streaming replica of
# the test server, see .ci/run); then it mirrors the test database, and reporting reads go
# to it only in the tests that turn SERS_REPLICA_READS on (tests/multihost/test_replica.py):
# the others write in a transaction the replica cannot see.
DATABASES.pop("replica", None)  # noqa: F405
if _replica_url := env_str("SERS_TEST_REPLICA_URL", ""):
    DATABASES["replica"] = {**database(_replica_url), "TEST": {"MIRROR": "default"}}  # noqa: F405
SERS_REPLICA_READS = False
# Tests always run tasks in-process; the worker tests start a real worker themselves.
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The per-process cache above cannot back accounts.sessions (a live server and the test
# share no cache), so sessions stay in the database here whatever REDIS_URL says;
# tests/trust/test_cached_sessions.py runs the session tests with accounts.sessions.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
# Serve static files straight from the app folders; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Most tests sign in with force_login or Client.login (which gives django-axes no request)
# and test pages, not the sign-in: the throttling and the two-step requirement are off
# here, and tests/trust/ turns each on to test it (and that base/production keep it on).
AXES_ENABLED = False
SERS_TWO_FACTOR_REQUIRED = False
