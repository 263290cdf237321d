"""Two-step sign-in for the demo's staff logins, so that a newcomer signs in as every role
without an authenticator app.

Only where the settings allow it (`SERS_DEMO_SIGN_IN_CODES`: the development settings of
the embedded demo; never the production settings, which have no way to turn it on):

- each demo login that must use two-step sign-in (accounts.twofactor) gets an
  authenticator already set up (a TOTP device with a random key) and, every time
  `manage.py demo_data` runs, new recovery codes, a few of which it prints;
- `manage.py demo_codes` prints each such login's current six-digit code, computed from
  the device's key as an authenticator app would.

Everything else about two-step sign-in stays as in production: the same pages ask for the
same codes.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.twofactor import TOTP_DIGITS, recovery_codes_replace, two_factor_required

from .constants import DEMO_DOMAIN

PRINTED_RECOVERY_CODES = 3  # of the ten each login gets


@dataclass
class DemoCode:
    email: str
    code: str
    seconds_left: int


def demo_codes_allowed() -> bool:
    return bool(getattr(settings, "SERS_DEMO_SIGN_IN_CODES", False))


def require_demo_codes_allowed() -> None:
    if not demo_codes_allowed():
        raise CommandError(
            "Demo sign-in codes are for the embedded demo only (the development settings, "
            "sers.settings.dev, with SERS_DEMO on)."
        )


def _demo_staff() -> list[User]:
    """The demo logins that must use two-step sign-in (or have it on), in email order."""
    users = User.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}", is_active=True)
    with_device = set(
        TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True)
    )
    return [u for u in users.order_by("email") if u.pk in with_device or two_factor_required(u)]


def demo_two_step_prepare() -> dict[str, list[str]]:
    """Set up two-step sign-in for the demo staff logins (an authenticator each, unless
    they have one) and give them new recovery codes. Returns the codes to print by email;
    nothing (and no change) where the settings do not allow demo codes."""
    if not demo_codes_allowed():
        return {}
    printed = {}
    for user in _demo_staff():
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.create(
                user=user, name="authenticator", confirmed=True, digits=TOTP_DIGITS
            )
        codes = recovery_codes_replace(user=user)
        printed[user.email] = codes[:PRINTED_RECOVERY_CODES]
    return printed


def demo_current_codes(*, now: float | None = None) -> list[DemoCode]:
    """Each demo staff login's authenticator code at `now` (default: this moment)."""
    require_demo_codes_allowed()
    now = time.time() if now is None else now
    codes = []
    devices = TOTPDevice.objects.filter(
        user__email__iendswith=f"@{DEMO_DOMAIN}", confirmed=True
    ).select_related("user")
    for device in sorted(devices, key=lambda d: d.user.email):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = now
        code = str(totp.token()).zfill(device.digits)
        left = device.step - int(now - device.t0) % device.step
        codes.append(DemoCode(device.user.email, code, left))
    return codes


def format_recovery_codes(printed: dict[str, list[str]]) -> str:
    """The lines printed under the demo logins about their second step."""
    if not printed:
        return ""
    width = max(len(email) for email in printed)
    lines = [
        "Two-step sign-in: these logins ask for a code after the password. Print the current",
        "codes with `.venv/bin/python manage.py demo_codes` (each lasts 30 seconds), or use a",
        "recovery code below (each works once; new ones each time the demo starts):",
    ]
    lines += [f"  {email.ljust(width)}  {'  '.join(codes)}" for email, codes in printed.items()]
    return "\n".join(lines)
