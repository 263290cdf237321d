"""Email verification: the signed, expiring link, and the welcome email it unlocks."""

import re
import time

import pytest
from django.core import mail
from django.core.signing import TimestampSigner
from django.urls import reverse

from accounts.models import SentEmail
from enrollment.services import signup
from enrollment.views.student_signup import RESEND_LIMIT
from tests.factories import StudentProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unverified(world):
    return StudentProfileFactory(
        high_school=world.school,
        user__email="new.student@gmail.com",
        user__email_verified_at=None,
    )


def link_path(user) -> str:
    return reverse(
        "enrollment:verify_email", kwargs={"token": signup.email_verification_token(user=user)}
    )


def test_the_emailed_link_confirms_the_address_and_sends_the_welcome_email(
    client, unverified, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert signup.user_send_verification_email(user_id=unverified.user_id)
    path = re.search(r"localhost:8000(/verify/\S+/)", mail.outbox[0].body).group(1)
    # Opening the link (or a mail scanner fetching it) changes nothing.
    response = client.get(path)
    assert response.status_code == 200
    assert b"Confirm my email address" in response.content
    unverified.user.refresh_from_db()
    assert unverified.user.email_verified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 302
    unverified.user.refresh_from_db()
    assert unverified.user.email_verified_at is not None
    welcome = mail.outbox[-1]
    assert welcome.to == ["new.student@gmail.com"]
    assert unverified.sers_id in welcome.body
    assert SentEmail.objects.filter(user=unverified.user, kind="welcome").count() == 1
    # Confirming again is harmless and sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path)
    assert len(mail.outbox) == 2


def test_signed_in_student_goes_to_the_dashboard_after_confirming(
    client, unverified, django_capture_on_commit_callbacks
):
    client.force_login(unverified.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link_path(unverified.user))
    assert response.url == reverse("enrollment:dashboard")


def test_an_expired_link_is_refused(client, unverified, monkeypatch):
    path = link_path(unverified.user)
    later = time.time() + signup.EMAIL_VERIFICATION_MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert b"expired" in response.content
    unverified.user.refresh_from_db()
    assert unverified.user.email_verified_at is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        lambda token: "9999" + token[token.index(":") :],  # another user id
        lambda token: "garbage",
    ],
)
def test_a_tampered_link_is_refused(client, unverified, tamper):
    token = signup.email_verification_token(user=unverified.user)
    response = client.post(reverse("enrollment:verify_email", kwargs={"token": tamper(token)}))
    assert response.status_code == 400
    assert b"not valid" in response.content
    unverified.user.refresh_from_db()
    assert unverified.user.email_verified_at is None


def test_a_link_signed_with_another_salt_is_refused(client, unverified):
    forged = TimestampSigner(salt="something-else").sign(f"{unverified.user_id}:x")
    response = client.post(reverse("enrollment:verify_email", kwargs={"token": forged}))
    assert response.status_code == 400


def test_a_link_for_an_old_address_is_refused(client, unverified):
    path = link_path(unverified.user)
    unverified.user.email = "changed@gmail.com"
    unverified.user.save()
    response = client.post(path)
    assert response.status_code == 400
    assert b"no longer uses" in response.content


def test_check_your_email_page_and_resend(client, unverified, django_capture_on_commit_callbacks):
    client.force_login(unverified.user)
    page = client.get(reverse("enrollment:verify_sent"))
    assert b"new.student@gmail.com" in page.content
    for _attempt in range(RESEND_LIMIT):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("enrollment:verify_resend"))
    assert len(mail.outbox) == RESEND_LIMIT
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enrollment:verify_resend"), follow=True)
    assert len(mail.outbox) == RESEND_LIMIT
    assert b"Wait ten minutes" in response.content


def test_verified_students_skip_the_check_your_email_page(client, student):
    client.force_login(student.user)
    assert client.get(reverse("enrollment:verify_sent")).url == reverse("enrollment:dashboard")
    assert client.post(reverse("enrollment:verify_resend")).url == reverse("enrollment:dashboard")
    assert mail.outbox == []
