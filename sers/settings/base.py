"""Settings shared by every environment. Values come from environment variables."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from sers.logs import logging_config

from .backends import databases, file_storage
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
    "ninja",  # the API's docs page (/api/v1/docs) serves its assets from static files
    # SERS, bottom layer first (README: Architecture)
    "accounts",
    "accesslog",
    "organisations",
    "articulations",
    "enrollment",
    "reports",
    "api",
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
                "sers.context_processors.service",
            ],
            # sers_date, sers_datetime, money and the error summary, in every template
            "builtins": ["sers.templatetags.sers_ui"],
        },
    },
]

# Databases (sers/settings/backends.py): DATABASE_URL, or an SQLite file for the embedded
# demo; DATABASE_REPLICA_URL, a read replica for reporting; DATABASE_POOLER=pgbouncer
# behind PgBouncer in transaction pooling mode.
DATABASES = databases(f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Reporting reads go to the replica when there is one (sers/db_router.py); the rest, and
# everything when there is none, to the primary. SERS_REPLICA_WAIT_SECONDS: how long a
# report that must see the primary's latest commits waits for the replica to replay them
# before it reads from the primary instead.
DATABASE_ROUTERS = ["sers.db_router.ReportingRouter"]
SERS_REPLICA_READS = "replica" in DATABASES
SERS_REPLICA_WAIT_SECONDS = env_int("SERS_REPLICA_WAIT_SECONDS", 10)
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
# One date style and one money style per language (sers/formats/, sers/formatting.py).
FORMAT_MODULE_PATH = ["sers.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# Report files: MEDIA_ROOT, or S3-compatible object storage with SERS_S3_BUCKET
# (sers/settings/backends.py). A download checks the user's permission, then streams the
# file or, with SERS_FILE_DOWNLOADS=redirect, sends a signed link of SERS_S3_URL_SECONDS.
STORAGES = {
    "default": file_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
OBJECT_STORAGE = STORAGES["default"]["BACKEND"].startswith("storages.")
SERS_FILE_DOWNLOADS = env_choice(
    "SERS_FILE_DOWNLOADS", ["stream", "redirect"], "redirect" if OBJECT_STORAGE else "stream"
)
if SERS_FILE_DOWNLOADS == "redirect" and not OBJECT_STORAGE:
    raise ImproperlyConfigured(
        "SERS_FILE_DOWNLOADS=redirect needs object storage (SERS_S3_BUCKET): a local file "
        "has no signed link."
    )

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Labelled cells, so that each row is a card on a phone (sers-stack in static/css/sers.css).
DJANGO_TABLES2_TEMPLATE = "components/table.html"

# Email: one "default" mailer. The console backend prints messages as people read them,
# links whole (the demo: sers/console_email.py); production sets EMAIL_BACKEND to SMTP
# with EMAIL_HOST and friends.
EMAIL_BACKEND_PATH = env_str("EMAIL_BACKEND", "sers.console_email.EmailBackend")
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
# How often a worker looks for tasks whose worker died (unacknowledged past the visibility
# timeout) to hand out again; kombu's own default is about 100 s.
RESTORE_SECONDS = env_int("CELERY_RESTORE_SECONDS", 60)
# Several deployments (states) may share one Redis: each gives its keys a prefix of its
# own (queues, unacknowledged tasks, results, the cache).
REDIS_PREFIX = env_str("SERS_REDIS_PREFIX", "")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "unacked_restore_interval": RESTORE_SECONDS,
    "unacked_restore_throttle": 1,
    "global_keyprefix": REDIS_PREFIX,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "global_keyprefix": REDIS_PREFIX,
}
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
# The reports dashboard reads precomputed aggregates (reports/aggregates.py), rebuilt this
# often; the page says so beside their "as of" time.
SERS_DASHBOARD_REFRESH_MINUTES = env_int("SERS_DASHBOARD_REFRESH_MINUTES", 10)
if SERS_DASHBOARD_REFRESH_MINUTES < 1:
    raise ImproperlyConfigured("SERS_DASHBOARD_REFRESH_MINUTES must be at least 1.")
CELERY_BEAT_SCHEDULE["reports-dashboard-aggregates"] = {
    "task": "reports.tasks.refresh_dashboard_aggregates",
    "schedule": timedelta(minutes=SERS_DASHBOARD_REFRESH_MINUTES),
    # A rebuild still queued when the next is due is dropped: the next one does its work.
    "options": {"expires": SERS_DASHBOARD_REFRESH_MINUTES * 60},
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
# The statewide duplicate check (enrollment.services.duplicates), while the state sleeps.
CELERY_BEAT_SCHEDULE["enrollment-statewide-duplicate-check"] = {
    "task": "enrollment.tasks.check_for_duplicates",
    "schedule": crontab(hour=1, minute=15),
}

CACHES = {
    "default": (
        {
            # Django's, keeping one Redis client per pool (sers/redis_cache.py).
            "BACKEND": "sers.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
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

# The API for college systems (api/): calls a minute per token, and failed sign-ins (a
# missing, unknown, expired or revoked token) a minute per client address, before 429.
SERS_API_CALLS_PER_MINUTE = env_int("SERS_API_CALLS_PER_MINUTE", 120)
SERS_API_FAILED_AUTH_PER_MINUTE = env_int("SERS_API_FAILED_AUTH_PER_MINUTE", 20)

SERS_SITE_NAME = "SERS"
# The state SERS serves (two-letter postal code): the PESC transcripts name it as the
# agency behind the SERS ID and the assigner of college and school codes (reports/pesc.py).
SERS_STATE_CODE = env_str("SERS_STATE_CODE", "WA").strip().upper()
# The help desk: the "Help and contact" page, and where "Report a problem" sends reports.
SERS_HELP_EMAIL = env_str("SERS_HELP_EMAIL", "help@sers.example.org")
SERS_HELP_PHONE = env_str("SERS_HELP_PHONE", "")
# A site of sample data (the embedded demo): every page says so.
SERS_DEMO = env_bool("SERS_DEMO", False)
# The embedded demo's staff logins come with two-step sign-in set up and their codes
# printed (demo/twostep.py). Only the development settings turn it on; no variable does.
SERS_DEMO_SIGN_IN_CODES = False
SERS_BASE_URL = env_str("SERS_BASE_URL", "http://localhost:8000")
