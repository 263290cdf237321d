"""Two-step sign-in: required for the roles that see many students, available to everyone,
with recovery codes that work once and are stored only as hashes."""

import base64
import re

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from accounts.twofactor import REQUIRED_ROLES, SESSION_KEY
from sers.settings import base
from tests.factories import (
    CollegeFactory,
    ConsortiumFactory,
    DistrictFactory,
    HighSchoolFactory,
    StudentProfileFactory,
    UserFactory,
    make_staff,
)
from tests.trust.conftest import next_code, totp_now, wrong_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_two_factor_required")]

STAFF_SCOPES = {
    Role.REGISTRAR: CollegeFactory,
    Role.CONSORTIUM_ADMIN: ConsortiumFactory,
    Role.STATE_STAFF: lambda: None,
    Role.CAREER_SPECIALIST: DistrictFactory,
}


@pytest.fixture
def _two_factor_required():
    # Off in the test settings (most tests sign staff in with force_login); on here, as in
    # base.py and production.py.
    with override_settings(SERS_TWO_FACTOR_REQUIRED=True):
        yield


def sign_in(client, user, password, **extra):
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": password}, **extra
    )
    assert response.status_code == 302, "the password step failed"
    return response


def enrol(client) -> tuple[TOTPDevice, list[str]]:
    """Set up the authenticator through the pages; returns the device and recovery codes."""
    page = client.get(reverse("accounts:two_factor_enrol"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("accounts:two_factor_enrol"), {"code": next_code(device)})
    assert response.status_code == 200
    codes = re.findall(
        r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", response.content.decode()
    )
    device.refresh_from_db()
    return device, codes


def test_base_settings_require_it_and_the_gate_is_installed():
    assert base.SERS_TWO_FACTOR_REQUIRED is True
    assert "accounts.twofactor.TwoFactorMiddleware" in base.MIDDLEWARE
    assert {
        Role.REGISTRAR,
        Role.CONSORTIUM_ADMIN,
        Role.STATE_STAFF,
        Role.CAREER_SPECIALIST,
    } == REQUIRED_ROLES


@pytest.mark.parametrize("role", sorted(STAFF_SCOPES))
def test_staff_who_see_many_students_must_set_it_up_before_any_page(client, password, role):
    user = make_staff(role, STAFF_SCOPES[role]())
    sign_in(client, user, password)
    for url in [reverse("home"), reverse("accounts:password_change"), reverse("admin:index")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:two_factor_enrol")), url
    assert client.session[SESSION_KEY] == "enrol"


@pytest.mark.parametrize("kind", ["teacher", "student", "django-admin"])
def test_who_must_and_who_may(client, password, kind):
    if kind == "teacher":
        user = make_staff(Role.TEACHER, HighSchoolFactory())
    elif kind == "student":
        user = StudentProfileFactory().user
    else:
        user = UserFactory(is_staff=True)
    sign_in(client, user, password)
    response = client.get(reverse("home"))
    if kind == "django-admin":
        assert response["Location"].startswith(reverse("accounts:two_factor_enrol"))
    else:
        assert response.status_code == 200


def test_enrolment_shows_a_qr_code_and_the_key_then_recovery_codes(client, password):
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    sign_in(client, user, password)
    page = client.get(reverse("accounts:two_factor_enrol")).content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert '<svg role="img"' in page
    secret = page.split('id="totp-secret">')[1].split("<")[0].replace(" ", "")
    assert base64.b32decode(secret) == device.bin_key
    assert device.key not in page  # only the base32 form for typing in

    wrong = client.post(reverse("accounts:two_factor_enrol"), {"code": wrong_code(device)})
    assert "That code is not right" in wrong.content.decode()
    pending = TOTPDevice.objects.get(pk=device.pk)
    assert not pending.confirmed
    assert pending.throttling_failure_count == 1, "wrong codes at set-up slow down too"

    session_before = client.session.session_key
    device, codes = enrol(client)
    assert device.confirmed
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.session.session_key != session_before, "a new session id after the 2nd step"
    assert client.session[SESSION_KEY] == "done"
    assert client.get(reverse("home")).status_code == 200


def test_recovery_codes_are_stored_only_as_hashes(client, password):
    user = make_staff(Role.STATE_STAFF)
    sign_in(client, user, password)
    _device, codes = enrol(client)
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(stored) == 10
    plain = {code.replace("-", "") for code in codes}
    assert not stored & plain
    assert not stored & set(codes)


def test_next_sign_in_asks_for_a_code_and_refuses_a_wrong_one(client, password):
    user = make_staff(Role.CONSORTIUM_ADMIN, ConsortiumFactory())
    sign_in(client, user, password)
    device, _codes = enrol(client)
    client.post(reverse("accounts:logout"))

    sign_in(client, user, password)
    response = client.get(reverse("reports:report_dashboard"))
    assert response["Location"].startswith(reverse("accounts:two_factor_verify"))
    assert "next=/reports/" in response["Location"] or "next=" in response["Location"]

    wrong = client.post(reverse("accounts:two_factor_verify"), {"code": wrong_code(device)})
    assert wrong.status_code == 200
    assert client.get(reverse("home")).status_code == 302

    ok = client.post(
        reverse("accounts:two_factor_verify"),
        {"code": next_code(device), "next": reverse("reports:report_dashboard")},
    )
    assert ok.status_code == 302
    assert ok["Location"] == reverse("reports:report_dashboard")
    assert client.get(reverse("home")).status_code == 200


def test_wrong_codes_slow_down(client, password):
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    sign_in(client, user, password)
    device, _codes = enrol(client)
    client.post(reverse("accounts:logout"))
    sign_in(client, user, password)
    for _ in range(3):
        client.post(reverse("accounts:two_factor_verify"), {"code": wrong_code(device)})
    # Even the right code waits now (django-otp's back-off: 4 seconds after 3 failures).
    device.refresh_from_db()
    response = client.post(reverse("accounts:two_factor_verify"), {"code": totp_now(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert client.session[SESSION_KEY] == "verify"


def test_a_recovery_code_works_once(client, password):
    user = make_staff(Role.CAREER_SPECIALIST, DistrictFactory())
    sign_in(client, user, password)
    _device, codes = enrol(client)
    client.post(reverse("accounts:logout"))

    sign_in(client, user, password)
    response = client.post(reverse("accounts:two_factor_verify"), {"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == "done"
    assert StaticToken.objects.filter(device__user=user).count() == 9
    client.post(reverse("accounts:logout"))

    sign_in(client, user, password)
    again = client.post(reverse("accounts:two_factor_verify"), {"code": codes[3]})
    assert again.status_code == 200
    assert client.session[SESSION_KEY] == "verify"


def test_during_the_second_step_only_sign_out_and_static_files_answer(client, password):
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    sign_in(client, user, password)
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get("/static/css/sers.css").status_code == 200
    htmx = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"] == reverse("accounts:two_factor_enrol")
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_anyone_may_turn_it_on_and_then_must_use_it(client, password):
    student = StudentProfileFactory()
    sign_in(client, student.user, password)
    manage = client.get(reverse("accounts:two_factor_manage"))
    assert "Two-step sign-in is off" in manage.content.decode()
    device, _codes = enrol(client)
    client.post(reverse("accounts:logout"))

    sign_in(client, student.user, password)
    assert client.get(reverse("enrollment:dashboard"))["Location"].startswith(
        reverse("accounts:two_factor_verify")
    )
    client.post(reverse("accounts:two_factor_verify"), {"code": next_code(device)})
    assert client.get(reverse("enrollment:dashboard")).status_code == 200

    # ... and may turn it off again, with a current code.
    device.refresh_from_db()
    off = client.post(
        reverse("accounts:two_factor_manage"),
        {"action": "turn_off", "code": next_code(device)},
    )
    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=student.user).exists()
    assert not StaticDevice.objects.filter(user=student.user).exists()


def test_required_staff_cannot_turn_it_off(client, password):
    user = make_staff(Role.STATE_STAFF)
    sign_in(client, user, password)
    device, _codes = enrol(client)
    response = client.post(
        reverse("accounts:two_factor_manage"),
        {"action": "turn_off", "code": next_code(device)},
    )
    assert response.status_code == 200
    assert "Your role requires two-step sign-in" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_new_recovery_codes_replace_the_old_ones(client, password):
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    sign_in(client, user, password)
    device, old_codes = enrol(client)
    response = client.post(
        reverse("accounts:two_factor_manage"),
        {"action": "recovery_codes", "code": next_code(device)},
    )
    new_codes = re.findall(r"<code>([a-z2-7-]{19})</code>", response.content.decode())
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    client.post(reverse("accounts:logout"))
    sign_in(client, user, password)
    assert (
        client.post(reverse("accounts:two_factor_verify"), {"code": old_codes[0]}).status_code
        == 200
    )
    StaticDevice.objects.filter(user=user).update(throttling_failure_count=0)  # the back-off
    assert (
        client.post(reverse("accounts:two_factor_verify"), {"code": new_codes[0]}).status_code
        == 302
    )


def test_a_session_from_before_is_checked_too(client, password):
    """A session without the two-step state (older than this feature) is gated as well."""
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    client.force_login(user)
    session = client.session
    del session[SESSION_KEY]
    session.save()
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:two_factor_enrol"))


def test_support_can_reset_a_lost_device(client, password):
    user = make_staff(Role.REGISTRAR, CollegeFactory())
    sign_in(client, user, password)
    enrol(client)
    call_command("two_step_reset", user.email.upper())
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert not Session.objects.exists(), "the reset signs them out everywhere"
    sign_in(client, user, password)
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:two_factor_enrol"))


def test_the_device_secrets_are_not_in_the_admin():
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
