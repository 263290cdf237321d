"""Sign-up, duplicate prevention, account recovery and "which email did I use?"."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from enrollment.models import PossibleDuplicate, StudentProfile
from enrollment.selectors.student import email_is_school_address
from enrollment.views.student_signup import LOOKUP_LIMIT_PER_IDENTITY
from tests.factories import StudentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

BORN = datetime.date(2009, 4, 12)
PASSWORD = "purple-otter-harbor-42"


def sign_up_data(world, **overrides):
    data = {
        "legal_first_name": "Jonathan",
        "legal_middle_name": "",
        "legal_last_name": "Reyes",
        "birth_date": BORN.isoformat(),
        "email": "jon.reyes@gmail.com",
        "phone": "",
        "high_school": world.school.pk,
        "graduation_year": 2027,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def post_sign_up(client, world, capture, **overrides):
    with capture(execute=True):
        return client.post(reverse("enrollment:sign_up"), sign_up_data(world, **overrides))


def test_the_sign_up_page_explains_why_the_details_matter(client, world):
    response = client.get(reverse("enrollment:sign_up"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Why your legal name and real birth date?" in page
    assert "Why a personal email?" in page
    assert reverse("enrollment:forgot_email") in page


def test_sign_up_creates_the_account_and_sends_a_verification_link(
    client, world, django_capture_on_commit_callbacks
):
    response = post_sign_up(client, world, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response.url == reverse("enrollment:verify_sent")
    profile = StudentProfile.objects.select_related("user").get()
    assert profile.user.email == "jon.reyes@gmail.com"
    assert profile.user.check_password(PASSWORD)
    assert profile.user.email_verified_at is None
    assert (profile.legal_first_name, profile.legal_last_name, profile.birth_date) == (
        "Jonathan",
        "Reyes",
        BORN,
    )
    assert profile.language == "en"
    assert len(profile.sers_id) == 9
    # Not signed in yet: the answer must not differ from a sign-up with an address that
    # already has an account (tests/trust/test_enumeration.py). The SERS id is in the email.
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jon.reyes@gmail.com"]
    assert "/verify/" in mail.outbox[0].body
    assert profile.sers_id in mail.outbox[0].body
    page = client.get(response.url)
    assert b"jon.reyes@gmail.com" in page.content
    assert profile.sers_id.encode() not in page.content


def test_sign_up_in_spanish_keeps_the_language_for_emails(
    client, world, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "es"
    post_sign_up(client, world, django_capture_on_commit_callbacks)
    assert StudentProfile.objects.get().language == "es"
    assert "Confirma tu correo electrónico" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password1", "entirely"),
        ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
        ({"password2": "something-else-entirely"}, "password2", "different"),
        ({"birth_date": "2030-01-01"}, "birth_date", "future"),
        ({"birth_date": "1970-01-01"}, "birth_date", "Check the year"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"legal_first_name": "   "}, "legal_first_name", "required"),
        ({"phone": "call me"}, "phone", "phone number"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_created(
    client, world, django_capture_on_commit_callbacks, overrides, field, message
):
    response = post_sign_up(client, world, django_capture_on_commit_callbacks, **overrides)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert not StudentProfile.objects.exists()
    assert not User.objects.filter(email="jon.reyes@gmail.com").exists()
    assert mail.outbox == []


def test_a_password_like_the_name_is_refused(client, world, django_capture_on_commit_callbacks):
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        email="reyesjonathan@gmail.com",
        password1="reyesjonathan",
        password2="reyesjonathan",
    )
    assert "too similar" in " ".join(response.context["form"].errors["password1"])


def test_an_email_already_in_use_creates_nothing_and_tells_its_owner(
    client, world, django_capture_on_commit_callbacks
):
    UserFactory(email="jon.reyes@gmail.com")
    response = post_sign_up(
        client, world, django_capture_on_commit_callbacks, email="Jon.Reyes@Gmail.com"
    )
    # The same answer as a new sign-up (no "already used" error: it would reveal the account).
    assert response.status_code == 302
    assert response.url == reverse("enrollment:verify_sent")
    assert not StudentProfile.objects.exists()
    assert User.objects.filter(email__iexact="jon.reyes@gmail.com").count() == 1
    assert [m.to for m in mail.outbox] == [["jon.reyes@gmail.com"]]
    assert "/verify/" not in mail.outbox[0].body


def test_a_school_email_warns_but_does_not_block(client, world, django_capture_on_commit_callbacks):
    response = post_sign_up(
        client, world, django_capture_on_commit_callbacks, email="jreyes@sd1.k12.example.us"
    )
    assert response.status_code == 302
    assert StudentProfile.objects.exists()
    page = client.get(response.url).content.decode()
    assert "looks like a school address" in page


def test_the_school_email_check_while_typing(client, world):
    url = reverse("enrollment:sign_up_email_check")
    warn = client.post(
        url,
        {"email": "a@students.example.org", "high_school": world.school.pk},
        HTTP_HX_REQUEST="true",
    )
    assert b"school email address" in warn.content
    fine = client.post(
        url, {"email": "a@gmail.com", "high_school": world.school.pk}, HTTP_HX_REQUEST="true"
    )
    assert b"school email" not in fine.content
    junk = client.post(url, {"email": "a@x", "high_school": "abc"}, HTTP_HX_REQUEST="true")
    assert junk.status_code == 200
    assert client.post(url, {"email": "a@gmail.com"}).status_code == 302  # not HTMX


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("a@k12.example.us", True),
        ("a@sd7.k12.example.us", True),
        ("a@K12.EXAMPLE.US", True),
        ("a@notk12.example.us", False),
        ("a@gmail.com", False),
        ("", False),
    ],
)
def test_school_domain_matching(email, expected):
    assert email_is_school_address(email, ["k12.example.us"]) is expected


# --- duplicate prevention -------------------------------------------------------------------


@pytest.fixture
def existing(world):
    return StudentProfileFactory(
        legal_first_name="Jonathan",
        legal_last_name="Reyes",
        birth_date=BORN,
        user__email="jonathan.reyes@outlook.com",
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [("Jonathan", "Reyes"), ("Jon", "Reyes"), ("JONATHAN", "Reyes-Garcia"), ("Reyes", "Jonathan")],
)
def test_a_matching_sign_up_is_guided_to_the_existing_account(
    client, world, existing, django_capture_on_commit_callbacks, first, last
):
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        legal_first_name=first,
        legal_last_name=last,
        email="new.address@gmail.com",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "You may already have an account" in page
    assert "j•••@o•••.com" in page
    assert "jonathan.reyes@outlook.com" not in page
    assert "outlook" not in page
    assert "teacher or career specialist" in page
    assert 'name="different_person"' in page  # never stopped for good
    assert "What happens next" in page
    assert StudentProfile.objects.count() == 1
    assert not User.objects.filter(email="new.address@gmail.com").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("first", ["Jonathan", "Jon"])
def test_not_me_creates_the_account_flags_it_and_says_what_happens_next(
    client, world, existing, django_capture_on_commit_callbacks, first
):
    """A twin, or someone with a common name: "none of these accounts is mine" goes on."""
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        legal_first_name=first,
        email="new.address@gmail.com",
    )
    assert 'name="different_person"' in response.content.decode()
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        legal_first_name=first,
        email="new.address@gmail.com",
        different_person="on",
    )
    assert response.status_code == 302
    new = StudentProfile.objects.get(user__email="new.address@gmail.com")
    pair = PossibleDuplicate.objects.get()
    assert (pair.student, pair.existing_student, pair.status) == (
        new,
        existing,
        PossibleDuplicate.Status.OPEN,
    )
    page = client.get(response.url).content.decode()
    assert "What happens next" in page
    assert "two different people" in page
    assert "teacher or career specialist" in page


def test_the_reset_link_goes_to_the_existing_address(
    client, world, existing, django_capture_on_commit_callbacks
):
    post_sign_up(client, world, django_capture_on_commit_callbacks, email="new.address@gmail.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enrollment:account_recovery_send"), {"account": 0})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "j•••@o•••.com" in page
    assert "jonathan.reyes@outlook.com" not in page
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jonathan.reyes@outlook.com"]
    # The link in it works: the student chooses a new password and signs in.
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("localhost:8000", 1)[1]
    response = client.get(path, follow=True)
    assert response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    existing.user.refresh_from_db()
    assert existing.user.check_password("a-brand-new-passphrase")


def test_the_recovery_button_needs_a_fresh_search(client, world, existing):
    response = client.post(reverse("enrollment:account_recovery_send"), {"account": 0})
    assert response.url == reverse("enrollment:forgot_email")
    assert mail.outbox == []
    assert client.get(reverse("enrollment:recovery_sent")).status_code == 302


def test_a_close_match_asks_then_is_allowed_and_recorded(
    client, world, existing, django_capture_on_commit_callbacks
):
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        legal_first_name="Jonathon",  # a twin? a typo? the student decides
        email="jonathon.reyes@gmail.com",
    )
    assert response.status_code == 200
    assert 'name="different_person"' in response.content.decode()
    assert StudentProfile.objects.count() == 1
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        legal_first_name="Jonathon",
        email="jonathon.reyes@gmail.com",
        different_person="on",
    )
    assert response.status_code == 302
    new = StudentProfile.objects.get(user__email="jonathon.reyes@gmail.com")
    record = PossibleDuplicate.objects.get()
    assert (record.student, record.existing_student, record.source) == (
        new,
        existing,
        PossibleDuplicate.Source.SIGN_UP,
    )
    assert "given_sounds" in record.reasons
    assert record.status == PossibleDuplicate.Status.OPEN


def test_a_different_person_born_the_same_day_signs_up_freely(
    client, world, existing, django_capture_on_commit_callbacks
):
    response = post_sign_up(
        client, world, django_capture_on_commit_callbacks, legal_first_name="Isabel"
    )
    assert response.status_code == 302
    assert StudentProfile.objects.count() == 2
    assert not PossibleDuplicate.objects.exists()


# --- "which email did I use?" -------------------------------------------------------------


def forgot(client, **data):
    payload = {"legal_first_name": "Jon", "legal_last_name": "Reyes", "birth_date": BORN}
    payload.update(data)
    return client.post(reverse("enrollment:forgot_email"), payload)


def same_page(response) -> str:
    """The page without what differs on every response (CSRF tokens, CSP nonces)."""
    text = response.content.decode()
    return re.sub(r'(value="|X-CSRFToken": "|nonce=")[A-Za-z0-9+/=_-]{20,}"', r'\1"', text)


def forgot_and_send(client, capture, **data):
    with capture(execute=True):
        return forgot(client, **data)


def test_forgot_email_sends_a_link_to_the_address_and_shows_nothing_of_it(
    client, world, existing, django_capture_on_commit_callbacks
):
    response = forgot_and_send(client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check your email" in page
    assert "jonathan.reyes" not in page
    assert "outlook" not in page
    assert "•••" not in page
    assert [m.to for m in mail.outbox] == [["jonathan.reyes@outlook.com"]]
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_forgot_email_answers_the_same_when_nothing_matches(
    client, world, existing, django_capture_on_commit_callbacks
):
    found = forgot_and_send(client, django_capture_on_commit_callbacks)
    missing = forgot_and_send(client, django_capture_on_commit_callbacks, legal_first_name="Isabel")
    assert missing.status_code == found.status_code == 200
    assert same_page(missing).replace("Isabel", "Jon") == same_page(found)
    assert len(mail.outbox) == 1  # only the account that exists got an email


def test_forgot_email_does_not_write_to_close_matches(
    client, world, existing, django_capture_on_commit_callbacks
):
    forgot_and_send(client, django_capture_on_commit_callbacks, legal_first_name="Jonathon")
    assert mail.outbox == []


def test_forgot_email_then_reset_link(client, world, existing, django_capture_on_commit_callbacks):
    forgot_and_send(client, django_capture_on_commit_callbacks)
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body).group(0)
    response = client.get(link.split("localhost:8000", 1)[1], follow=True)
    assert response.context["validlink"]
    # The search leaves nothing in the session for the recovery button.
    response = client.post(reverse("enrollment:account_recovery_send"), {"account": 0})
    assert response.url == reverse("enrollment:forgot_email")


def test_forgot_email_is_rate_limited(client, world, existing):
    for _attempt in range(LOOKUP_LIMIT_PER_IDENTITY):
        assert forgot(client).status_code == 200
    response = forgot(client)
    assert response.status_code == 429
    assert "Too many tries" in response.content.decode()
    assert "•••@" not in response.content.decode()


def test_forgot_email_is_rate_limited_per_address_too(client, world, existing):
    for n in range(10):
        assert forgot(client, legal_first_name=f"Nobody{n}").status_code == 200
    assert forgot(client).status_code == 429


def test_sign_up_matches_are_rate_limited_but_never_a_dead_end(
    client, world, existing, django_capture_on_commit_callbacks
):
    """Over the limit (a school's lab behind one address on registration day) the email
    hints and reset links go, but "none of these accounts is mine" still goes on."""
    for _attempt in range(LOOKUP_LIMIT_PER_IDENTITY):
        post_sign_up(client, world, django_capture_on_commit_callbacks, email="x@gmail.com")
    response = post_sign_up(client, world, django_capture_on_commit_callbacks, email="x@gmail.com")
    page = response.content.decode()
    assert response.status_code == 200
    assert "•••@" not in page
    assert "Send a password reset link" not in page
    assert "does not show that account's email for now" in page
    assert 'name="different_person"' in page
    response = post_sign_up(
        client,
        world,
        django_capture_on_commit_callbacks,
        email="x@gmail.com",
        different_person="on",
    )
    assert response.status_code == 302
    new = StudentProfile.objects.get(user__email="x@gmail.com")
    assert PossibleDuplicate.objects.get(student=new).status == PossibleDuplicate.Status.OPEN
    assert "What happens next" in client.get(response.url).content.decode()
    # The search left nothing in the session for a reset link.
    response = client.post(reverse("enrollment:account_recovery_send"), {"account": 0})
    assert response.url == reverse("enrollment:forgot_email")


def test_signed_in_users_do_not_see_the_sign_up_form(client, world, student):
    client.force_login(student.user)
    assert client.get(reverse("enrollment:sign_up")).url == reverse("enrollment:dashboard")
    client.force_login(UserFactory())
    assert client.get(reverse("enrollment:sign_up")).url == reverse("home")
