"""The cached session engine (accounts/sessions.py), used with Redis in production: the
same guarantees as the database engine (every test of test_sessions.py runs again with
it), with fewer database writes."""

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import sessions
from accounts.security import check_session_engine, user_sessions_end
from tests.factories import StudentProfileFactory

# The database engine's tests, run again here with the cached engine (all but the idle
# one, which moves only the row's expiry: with this engine the cache entry also expires).
from tests.trust.test_sessions import (  # noqa: F401
    signed_in_client,
    test_an_active_session_still_ends_twelve_hours_after_signing_in,
    test_deactivating_an_account_ends_all_its_sessions,
    test_deactivating_through_the_admin_form_ends_them_too,
    test_each_request_renews_the_idle_limit_on_the_server,
    test_other_saves_keep_the_sessions,
    test_signing_in_gives_a_new_session_id,
    test_signing_out_deletes_the_session_on_the_server,
    test_user_sessions_end_counts_what_it_ended,
)

pytestmark = pytest.mark.django_db
ENGINE = "accounts.sessions"


@pytest.fixture(autouse=True)
def _cached_engine(settings):
    settings.SESSION_ENGINE = ENGINE


def session_writes(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in captured.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "INSERT"))
    )


def session_reads(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return sum(
        1
        for q in captured.captured_queries
        if 'FROM "django_session"' in q["sql"] and q["sql"].lstrip().startswith("SELECT")
    )


def test_the_engine_passes_the_security_check():
    assert check_session_engine() == []


def test_a_read_renews_the_cache_and_writes_the_row_once_a_minute(client, monkeypatch):
    student = StudentProfileFactory()
    client.force_login(student.user)
    home = reverse("home")
    client.get(home)
    assert session_reads(client, home) == 0  # read from the cache
    assert session_writes(client, home) == 0  # the row was written less than a minute ago
    key = client.session.session_key
    written = Session.objects.get(session_key=key).expire_date
    later = time.time() + sessions.DB_WRITE_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert session_writes(client, home) == 1
    assert Session.objects.get(session_key=key).expire_date >= written


def test_a_change_to_the_session_is_written_at_once(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    client.get(reverse("home"))
    session = client.session
    session["chosen"] = "value"
    session.save()
    stored = Session.objects.get(session_key=session.session_key).get_decoded()
    assert stored["chosen"] == "value"


def test_an_idle_session_is_over_when_its_cache_entry_and_row_expire(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    key = client.session.session_key
    cache.delete(sessions.SessionStore.cache_key_prefix + key)  # the idle timeout passed
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(reverse("enrollment:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_lost_cache_entry_falls_back_to_the_row(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    cache.clear()
    assert client.get(reverse("enrollment:profile")).status_code == 200


def test_deactivation_also_ends_a_session_whose_row_lags_behind_its_cache_entry(client):
    """Idle for almost 30 minutes: the row (written up to a minute before the last request)
    looks expired, the cache entry is still alive. It is ended too."""
    student = StudentProfileFactory()
    client.force_login(student.user)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=sessions.DB_WRITE_SECONDS - 5)
    )
    assert user_sessions_end(user_id=student.user.pk) == 1
    assert client.get(reverse("enrollment:profile")).status_code == 302


def test_a_read_moments_after_another_writes_nothing_at_all(client, monkeypatch):
    """The idle timeout is renewed in the cache at most every CACHE_WRITE_SECONDS: most
    page views then cost one cache read and no write."""
    student = StudentProfileFactory()
    client.force_login(student.user)
    home = reverse("home")
    client.get(home)
    writes = []
    store_cache = caches[settings.SESSION_CACHE_ALIAS]
    original = store_cache.set

    def counting_set(key, *args, **kwargs):
        if key.startswith(sessions.SessionStore.cache_key_prefix):
            writes.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(store_cache, "set", counting_set)
    assert session_writes(client, home) == 0
    assert writes == []  # neither the row nor the cache entry
    later = time.time() + sessions.CACHE_WRITE_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert session_writes(client, home) == 0  # the row: still within DB_WRITE_SECONDS
    assert len(writes) == 1  # the cache entry, renewed with the idle timeout
    assert client.get(reverse("enrollment:profile")).status_code == 200
