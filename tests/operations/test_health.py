"""/readyz: each dependency down in turn gives 503 naming it; all up gives 200; the
answer never holds a secret. /healthz stays the cheap liveness check."""

import json

import pytest
from django.db import OperationalError
from django.urls import reverse

from operations import health

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://:hunter2-secret@127.0.0.1:1/0"  # nothing listens on port 1
DEAD_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}
}


@pytest.fixture(autouse=True)
def _fresh_migration_check(monkeypatch, settings, tmp_path):
    """Each test checks the migrations itself (a process remembers they were applied),
    and writes its files in a folder of its own."""
    monkeypatch.setattr(health, "_migrations_applied", False)
    settings.MEDIA_ROOT = tmp_path / "media"


def ready(client):
    response = client.get(reverse("readyz"))
    return response, json.loads(response.content)


def test_all_up_is_200_with_every_check_named(client, monkeypatch):
    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "memory://")  # as without REDIS_URL
    response, body = ready(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "cache", "broker", "storage"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    # The tests' broker is Celery's in-memory one: tasks run in this process.
    assert body["checks"]["broker"] == {"status": "ok", "detail": "in-process"}
    assert "no-cache" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


def test_readyz_needs_no_session_and_no_csrf(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    assert client.post(reverse("readyz")).status_code == 405  # GET and HEAD only
    assert client.head(reverse("readyz")).status_code == 200


def test_database_down(client, monkeypatch):
    def broken():
        raise OperationalError("could not connect to server at db.internal:5432 password=x")

    monkeypatch.setattr(health, "probe_database", broken)
    response, body = ready(client)
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["database"] == {"status": "down", "reason": "OperationalError"}
    assert body["checks"]["cache"]["status"] == "ok"
    assert "db.internal" not in response.content.decode()


def test_cache_down(client, settings):
    settings.CACHES = DEAD_CACHE
    response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"]["cache"] == {"status": "down", "reason": "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"
    assert "hunter2" not in response.content.decode()


def test_broker_down(client, monkeypatch):
    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", DEAD_REDIS)
    response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["broker"]["reason"]  # the error's class, e.g. OperationalError
    text = response.content.decode()
    assert "hunter2" not in text
    assert "127.0.0.1" not in text


def test_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(health, "migration_plan", lambda: [("a migration", False)])
    response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"]["migrations"] == {"status": "down", "reason": "UnappliedMigrations"}


def test_the_real_migration_plan_is_empty_in_the_test_database():
    assert health.migration_plan() == []


def test_storage_not_writable(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("/var/lib/sers/media/readyz: Permission denied")

    monkeypatch.setattr(health.default_storage, "save", refuse)
    response, body = ready(client)
    assert response.status_code == 503
    assert body["checks"]["storage"] == {"status": "down", "reason": "PermissionError"}
    assert "/var/lib" not in response.content.decode()


def test_storage_check_leaves_no_file(client, settings):
    ready(client)
    folder = settings.MEDIA_ROOT / "readyz"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_hanging_dependency_is_down_after_the_timeout(client, monkeypatch):
    import threading

    release = threading.Event()
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    monkeypatch.setattr(health, "probe_cache", lambda: release.wait(5) and "")
    try:
        response, body = ready(client)
    finally:
        release.set()
    assert response.status_code == 503
    assert body["checks"]["cache"] == {"status": "down", "reason": "Timeout"}


def test_a_check_never_raises_whatever_the_error(monkeypatch):
    def boom():
        raise RuntimeError("secret detail")

    monkeypatch.setattr(health, "probe_storage", boom)
    results = {result.name: result for result in health.readiness()}
    assert results["storage"].as_json() == {"status": "down", "reason": "RuntimeError"}


def test_no_secret_in_the_answer_when_everything_is_down(client, settings, monkeypatch):
    from sers.celery import app

    def broken():
        raise OperationalError(str(settings.DATABASES["default"]))

    settings.DATABASES["default"]["PASSWORD"] = "db-pass-that-must-not-leak"
    monkeypatch.setattr(health, "probe_database", broken)
    monkeypatch.setattr(health, "migration_plan", broken)
    monkeypatch.setattr(app.conf, "broker_url", DEAD_REDIS)
    settings.CACHES = DEAD_CACHE
    response, body = ready(client)
    assert response.status_code == 503
    text = response.content.decode()
    for secret in (
        "db-pass-that-must-not-leak",
        str(settings.DATABASES["default"]["NAME"]),
        settings.SECRET_KEY,
        "hunter2",
        DEAD_REDIS,
    ):
        assert secret not in text
    assert {name for name, check in body["checks"].items() if check["status"] == "down"} == {
        "database",
        "migrations",
        "cache",
        "broker",
    }


def test_healthz_is_liveness_and_ignores_the_other_dependencies(client, settings, monkeypatch):
    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", DEAD_REDIS)
    settings.CACHES = DEAD_CACHE
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.redis
def test_a_real_redis_broker_is_ok(client, monkeypatch):
    import os

    from sers.celery import app

    monkeypatch.setattr(app.conf, "broker_url", os.environ["REDIS_URL"])
    response, body = ready(client)
    assert response.status_code == 200, body
    assert body["checks"]["broker"] == {"status": "ok"}
    assert os.environ["REDIS_URL"] not in response.content.decode()
