"""Settings shared by every environment. Values come from environment variables."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.csp import CSP

from sers.logs import logging_config

from .env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Development-only default; production.py refuses to start with it.
INSECURE_SECRET_KEY = "django-insecure-sers-development-key-not-for-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_prometheus",
    # SERS, bottom layer first (README: Architecture)
    "accounts",
    "accesslog",
    "organisations",
    "articulations",
    "enrollment",
    "reports",
    "operations",
    "demo",
]

MIDDLEWARE = [
    # The request id first: every log line of the request carries it (sers/request_id.py).
    "sers.request_id.RequestIdMiddleware",
    # Metrics (README: Metrics): django-prometheus first (and its second half next to last),
    # so its latency covers every middleware; then each request's count of SQL statements.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "sers.metrics.QueryCountMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.security.NulByteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accesslog.middleware.AccessLogContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The 12-hour session limit and no-store, then the two-step gate (accounts/).
    "accounts.security.SessionSecurityMiddleware",
    "accounts.twofactor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-prometheus' per-view metrics, just outside axes so a lockout counts as its 429.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sers.urls"
WSGI_APPLICATION = "sers.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sers.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL, or an SQLite file for the embedded demo.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the demo server and in-process tasks share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif env_bool("DATABASE_SERVER_SIDE_BINDING", True):
    # Parameters bound by the server, and psycopg 3 prepares a statement run 5 times on a
    # connection (Django turns that off unless OPTIONS asks): PostgreSQL then plans it
    # once, not on every request (state-size data: the roster 22 -> 11 ms, grade save
    # 48 -> 34 ms). Not with a pooler in transaction mode.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = True
    options["prepare_threshold"] = env_int("DATABASE_PREPARE_THRESHOLD", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "consortia.User"
# django-axes first: it refuses sign-in while an account or an address is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",  # OWASP's cost: sign-in surges (hashers.py)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "accounts.validators.DecoratedCommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# No forced password changes (ASVS 2.1.10): a password changes when it may be known.

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# Email: one "default" mailer. The console backend prints messages (the demo);
# production sets EMAIL_BACKEND to SMTP with EMAIL_HOST and friends.
EMAIL_BACKEND_PATH = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": (
            {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 30,
            }
            if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend")
            else {"file_path": env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent-email"))}
            if EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SERS <no-reply@sers.example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# Sessions: idle timeout renewed on each request; browser close ends the session.
# Kept in the database, so that deactivating an account can end its sessions. With Redis
# (production), read from the cache and the row rewritten at most once a minute when only
# the idle timeout moves (accounts/sessions.py); without a shared cache, the database only.
SESSION_ENGINE = (
    "accounts.sessions" if env_str("REDIS_URL", "") else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page (base.html), not the cookie
# However active, a session ends this long after signing in (accounts/security.py).
SERS_SESSION_MAX_SECONDS = 12 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (Django's own middleware). Scripts only from this site, with the
# request's nonce; no inline script or style, no plugins, no <base>, no framing. Bootstrap
# draws some icons from data: SVG images in its CSS. A check (accounts/security.py) fails
# `manage.py check` if this is emptied or loosened.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# Sign-in throttling (django-axes, tuned in accounts/security.py): failures are counted
# per account and, separately, per address, over AXES_COOLOFF_TIME. A school signs in from
# one address, so its limit is higher. Unknown accounts count like existing ones.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = 5  # per account
SERS_LOGIN_FAILURES_PER_ADDRESS = 100
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.security.throttle_username"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_HANDLER = "accounts.security.ThrottleHandler"
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_RESET_ON_SUCCESS = False  # else signing in to one's own account clears an address's count
AXES_DISABLE_ACCESS_LOG = True  # no history of successful sign-ins with addresses in it
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "code"]
# Lockouts end by themselves after AXES_COOLOFF_TIME (or `manage.py axes_reset_ip <address>`);
# the records hold only hashes and addresses, nothing to browse in the admin.
AXES_ENABLE_ADMIN = False
# Reverse proxies in front of the app that append to X-Forwarded-For (production: 1).
SERS_PROXY_COUNT = env_int("SERS_PROXY_COUNT", 0)

# Two-step sign-in (accounts/twofactor.py): required for the roles that see many
# students' records. Production always requires it.
SERS_TWO_FACTOR_REQUIRED = env_bool("SERS_TWO_FACTOR_REQUIRED", True)
OTP_TOTP_ISSUER = "SERS"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Celery: with no REDIS_URL, tasks run in-process (the embedded demo and tests).
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# Reliability: a task is acknowledged only after it ran, and a task whose worker died
# is handed to another worker. Every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_TASK_TIME_LIMIT = 60 * 30
# Above the hard time limit, so Redis never re-delivers a job that is still running.
# (The worker tests lower it with CELERY_VISIBILITY_TIMEOUT to see a redelivery quickly.)
VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}

# Report jobs (reports app). A job whose heartbeat is older than the stale limit, or that
# runs past the task time limit, shows as stuck. SERS_REPORT_CHUNK_DELAY_MS is for tests
# only: a pause per chunk so a worker can be killed mid-job.
SERS_REPORT_CHUNK_SIZE = env_int("SERS_REPORT_CHUNK_SIZE", 2000)
SERS_REPORT_CHUNK_DELAY_MS = env_int("SERS_REPORT_CHUNK_DELAY_MS", 0)
SERS_REPORT_STALE_SECONDS = env_int("SERS_REPORT_STALE_SECONDS", 5 * 60)
SERS_REPORT_FILE_DAYS = env_int("SERS_REPORT_FILE_DAYS", 14)
CELERY_BEAT_SCHEDULE["reports-transcript-credit-nightly"] = {
    "task": "reports.tasks.build_nightly_transcript_reports",
    "schedule": crontab(hour=2, minute=30),
}
CELERY_BEAT_SCHEDULE["reports-expire-files"] = {
    "task": "reports.tasks.expire_report_files",
    "schedule": crontab(hour=3, minute=30),
}
# Staff workflows (enrollment app): deadline reminders (registration, payment, grading)
# and credit-eligible notices, each email sent once however often the job runs.
CELERY_BEAT_SCHEDULE["enrollment-deadline-reminders"] = {
    "task": "enrollment.tasks.send_deadline_reminders",
    "schedule": crontab(hour=7, minute=0),
}
CELERY_BEAT_SCHEDULE["enrollment-credit-eligible-notices"] = {
    "task": "enrollment.tasks.send_credit_eligible_notices",
    "schedule": crontab(hour=7, minute=30),
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Logs (sers/logs.py): every line with the request id and the signed-in user's id, never a
# name or an email. LOG_FORMAT: "plain" (readable; here) or "json" (production's default).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_choice("LOG_FORMAT", ["json", "plain"], "plain")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Uploaded spreadsheets (sers/uploads.py): the largest file accepted.
SERS_UPLOAD_MAX_BYTES = 10 * 1024 * 1024

# GET /metrics answers only `Authorization: Bearer <this>`; empty: 404 (README: Metrics).
SERS_METRICS_TOKEN = env_str("SERS_METRICS_TOKEN", "")

SERS_SITE_NAME = "SERS"
SERS_BASE_URL = env_str("SERS_BASE_URL", "http://localhost:8000")
