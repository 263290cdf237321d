"""Production: PostgreSQL, Redis, a real secret. Refuses to start on insecure defaults."""

from django.core.exceptions import ImproperlyConfigured

from sers.logs import logging_config
from sers.sentry import init_sentry

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    EMAIL_BACKEND_PATH,
    INSECURE_SECRET_KEY,
    LOG_LEVEL,
    REDIS_URL,
    SECRET_KEY,
)
from .env import env_bool, env_choice, env_float, env_int, env_str

if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must be off in production.")
if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")
if EMAIL_BACKEND_PATH.endswith(
    ("console.EmailBackend", "console_email.EmailBackend", "locmem.EmailBackend")
):
    raise ImproperlyConfigured("Production needs a real EMAIL_BACKEND (SMTP) to reach students.")
if not REDIS_URL:
    raise ImproperlyConfigured("Production needs REDIS_URL for Celery and the cache.")
if not env_bool("SERS_TWO_FACTOR_REQUIRED", True):
    raise ImproperlyConfigured(
        "Two-step sign-in stays required in production for the roles that see many students."
    )

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Prometheus scrapes /metrics (a bearer token) inside the private network, not through the
# TLS proxy; anything else on plain http is redirected (README: Metrics).
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SERS_TWO_FACTOR_REQUIRED = True
SERS_DEMO_SIGN_IN_CODES = False  # never: the demo's printed two-step codes
# docker-compose.yml puts one TLS proxy in front of the app (client addresses for throttling).
SERS_PROXY_COUNT = env_int("SERS_PROXY_COUNT", 1)

# JSON log lines for the log collector (LOG_FORMAT=plain for a person reading them).
LOG_FORMAT = env_choice("LOG_FORMAT", ["json", "plain"], "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Error reporting, only with SENTRY_DSN; the students' data is scrubbed (sers/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    init_sentry(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE", ""),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, low=0.0, high=1.0),
    )
