"""Shared fixtures for the trust tests: the student-journey world, and TOTP codes."""

import time

from django_otp.oath import TOTP

# The student journey's world (an open registration window, classes this year) and its
# student; importing the fixtures makes them available here (`today`: tests/conftest.py).
from tests.student.conftest import student, world  # noqa: F401


def totp_now(device, *, offset_steps: int = 0) -> str:
    """The code an authenticator app shows for `device` now (or a step later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def next_code(device) -> str:
    """A fresh code, as if half a minute had passed since the last one was used: each
    code works once, and wrong codes slow down (both reset here, never the secret)."""
    type(device).objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    return totp_now(device)


def wrong_code(device) -> str:
    """A 6-digit code the device does not accept now."""
    accepted = {totp_now(device, offset_steps=step) for step in (-1, 0, 1)}
    return next(c for c in ("123456", "654321", "111111", "222222") if c not in accepted)
