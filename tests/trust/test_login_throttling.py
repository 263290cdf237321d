"""Sign-in throttling (django-axes): per account and per address, with the same answers for
unknown and existing accounts, and nothing stored that names the account."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from accounts.security import client_ip, throttle_username
from sers.settings import base
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_throttling_on")]

LOCKOUT_TEXT = "Too many unsuccessful sign-in attempts"
ACCOUNT_LIMIT = 5


@pytest.fixture
def _throttling_on():
    # The test settings switch axes off (Client.login has no request for it); on here.
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=ACCOUNT_LIMIT):
        yield


def sign_in(client, email: str, password: str, ip: str = "203.0.113.10"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def normalized(response, *emails: str) -> str:
    """The page with what legitimately differs between two answers taken out."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", html)
    html = re.sub(r'nonce="[^"]*"', "", html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    return html


def test_the_base_settings_throttle_with_axes_first():
    assert base.AXES_ENABLED is True
    assert base.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert base.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert base.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert base.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_unknown_account_and_wrong_password_get_the_same_answer(client):
    user = UserFactory(email="known@example.org")
    wrong = sign_in(client, user.email, "not-the-password")
    unknown = sign_in(client, "nobody-here@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert normalized(wrong, user.email) == normalized(unknown, "nobody-here@example.org")
    assert "Please enter a correct email address and password" in wrong.content.decode()


def test_an_account_locks_after_five_failures_even_with_the_right_password(client, password):
    user = UserFactory(email="target@example.org")
    for attempt in range(1, ACCOUNT_LIMIT):
        response = sign_in(client, user.email, f"guess-{attempt}")
        assert response.status_code == 200, attempt
        assert LOCKOUT_TEXT not in response.content.decode()
    locked = sign_in(client, user.email, "guess-5")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert LOCKOUT_TEXT in page
    assert 'name="password"' in page, "the lockout answer is the sign-in page"
    # Now even the right password is refused, from another address too.
    again = sign_in(client, user.email, password, ip="198.51.100.7")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_locking_an_unknown_account_looks_exactly_like_locking_a_real_one(client):
    user = UserFactory(email="real@example.org")
    for n in range(ACCOUNT_LIMIT):
        real = sign_in(client, user.email, f"wrong-{n}", ip="192.0.2.1")
        ghost = sign_in(client, "ghost@example.org", f"wrong-{n}", ip="192.0.2.2")
        assert real.status_code == ghost.status_code
    assert real.status_code == 429
    assert normalized(real, user.email) == normalized(ghost, "ghost@example.org")


def test_the_account_count_ignores_case_and_spaces(client):
    user = UserFactory(email="mixed@example.org")
    variants = [
        "mixed@example.org",
        "MIXED@example.org",
        " Mixed@Example.org ",
        "mixed@EXAMPLE.org",
    ]
    for variant in variants:
        sign_in(client, variant, "wrong")
    assert sign_in(client, user.email, "wrong").status_code == 429


@override_settings(SERS_LOGIN_FAILURES_PER_ADDRESS=12)
def test_an_address_locks_after_its_own_higher_limit(client, password):
    """Twelve failures spread over many accounts lock the address, not the accounts."""
    for n in range(11):
        assert (
            sign_in(client, f"spray{n}@example.org", "wrong", ip="203.0.113.99").status_code == 200
        )
    assert sign_in(client, "spray11@example.org", "wrong", ip="203.0.113.99").status_code == 429
    user = UserFactory(email="innocent@example.org")
    # From the locked address even a good sign-in waits ...
    assert sign_in(client, user.email, password, ip="203.0.113.99").status_code == 429
    # ... while the same account signs in from elsewhere.
    response = sign_in(client, user.email, password, ip="203.0.113.100")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_lockout_ends_after_the_cool_off(client, password):
    user = UserFactory(email="patient@example.org")
    for n in range(ACCOUNT_LIMIT):
        sign_in(client, user.email, f"wrong-{n}")
    assert sign_in(client, user.email, password).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert sign_in(client, user.email, password).status_code == 302


def test_nothing_stored_names_the_account(client):
    sign_in(client, "private.student@example.org", "wrong-password")
    attempt = AccessAttempt.objects.get()
    stored = " ".join(str(v) for v in attempt.__dict__.values())
    assert "private.student" not in stored
    assert "wrong-password" not in stored
    assert attempt.username == throttle_username(None, {"username": "private.student@example.org"})


def test_the_admin_sign_in_is_throttled_too(client, password):
    admin = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    for n in range(ACCOUNT_LIMIT):
        response = client.post(
            reverse("admin:login"),
            {"username": admin.email, "password": f"wrong-{n}"},
            REMOTE_ADDR="203.0.113.5",
        )
    assert response.status_code == 429
    assert LOCKOUT_TEXT in response.content.decode()


# --- the client address behind proxies -------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no proxy: the header is the client's own and ignored
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # a forged left entry is ignored
        (1, "", "10.0.0.1"),
        (2, "6.6.6.6, 1.1.1.1, 10.9.9.9", "1.1.1.1"),
    ],
)
def test_client_ip_trusts_only_its_own_proxies(rf, proxies, forwarded, expected):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(SERS_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(client):
    with override_settings(SERS_PROXY_COUNT=1, SERS_LOGIN_FAILURES_PER_ADDRESS=6):
        for n in range(6):
            response = client.post(
                reverse("accounts:login"),
                {"username": f"spray{n}@example.org", "password": "wrong"},
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"100.64.0.{n}, 203.0.113.50",
            )
        assert response.status_code == 429
    assert settings.AXES_CLIENT_IP_CALLABLE == "accounts.security.client_ip"
