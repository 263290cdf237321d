"""Account enumeration: nobody learns from SERS's public forms whether an address (or a
person) has an account.

Sign-up with an address that has an account answers exactly as a new sign-up does,
creates nothing, and emails the account's owner instead; the while-typing email check
says the same for both; "which email did I use?", the recovery button and the password
reset answer the same for known and unknown input; sign-in says the same for an unknown
address and a wrong password. (That both sign-up answers do the same password hashing,
no timing tell: tests/enrollment/test_signup.py.) Synthetic data only.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role, SentEmail, User
from enrollment.models import StudentProfile
from tests.factories import StudentProfileFactory, make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "amber-falcon-meadow-73"
TAKEN = "owner.taken@example.org"
FRESH = "nobody.here@example.org"


def sign_up_data(world, email, **overrides):
    data = {
        "legal_first_name": "Marisol",
        "legal_middle_name": "",
        "legal_last_name": "Quintero",
        "birth_date": "2009-06-03",
        "email": email,
        "phone": "",
        "high_school": world.school.pk,
        "graduation_year": 2027,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def page_text(response, *replace: tuple[str, str]) -> str:
    """The page without what differs on every response (CSRF tokens, CSP nonces), and with
    the input the visitor typed replaced, so two answers can be compared as text."""
    text = response.content.decode()
    text = re.sub(r'(value="|X-CSRFToken": "|nonce=")[A-Za-z0-9+/=_-]{20,}"', r'\1"', text)
    for old, new in replace:
        text = text.replace(old, new)
    return text


@pytest.fixture
def owner(world):
    """A student who signed up long ago with TAKEN."""
    return StudentProfileFactory(
        high_school=world.school,
        legal_first_name="Octavia",
        legal_last_name="Bramwell",
        user__email=TAKEN,
    )


def sign_up(client, world, capture, email, **overrides):
    with capture(execute=True):
        response = client.post(
            reverse("enrollment:sign_up"), sign_up_data(world, email, **overrides)
        )
    followed = client.get(response.url) if response.status_code == 302 else None
    return response, followed


# --- sign-up ---------------------------------------------------------------------------------


def test_sign_up_with_a_taken_address_answers_as_a_new_one(
    client, world, owner, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    taken, taken_page = sign_up(client, world, capture, TAKEN.upper())
    client.cookies.clear()
    fresh, fresh_page = sign_up(client, world, capture, FRESH)

    assert taken.status_code == fresh.status_code == 302
    assert taken.url == fresh.url == reverse("enrollment:verify_sent")
    assert taken_page.status_code == fresh_page.status_code == 200
    assert page_text(taken_page, (TAKEN, FRESH)) == page_text(fresh_page)
    assert "_auth_user_id" not in client.session  # neither signs anyone in

    # Nothing created for the taken address: no second account, no profile, no change.
    assert User.objects.filter(email__iexact=TAKEN).count() == 1
    assert StudentProfile.objects.filter(user__email=TAKEN).get() == owner
    owner.user.refresh_from_db()
    assert not owner.user.check_password(PASSWORD)
    assert StudentProfile.objects.filter(user__email=FRESH).exists()


def test_the_owner_of_the_taken_address_gets_a_notice(
    client, world, owner, django_capture_on_commit_callbacks
):
    sign_up(client, world, django_capture_on_commit_callbacks, TAKEN)
    assert [m.to for m in mail.outbox] == [[TAKEN]]
    notice = mail.outbox[0]
    assert "tried to create" in notice.subject
    assert "already has an account" in notice.body
    assert "/accounts/login/" in notice.body or reverse("accounts:login") in notice.body
    assert reverse("accounts:password_reset") in notice.body
    assert "/verify/" not in notice.body  # no confirmation link for the intruder's form
    assert "Marisol" not in notice.body  # nothing the other person typed is echoed


def test_a_new_address_gets_the_confirmation_link_instead(
    client, world, django_capture_on_commit_callbacks
):
    sign_up(client, world, django_capture_on_commit_callbacks, FRESH)
    assert [m.to for m in mail.outbox] == [[FRESH]]
    assert "/verify/" in mail.outbox[0].body


def test_the_notice_goes_out_once_a_day_whatever_the_number_of_tries(
    client, world, owner, django_capture_on_commit_callbacks
):
    for first_name in ("Marisol", "Beatriz", "Consuelo"):
        response, _page = sign_up(
            client, world, django_capture_on_commit_callbacks, TAKEN, legal_first_name=first_name
        )
        assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert SentEmail.objects.filter(user=owner.user, kind="sign_up_attempt").count() == 1


def test_a_staff_address_is_not_revealed_either(client, world, django_capture_on_commit_callbacks):
    teacher = make_staff(Role.TEACHER, world.school)
    capture = django_capture_on_commit_callbacks
    taken, taken_page = sign_up(client, world, capture, teacher.email)
    client.cookies.clear()
    fresh, fresh_page = sign_up(client, world, capture, FRESH)
    assert taken.status_code == fresh.status_code == 302
    assert page_text(taken_page, (teacher.email, FRESH)) == page_text(fresh_page)
    assert not StudentProfile.objects.filter(user=teacher).exists()
    assert [m.to for m in mail.outbox if "tried to create" in m.subject] == [[teacher.email]]


def test_a_closed_account_creates_nothing_and_gets_no_email(
    client, world, owner, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=owner.user_id).update(is_active=False)
    response, _page = sign_up(client, world, django_capture_on_commit_callbacks, TAKEN)
    assert response.url == reverse("enrollment:verify_sent")
    assert User.objects.filter(email__iexact=TAKEN).count() == 1
    assert mail.outbox == []


# --- the while-typing email check ------------------------------------------------------------


@pytest.mark.parametrize("with_school", [True, False])
def test_the_email_check_answers_the_same_for_taken_and_new(client, world, owner, with_school):
    url = reverse("enrollment:sign_up_email_check")
    extra = {"high_school": world.school.pk} if with_school else {}
    taken = client.post(url, {"email": TAKEN, **extra}, HTTP_HX_REQUEST="true")
    fresh = client.post(url, {"email": FRESH, **extra}, HTTP_HX_REQUEST="true")
    assert taken.status_code == fresh.status_code == 200
    assert taken.content == fresh.content
    assert b"already" not in taken.content


# --- account recovery --------------------------------------------------------------------------


def forgot(client, capture, **data):
    payload = {"legal_first_name": "Octavia", "legal_last_name": "Bramwell"}
    payload.update(data)
    with capture(execute=True):
        return client.post(reverse("enrollment:forgot_email"), payload)


def test_which_email_did_i_use_answers_the_same_for_known_and_unknown(
    client, world, owner, django_capture_on_commit_callbacks
):
    born = owner.birth_date.isoformat()
    known = forgot(client, django_capture_on_commit_callbacks, birth_date=born)
    unknown = forgot(
        client, django_capture_on_commit_callbacks, birth_date=born, legal_first_name="Perpetua"
    )
    assert known.status_code == unknown.status_code == 200
    assert page_text(unknown, ("Perpetua", "Octavia")) == page_text(known)
    assert "owner.taken" not in known.content.decode()
    assert "•••" not in known.content.decode()
    # Only the owner's inbox learns that the account exists.
    assert [m.to for m in mail.outbox] == [[TAKEN]]


def test_the_recovery_button_answers_the_same_without_a_search(client, world, owner):
    answers = {
        client.post(reverse("enrollment:account_recovery_send"), {"account": n}).url
        for n in ("0", "1", "7", "x")
    }
    assert answers == {reverse("enrollment:forgot_email")}
    assert mail.outbox == []


def test_password_reset_answers_the_same_for_known_and_unknown(
    client, world, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("accounts:password_reset"), {"email": TAKEN})
        unknown = client.post(reverse("accounts:password_reset"), {"email": FRESH})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert [m.to for m in mail.outbox] == [[TAKEN]]


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_says_the_same_for_an_unknown_address_and_a_wrong_password(client, world, owner):
    wrong = client.post(
        reverse("accounts:login"), {"username": TAKEN, "password": "not-the-password-1"}
    )
    unknown = client.post(
        reverse("accounts:login"), {"username": FRESH, "password": "not-the-password-1"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert page_text(unknown, (FRESH, TAKEN)) == page_text(wrong)
    assert "_auth_user_id" not in client.session
