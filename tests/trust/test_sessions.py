"""Sessions: a new id at sign-in, 30 minutes idle, 12 hours at most, really gone after
signing out, and all of an account's sessions ended when it is deactivated."""

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.security import SIGNED_IN_AT, user_sessions_end
from sers.settings import base
from tests.factories import StudentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_settings():
    # Read from the shared cache when there is one (production has Redis).
    engine = base.SESSION_ENGINE
    assert engine == (
        "accounts.sessions" if base.REDIS_URL else "django.contrib.sessions.backends.db"
    )
    assert base.SESSION_COOKIE_AGE == 30 * 60
    assert base.SESSION_SAVE_EVERY_REQUEST is True
    assert base.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert base.SERS_SESSION_MAX_SECONDS == 12 * 60 * 60
    assert "accounts.security.SessionSecurityMiddleware" in base.MIDDLEWARE


def test_signing_in_gives_a_new_session_id(client, password):
    user = UserFactory(email="fixation@example.org")
    client.get(reverse("accounts:login"))
    session = client.session  # a session that exists before signing in (fixation)
    session["planted"] = "by someone else"
    session.save()
    before = session.session_key
    client.post(reverse("accounts:login"), {"username": user.email, "password": password})
    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_each_request_renews_the_idle_limit_on_the_server(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    client.get(reverse("home"))
    stored = Session.objects.get(session_key=client.session.session_key)
    remaining = (stored.expire_date - timezone.now()).total_seconds()
    assert 29 * 60 < remaining <= 30 * 60


def test_an_idle_session_is_over_even_if_the_browser_keeps_the_cookie(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(reverse("enrollment:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_active_session_still_ends_twelve_hours_after_signing_in(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    assert client.get(reverse("enrollment:profile")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SERS_SESSION_MAX_SECONDS - 1
    session.save()
    old_key = session.session_key

    response = client.get(reverse("enrollment:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Session.objects.filter(session_key=old_key).exists()
    assert "_auth_user_id" not in client.session
    followed = client.get(response["Location"])
    assert "For your security you were signed out" in followed.content.decode()


def test_just_under_twelve_hours_is_fine(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SERS_SESSION_MAX_SECONDS + 60
    session.save()
    assert client.get(reverse("enrollment:profile")).status_code == 200


def test_a_session_without_a_sign_in_time_is_not_trusted(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()
    assert client.get(reverse("enrollment:profile")).status_code == 302


def test_htmx_requests_are_sent_to_the_sign_in_page_as_a_whole(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    session = client.session
    session[SIGNED_IN_AT] = 0
    session.save()
    response = client.get(reverse("enrollment:register"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_signing_out_deletes_the_session_on_the_server(client):
    student = StudentProfileFactory()
    client.force_login(student.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=cookie).exists()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get(reverse("enrollment:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_deactivating_an_account_ends_all_its_sessions(django_capture_on_commit_callbacks):
    user = StudentProfileFactory().user
    laptop, phone = signed_in_client(user), signed_in_client(user)
    bystander = signed_in_client(StudentProfileFactory().user)
    assert Session.objects.count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()

    assert Session.objects.count() == 1
    for client in (laptop, phone):
        assert client.get(reverse("enrollment:profile")).status_code == 302
    assert bystander.get(reverse("enrollment:profile")).status_code == 200


def test_deactivating_through_the_admin_form_ends_them_too(
    admin_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="leaver@example.org")
    leaver = signed_in_client(user)
    change = admin_client.get(reverse("admin:consortia_user_change", args=[user.pk]))
    form = change.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or name == "is_active":  # an unticked box is simply not sent
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    for inline in change.context["inline_admin_formsets"]:  # the inlines' management forms
        management = inline.formset.management_form
        for name in management.fields:
            value = management[name].value()
            data[f"{inline.formset.prefix}-{name}"] = "" if value is None else value
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:consortia_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    user.refresh_from_db()
    assert user.is_active is False
    assert leaver.get(reverse("accounts:password_change")).status_code == 302


def test_other_saves_keep_the_sessions(django_capture_on_commit_callbacks):
    user = StudentProfileFactory().user
    client = signed_in_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.first_name = "Renamed"
        user.save()
        user.save(update_fields=["last_login"])
    assert Session.objects.count() == 1
    assert client.get(reverse("enrollment:profile")).status_code == 200


def test_an_inactive_invitation_being_saved_does_not_scan_sessions(
    django_capture_on_commit_callbacks,
):
    """Saving an account that was already inactive (an invited teacher) ends nothing."""
    user = UserFactory(email="invited@example.org", is_active=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user.first_name = "Still invited"
        user.save()
    # Only the cached pages' versions are renewed at commit (sers.versions).
    assert [c for c in callbacks if c.__module__ != "sers.versions"] == []


def test_user_sessions_end_counts_what_it_ended():
    user = UserFactory(email="counted@example.org")
    signed_in_client(user)
    signed_in_client(user)
    assert user_sessions_end(user_id=user.pk) == 2
    assert user_sessions_end(user_id=user.pk) == 0
