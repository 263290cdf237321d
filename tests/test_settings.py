"""Settings come from the environment; production refuses to start on insecure defaults.

Every settings module is loaded in a subprocess with a controlled environment, so these
tests never touch the settings of the test process itself.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from sers.settings.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent

# Every variable the settings read, removed from the inherited environment first. (The
# browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; check --deploy rejects it.)
SETTINGS_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "DATABASE_SERVER_SIDE_BINDING",
    "DATABASE_PREPARE_THRESHOLD",
    "DATABASE_POOLER",
    "DATABASE_REPLICA_URL",
    "SERS_REPLICA_WAIT_SECONDS",
    "SERS_TEST_REPLICA_URL",
    "REDIS_URL",
    "SERS_REDIS_PREFIX",
    "CELERY_RESTORE_SECONDS",
    "SERS_S3_BUCKET",
    "SERS_S3_PREFIX",
    "SERS_S3_URL_SECONDS",
    "SERS_FILE_DOWNLOADS",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_S3_ADDRESSING_STYLE",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_FILE_PATH",
    "DEFAULT_FROM_EMAIL",
    "MEDIA_ROOT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "SENTRY_TRACES_SAMPLE_RATE",
    "SERS_BASE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "CELERY_VISIBILITY_TIMEOUT",
    "SERS_REPORT_CHUNK_SIZE",
    "SERS_REPORT_CHUNK_DELAY_MS",
    "SERS_REPORT_STALE_SECONDS",
    "SERS_REPORT_FILE_DAYS",
    "SERS_DASHBOARD_REFRESH_MINUTES",
    "SERS_TWO_FACTOR_REQUIRED",
    "SERS_PROXY_COUNT",
    "SERS_METRICS_TOKEN",
    "SERS_API_CALLS_PER_MINUTE",
    "SERS_API_FAILED_AUTH_PER_MINUTE",
    "SERS_DEMO",
    "SERS_HELP_EMAIL",
    "SERS_HELP_PHONE",
    "SERS_STATE_CODE",
)

GOOD_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "sers.settings.production",
    "SECRET_KEY": "x7Yq2-kP9vN4mR8sT1wZ6bC3dF5gH0jL-aE2iO7uQ4yS9nV1xB6cM3zK8pW5rT0",
    "DATABASE_URL": "postgres://sers:secret@db.invalid:5432/sers",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.invalid",
    "ALLOWED_HOSTS": "sers.example.org",
}

SHOW_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "from sers.celery import app; "
    "print(settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER, app.conf.task_always_eager, "
    "settings.CELERY_BROKER_URL)"
)


def test_every_variable_the_settings_read_is_controlled():
    """A new environment variable in the settings must be cleared for these tests too."""
    source = "\n".join(path.read_text() for path in (ROOT / "sers" / "settings").glob("*.py"))
    read = set(re.findall(r'env_(?:str|bool|int|list|choice|float)\(\s*"([A-Z0-9_]+)"', source))
    assert read, "no env_* calls found: the pattern is out of date"
    assert read - set(SETTINGS_VARIABLES) == set()


def run_python(args: list[str], **env: str | None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**overrides: str | None) -> subprocess.CompletedProcess:
    return run_python(["-c", SHOW_SETTINGS], **{**GOOD_PRODUCTION_ENV, **overrides})


def test_production_accepts_a_good_environment():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **GOOD_PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout

    shown = production()
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["False", "False", "False", "redis://redis.invalid:6379/0"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"DEBUG": "true"}, "DEBUG must be off", id="debug-on"),
        pytest.param({"SECRET_KEY": None}, "SECRET_KEY", id="default-secret-key"),
        pytest.param({"SECRET_KEY": "too-short-0123456789"}, "SECRET_KEY", id="short-secret-key"),
        pytest.param(
            {"SECRET_KEY": "django-insecure-sers-development-key-not-for-production"},
            "SECRET_KEY",
            id="development-secret-key",
        ),
        pytest.param({"DATABASE_URL": None}, "PostgreSQL", id="default-sqlite"),
        pytest.param(
            {"DATABASE_URL": "sqlite:////tmp/sers.sqlite3"}, "PostgreSQL", id="sqlite-url"
        ),
        pytest.param({"REDIS_URL": None}, "REDIS_URL", id="no-redis"),
        pytest.param(
            {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            "EMAIL_BACKEND",
            id="console-email",
        ),
        pytest.param({"EMAIL_BACKEND": None}, "EMAIL_BACKEND", id="default-email"),
        pytest.param({"DEBUG": "maybe"}, "DEBUG must be true or false", id="garbage-bool"),
    ],
)
def test_production_refuses_insecure_settings(overrides, message):
    result = production(**overrides)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


SHOW_DATABASE_OPTIONS = (
    "import django; django.setup(); from django.conf import settings; "
    "options = settings.DATABASES['default'].get('OPTIONS', {}); "
    "print(options.get('server_side_binding'), options.get('prepare_threshold'))"
)


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        pytest.param({}, ["True", "5"], id="default"),
        pytest.param({"DATABASE_PREPARE_THRESHOLD": "2"}, ["True", "2"], id="threshold"),
        pytest.param({"DATABASE_SERVER_SIDE_BINDING": "false"}, ["None", "None"], id="pooler"),
    ],
)
def test_postgresql_prepares_the_queries_a_connection_repeats(env, shown):
    """Django turns psycopg's prepared statements off unless OPTIONS asks for them."""
    result = run_python(
        ["-c", SHOW_DATABASE_OPTIONS],
        DJANGO_SETTINGS_MODULE="sers.settings.dev",
        DATABASE_URL="postgres://sers@db.invalid:5432/sers",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == shown


def test_dev_without_redis_runs_tasks_in_process():
    result = run_python(["-c", SHOW_SETTINGS], DJANGO_SETTINGS_MODULE="sers.settings.dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "memory://"]


def test_dev_with_redis_sends_tasks_to_the_broker():
    result = run_python(
        ["-c", SHOW_SETTINGS],
        DJANGO_SETTINGS_MODULE="sers.settings.dev",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False", "redis://127.0.0.1:6379/15"]


# --- the env helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[("1", True), ("true", True), (" Yes ", True), ("ON", True)],
        *[("0", False), ("false", False), ("no", False), ("off", False), ("", False)],
    ],
)
def test_env_bool_parses(monkeypatch, raw, expected):
    monkeypatch.setenv("SERS_TEST_VALUE", raw)
    assert env_bool("SERS_TEST_VALUE", not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_env_bool_rejects_garbage(monkeypatch, raw):
    monkeypatch.setenv("SERS_TEST_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="SERS_TEST_VALUE must be true or false"):
        env_bool("SERS_TEST_VALUE", False)


def test_env_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("SERS_TEST_VALUE", raising=False)
    assert env_bool("SERS_TEST_VALUE", True) is True
    assert env_int("SERS_TEST_VALUE", 7) == 7
    assert env_list("SERS_TEST_VALUE", ["a"]) == ["a"]
    assert env_str("SERS_TEST_VALUE", "fallback") == "fallback"


def test_env_str_without_default_is_required(monkeypatch):
    monkeypatch.delenv("SERS_TEST_VALUE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Set the SERS_TEST_VALUE"):
        env_str("SERS_TEST_VALUE")
    monkeypatch.setenv("SERS_TEST_VALUE", "value")
    assert env_str("SERS_TEST_VALUE") == "value"


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("587", 587), (" 42 ", 42), ("-3", -3)])
def test_env_int_parses(monkeypatch, raw, expected):
    monkeypatch.setenv("SERS_TEST_VALUE", raw)
    assert env_int("SERS_TEST_VALUE", 1) == expected


@pytest.mark.parametrize("raw", ["", "ten", "1.5", "0x10"])
def test_env_int_rejects_garbage(monkeypatch, raw):
    monkeypatch.setenv("SERS_TEST_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="SERS_TEST_VALUE must be a whole number"):
        env_int("SERS_TEST_VALUE", 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sers.example.org", ["sers.example.org"]),
        ("a.example.org, b.example.org ,,", ["a.example.org", "b.example.org"]),
        ("", []),
    ],
)
def test_env_list_parses(monkeypatch, raw, expected):
    monkeypatch.setenv("SERS_TEST_VALUE", raw)
    assert env_list("SERS_TEST_VALUE", ["default"]) == expected


SHOW_TWO_STEP = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SERS_TWO_FACTOR_REQUIRED, settings.SERS_DEMO_SIGN_IN_CODES)"
)


def test_production_keeps_two_step_sign_in_and_never_hands_out_demo_codes():
    shown = run_python(["-c", SHOW_TWO_STEP], **{**GOOD_PRODUCTION_ENV, "SERS_DEMO": "true"})
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["True", "False"]
    refused = production(SERS_TWO_FACTOR_REQUIRED="false")
    assert refused.returncode != 0
    assert "Two-step sign-in stays required" in refused.stderr
    codes = run_python(["manage.py", "demo_codes"], **{**GOOD_PRODUCTION_ENV, "SERS_DEMO": "true"})
    assert codes.returncode != 0
    assert "embedded demo only" in codes.stderr


def test_the_embedded_demo_hands_out_codes_and_prints_emails_readably():
    shown = run_python(
        ["-c", SHOW_TWO_STEP + "; print(settings.MAILERS['default']['BACKEND'])"],
        DJANGO_SETTINGS_MODULE="sers.settings.dev",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["True", "True", "sers.console_email.EmailBackend"]


def test_production_refuses_the_console_email_of_the_demo():
    refused = production(EMAIL_BACKEND="sers.console_email.EmailBackend")
    assert refused.returncode != 0
    assert "EMAIL_BACKEND" in refused.stderr
