"""Tests of enrollment.services.signup: student accounts, SERS ids, email and identity."""

import datetime
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accesslog.models import AccessLogEntry
from accounts.models import SentEmail, User
from enrollment.models import IdentityChange, PossibleDuplicate, StudentProfile
from enrollment.services import signup
from enrollment.services.signup import (
    DuplicateIdentity,
    generate_sers_id,
    luhn_check_digit,
    sers_id_is_valid,
    student_profile_create,
)
from tests import factories as f
from tests.factories import StudentProfileFactory
from tests.world import S, add_enrollment

# --- SERS ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [("7992739871", "3"), ("12345678", "2"), ("00000000", "0"), ("4242424242424242"[:-1], "2")],
)
def test_luhn_check_digit(digits, check):
    assert luhn_check_digit(digits) == check


def test_generated_sers_ids_are_nine_digits_with_a_valid_check_digit():
    for _ in range(500):
        sers_id = generate_sers_id()
        assert len(sers_id) == 9
        assert sers_id.isdigit()
        assert sers_id[0] != "0"
        assert sers_id_is_valid(sers_id)


@pytest.mark.parametrize(
    ("sers_id", "valid"),
    [
        ("123456782", True),
        ("123456783", False),
        ("12345678", False),
        ("1234567820", False),
        ("12345678a", False),
        ("", False),
        ("١٢٣٤٥٦٧٨٢", False),  # non-ASCII digits
    ],
)
def test_sers_id_is_valid(sers_id, valid):
    assert sers_id_is_valid(sers_id) is valid


def test_sers_id_check_digit_catches_single_digit_typos_and_most_swaps():
    sers_id = "123456782"
    for position in range(9):
        for digit in "0123456789":
            if digit != sers_id[position]:
                typo = sers_id[:position] + digit + sers_id[position + 1 :]
                assert not sers_id_is_valid(typo), typo
    for position in range(8):
        a, b = sers_id[position], sers_id[position + 1]
        if a != b and {a, b} != {"0", "9"}:
            swapped = sers_id[:position] + b + a + sers_id[position + 2 :]
            assert not sers_id_is_valid(swapped), swapped


@pytest.mark.django_db
def test_student_profile_create_retries_on_a_colliding_sers_id(monkeypatch):
    taken = f.StudentProfileFactory(sers_id="123456782")
    fresh = "987654324"
    assert sers_id_is_valid(fresh)
    ids = iter([taken.sers_id, fresh])
    monkeypatch.setattr("enrollment.services.signup.generate_sers_id", lambda: next(ids))

    profile = student_profile_create(
        user=f.UserFactory(),
        legal_first_name="Ada",
        legal_last_name="Lovelace",
        birth_date=datetime.date(2009, 12, 10),
        high_school=taken.high_school,
        graduation_year=2027,
    )
    assert profile.sers_id == fresh


@pytest.mark.django_db
def test_student_profile_create_refuses_a_second_profile_for_a_user():
    existing = f.StudentProfileFactory()

    with pytest.raises(IntegrityError):
        student_profile_create(
            user=existing.user,
            legal_first_name="Ada",
            legal_last_name="Lovelace",
            birth_date=datetime.date(2009, 12, 10),
            high_school=existing.high_school,
            graduation_year=2027,
        )


# --- sign-up ----------------------------------------------------------------------------------

PASSWORD = "amber-falcon-meadow-73"
TAKEN = "owner.taken@example.org"
FRESH = "nobody.here@example.org"
BORN = datetime.date(2009, 6, 3)


@pytest.fixture
def owner(world):
    """A student who signed up long ago with TAKEN."""
    return StudentProfileFactory(
        high_school=world.school,
        legal_first_name="Octavia",
        legal_last_name="Bramwell",
        user__email=TAKEN,
    )


def sign_up(world, **fields):
    """student_sign_up with a new student's details (any of them can be given instead)."""
    details = {
        "email": FRESH,
        "password": PASSWORD,
        "legal_first_name": "Marisol",
        "legal_middle_name": "",
        "legal_last_name": "Quintero",
        "birth_date": BORN,
        "high_school": world.school,
        "graduation_year": 2027,
    }
    return signup.student_sign_up(**details | fields)


def accounts() -> tuple:
    return (
        sorted(User.objects.values_list("pk", flat=True)),
        sorted(StudentProfile.objects.values_list("pk", flat=True)),
        sorted(PossibleDuplicate.objects.values_list("pk", flat=True)),
    )


@pytest.mark.django_db
def test_both_answers_hash_the_password(world, owner, django_capture_on_commit_callbacks):
    """The taken-address path does the same slow hashing as a new account (no timing tell)."""
    common = {
        "password": PASSWORD,
        "legal_first_name": "Marisol",
        "legal_middle_name": "",
        "legal_last_name": "Quintero",
        "birth_date": StudentProfileFactory.build().birth_date,
        "high_school": world.school,
        "graduation_year": 2027,
    }
    with mock.patch(
        "enrollment.services.signup.make_password", wraps=signup.make_password
    ) as hashed:
        assert signup.student_sign_up(email=TAKEN, **common) is None
    assert hashed.call_count == 1
    assert signup.student_sign_up(email=FRESH, **common).user.has_usable_password()


@pytest.mark.django_db
def test_sign_up_creates_the_account_and_sends_the_link_after_commit(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        profile = sign_up(
            world, email="Nobody.Here@Example.ORG", legal_first_name="  Marisol ", language="es"
        )
    assert mail.outbox == []  # nothing is sent before the commit
    user = User.objects.get(pk=profile.user_id)
    assert user.email == FRESH
    assert user.check_password(PASSWORD)
    assert user.email_verified_at is None
    assert (user.first_name, user.last_name) == ("Marisol", "Quintero")
    assert (profile.legal_first_name, profile.birth_date, profile.language) == (
        "Marisol",
        BORN,
        "es",
    )
    assert sers_id_is_valid(profile.sers_id)
    assert not PossibleDuplicate.objects.exists()

    for callback in callbacks:
        callback()
    (email,) = mail.outbox
    assert email.to == [FRESH]
    assert email.subject == "Confirma tu correo electrónico para SERS"
    assert "/verify/" in email.body


@pytest.mark.django_db
@pytest.mark.parametrize("first_name", ["Marisol", "MARISOL", "Marysol"])
def test_a_matching_identity_asks_first_and_is_never_refused_for_good(
    world, first_name, django_capture_on_commit_callbacks
):
    existing = StudentProfileFactory(
        legal_first_name="Marisol", legal_last_name="Quintero", birth_date=BORN
    )
    before = accounts()
    with pytest.raises(DuplicateIdentity) as asked:
        sign_up(world, legal_first_name=first_name)
    assert asked.value.code == "duplicate_identity"
    assert asked.value.can_continue is True
    assert [match.student for match in asked.value.matches] == [existing]
    assert accounts() == before
    assert mail.outbox == []

    # "None of these is me": the account is made and the pair waits for staff.
    with django_capture_on_commit_callbacks(execute=True):
        profile = sign_up(world, legal_first_name=first_name, different_person_confirmed=True)
    pair = PossibleDuplicate.objects.get()
    assert (pair.student, pair.existing_student, pair.source, pair.status) == (
        profile,
        existing,
        PossibleDuplicate.Source.SIGN_UP,
        PossibleDuplicate.Status.OPEN,
    )
    assert pair.reasons
    assert pair.score is not None
    assert "family_same" in pair.reasons
    assert [m.to for m in mail.outbox] == [[FRESH]]


@pytest.mark.django_db
def test_an_address_in_use_creates_nothing_and_tells_its_owner_once_a_day(
    world, owner, django_capture_on_commit_callbacks
):
    before = accounts()
    for first_name in ("Marisol", "Beatriz"):
        with django_capture_on_commit_callbacks(execute=True):
            assert sign_up(world, email=TAKEN.upper(), legal_first_name=first_name) is None
    assert accounts() == before
    (notice,) = mail.outbox
    assert notice.to == [TAKEN]
    assert notice.subject == "Someone tried to create a SERS account with your email address"
    assert "/verify/" not in notice.body
    assert SentEmail.objects.filter(user=owner.user, kind="sign_up_attempt").count() == 1


# --- email verification ---------------------------------------------------------------------


@pytest.fixture
def unverified(world):
    return StudentProfileFactory(
        high_school=world.school,
        user__email="new.student@example.org",
        user__email_verified_at=None,
    )


@pytest.mark.django_db
def test_no_verification_email_once_verified(student):
    assert not signup.user_send_verification_email(user_id=student.user_id)
    assert mail.outbox == []


@pytest.mark.django_db
def test_verifying_the_address_sends_the_welcome_email_once(
    unverified, django_capture_on_commit_callbacks
):
    token = signup.email_verification_token(user=unverified.user)
    assert signup.email_verification_check(token=token) == unverified.user
    with django_capture_on_commit_callbacks(execute=True):
        user = signup.user_verify_email(token=token)
    assert user.email_verified_at is not None
    (welcome,) = mail.outbox
    assert welcome.to == ["new.student@example.org"]
    assert welcome.subject == "Welcome to SERS: your SERS ID"
    assert unverified.sers_id in welcome.body
    confirmed_at = User.objects.get(pk=unverified.user_id).email_verified_at

    # The same link again: nothing changes, nothing more is sent.
    with django_capture_on_commit_callbacks(execute=True):
        signup.user_verify_email(token=token)
    assert User.objects.get(pk=unverified.user_id).email_verified_at == confirmed_at
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_expired_link_confirms_nothing(unverified, monkeypatch):
    token = signup.email_verification_token(user=unverified.user)
    later = time.time() + signup.EMAIL_VERIFICATION_MAX_AGE + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    with pytest.raises(ValidationError) as refused:
        signup.user_verify_email(token=token)
    assert refused.value.code == "expired"
    assert refused.value.messages == ["This link has expired. Sign in and ask for a new one."]
    assert User.objects.get(pk=unverified.user_id).email_verified_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), "not valid"),
        (lambda token: "garbage", "not valid"),
        (lambda token: "9999" + token[token.index(":") :], "not valid"),
    ],
    ids=["signature", "garbage", "another-user"],
)
def test_a_tampered_link_confirms_nothing(unverified, tamper, message):
    token = tamper(signup.email_verification_token(user=unverified.user))
    with pytest.raises(ValidationError) as refused:
        signup.user_verify_email(token=token)
    assert refused.value.code == "invalid"
    assert message in refused.value.messages[0]
    assert User.objects.get(pk=unverified.user_id).email_verified_at is None


@pytest.mark.django_db
def test_a_link_for_an_address_no_longer_used_is_refused(unverified):
    token = signup.email_verification_token(user=unverified.user)
    User.objects.filter(pk=unverified.user_id).update(email="changed@example.org")
    with pytest.raises(ValidationError) as refused:
        signup.user_verify_email(token=token)
    assert refused.value.code == "invalid"
    assert "no longer uses" in refused.value.messages[0]
    assert User.objects.get(pk=unverified.user_id).email_verified_at is None


# --- contact details ------------------------------------------------------------------------


def update_contact(student, **fields):
    details = {
        "email": student.user.email,
        "phone": " (509) 555-0100 ",
        "high_school": student.high_school,
        "graduation_year": 2028,
        "language": "es",
        "race_ethnicity": "hispanic",
    }
    return signup.student_update_contact(student=student, actor=student.user, **details | fields)


@pytest.mark.django_db
def test_contact_details_are_saved_and_logged(student, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert update_contact(student, email=student.user.email.upper()) is False
    student.refresh_from_db()
    assert (student.phone, student.graduation_year, student.language, student.race_ethnicity) == (
        "(509) 555-0100",
        2028,
        "es",
        "hispanic",
    )
    assert User.objects.get(pk=student.user_id).email_verified_at is not None
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what, entry.actor) == ("change", "contact details", student.user)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_new_email_address_must_be_confirmed_and_the_old_one_is_told(
    student, django_capture_on_commit_callbacks
):
    old = student.user.email
    with django_capture_on_commit_callbacks(execute=True):
        assert update_contact(student, email="New.Address@Example.org", language="en") is True
    user = User.objects.get(pk=student.user_id)
    assert (user.email, user.email_verified_at) == ("new.address@example.org", None)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {old, "new.address@example.org"}
    assert by_address[old].subject == "Your SERS email address was changed"
    assert "/verify/" not in by_address[old].body
    assert by_address["new.address@example.org"].subject == "Confirm your email address for SERS"
    assert "/verify/" in by_address["new.address@example.org"].body


@pytest.mark.django_db
def test_an_address_of_another_account_is_refused_and_nothing_changes(
    student, django_capture_on_commit_callbacks
):
    f.UserFactory(email="taken@example.org")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        update_contact(student, email="Taken@example.org")
    assert refused.value.message_dict == {
        "email": ["Another account already uses this email address."]
    }
    student.refresh_from_db()
    assert (student.phone, student.language) == ("", "en")
    assert User.objects.get(pk=student.user_id).email == "maria.lopez@gmail.com"
    assert not AccessLogEntry.objects.exists()
    assert mail.outbox == []


# --- legal identity -------------------------------------------------------------------------


def change_identity(student, **fields):
    details = {
        "legal_first_name": " María ",
        "legal_middle_name": "Elena",
        "legal_last_name": "Lopez",
        "birth_date": student.birth_date,
        "reason": " My name was missing its accent. ",
    }
    return signup.student_identity_change(student=student, actor=student.user, **details | fields)


@pytest.mark.django_db
def test_before_any_credit_the_correction_is_applied_at_once(student):
    change = change_identity(student)
    assert (change.status, change.reason, change.requested_by) == (
        IdentityChange.Status.APPLIED,
        "My name was missing its accent.",
        student.user,
    )
    assert (change.old_first_name, change.new_first_name) == ("Maria", "María")
    student.refresh_from_db()
    assert (student.legal_first_name, student.legal_middle_name) == ("María", "Elena")
    assert User.objects.get(pk=student.user_id).first_name == "María"
    assert AccessLogEntry.objects.get().what == "legal identity corrected"


@pytest.mark.django_db
def test_after_a_credit_the_change_waits_for_staff_one_at_a_time(student, world):
    add_enrollment(student, world.sections[0], S.ATTAINED)
    change = change_identity(student, birth_date=datetime.date(2009, 5, 12))
    assert change.status == IdentityChange.Status.PENDING
    student.refresh_from_db()
    assert (student.legal_first_name, student.birth_date) == ("Maria", datetime.date(2009, 4, 12))
    assert AccessLogEntry.objects.get().what == "legal identity change requested"

    with pytest.raises(ValidationError) as refused:
        change_identity(student, legal_first_name="Mara")
    assert "already have a change waiting" in refused.value.messages[0]
    assert IdentityChange.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "   "}, "Tell us why the change is needed."),
        (
            {"legal_first_name": "Maria", "legal_middle_name": ""},
            "Nothing changed: the name and birth date are the same.",
        ),
    ],
    ids=["no-reason", "no-change"],
)
def test_an_identity_change_without_a_reason_or_a_change_is_refused(student, fields, message):
    with pytest.raises(ValidationError) as refused:
        change_identity(student, **fields)
    assert refused.value.messages == [message]
    assert not IdentityChange.objects.exists()
    assert not AccessLogEntry.objects.exists()
    student.refresh_from_db()
    assert student.legal_first_name == "Maria"


@pytest.mark.django_db
def test_a_correction_that_resembles_another_student_is_recorded_for_review(student):
    other = StudentProfileFactory(
        legal_first_name="Marie", legal_last_name="Lopes", birth_date=datetime.date(2009, 5, 12)
    )
    change_identity(
        student,
        legal_first_name="Marie",
        legal_middle_name="",
        legal_last_name="Lopes",
        birth_date=datetime.date(2009, 5, 12),
    )
    pair = PossibleDuplicate.objects.get()
    assert (pair.student, pair.existing_student, pair.source) == (
        student,
        other,
        PossibleDuplicate.Source.IDENTITY_CHANGE,
    )


@pytest.mark.django_db
def test_only_the_student_cancels_their_waiting_request_once(student, other_student, world):
    add_enrollment(student, world.sections[0], S.ATTAINED)
    change = change_identity(student)
    with pytest.raises(IdentityChange.DoesNotExist):
        signup.identity_change_cancel(change_id=change.pk, student=other_student)
    assert IdentityChange.objects.get(pk=change.pk).status == IdentityChange.Status.PENDING

    signup.identity_change_cancel(change_id=change.pk, student=student)
    assert IdentityChange.objects.get(pk=change.pk).status == IdentityChange.Status.CANCELLED
    assert AccessLogEntry.objects.latest("pk").what == "legal identity request cancelled"
    with pytest.raises(ValidationError) as refused:
        signup.identity_change_cancel(change_id=change.pk, student=student)
    assert "no longer waiting" in refused.value.messages[0]


# --- rate limits ----------------------------------------------------------------------------


def test_attempts_are_counted_per_scope_and_key():
    def allowed(key, scope="lookup"):
        return signup.attempt_allowed(scope=scope, key=key, limit=2, window_seconds=60)

    assert [allowed("a"), allowed("a"), allowed("a")] == [True, True, False]
    assert allowed("b")
    assert allowed("a", scope="sign_up")
