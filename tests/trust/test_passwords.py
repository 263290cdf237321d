"""Password rules per ASVS: at least 8 characters, long passphrases allowed, common ones
refused, Argon2id first, and no rule that forces a change."""

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.hashers import Argon2idPasswordHasher
from sers.settings import base
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LONG_PASSPHRASE = "the quick brown fox jumps over the lazy dog near the riverbank at dawn, twice"


def codes(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


def test_long_passphrases_are_welcome():
    assert len(LONG_PASSPHRASE) > 64
    assert codes(LONG_PASSPHRASE) == []
    assert codes("x7!" + "a-very-long-random-passphrase-" * 4)[:1] == []  # 123 characters


def test_only_absurd_lengths_are_refused():
    assert codes("Zq8#" * 32) == []  # 128
    assert codes("Zq8#" * 32 + "z") == ["password_too_long"]


def test_minimum_length_is_eight():
    assert "password_too_short" in codes("Zq8#tmb")
    assert "password_too_short" not in codes("Zq8#tmbw")


@pytest.mark.parametrize(
    "password",
    ["password", "Password2025!", "qwerty123", "letmein!!", "  dragon99 ", "iloveyou"],
)
def test_common_passwords_are_refused_also_when_dressed_up(password):
    assert "password_too_common" in codes(password)


@pytest.mark.parametrize("password", ["dual credit 1", "Sers!!!!", "techprep2026", "Student#1"])
def test_the_services_own_words_are_refused(password):
    assert "password_too_common" in codes(password)


@pytest.mark.parametrize("password", [TEST_PASSWORD, "Tulip-7291-orbit", "tr0ub4dor&3x"])
def test_ordinary_good_passwords_pass(password):
    assert codes(password) == []


def test_similar_to_the_email_is_refused():
    user = UserFactory.build(email="maria.lopez2009@example.org", first_name="Maria")
    assert "password_too_similar" in codes("maria.lopez2009", user)


def test_argon2id_at_owasps_cost_is_the_hasher_for_new_passwords():
    """(The test settings use a fast hasher; the real settings are checked here.)"""
    assert base.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idPasswordHasher"
    encoded = Argon2idPasswordHasher().encode("a password", "saltsaltsalt")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_password_hashed_at_another_cost_still_signs_in_and_is_hashed_again(settings):
    """Accounts made before the cost changed keep working; their next sign-in updates the
    hash."""
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = UserFactory.build(email="older-hash@example.org")
    user.password = Argon2PasswordHasher().encode("Tulip-7291-orbit", "saltsaltsalt")
    user.save()
    assert "m=102400" in user.password
    assert user.check_password("Tulip-7291-orbit")
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password
    assert user.check_password("Tulip-7291-orbit")
    assert not user.check_password("Tulip-7291-orbiT")


def test_the_validators_in_the_settings_are_ours():
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert "accounts.validators.MaximumLengthValidator" in names
    assert "accounts.validators.DecoratedCommonPasswordValidator" in names


def test_no_forced_rotation(client, password):
    """An account with a years-old password signs in and is not sent to change it."""
    user = UserFactory(email="old-password@example.org")
    user.date_joined = user.date_joined.replace(year=2015)
    user.save(update_fields=["date_joined"])
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_changing_to_a_long_passphrase_works_end_to_end(client, password):
    user = UserFactory(email="passphrase@example.org")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": LONG_PASSPHRASE,
            "new_password2": LONG_PASSPHRASE,
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(LONG_PASSPHRASE)


def test_changing_to_a_dressed_up_common_password_shows_the_reason(client, password):
    user = UserFactory(email="weak@example.org")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "Password2025!",
            "new_password2": "Password2025!",
        },
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(password)
