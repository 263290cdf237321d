"""Two-step sign-in: an authenticator app (TOTP) with one-time recovery codes.

Anyone may turn it on. Staff who can see many students' records (registrars, consortium
admins, state staff, career specialists) and Django-admin users must: after the
password, they set it up (or enter a code) before any other page. The state lives in
the session (`SESSION_KEY`), decided once at sign-in, so the check costs no query:

- "verify": the account has an authenticator; the next page asks for a code;
- "enrol":  the account must use two-step sign-in and has none yet; the next page sets
            it up (QR code as inline SVG, and the secret as text for typing in);
- "done":   nothing more to ask in this session.

Devices are django-otp's: a TOTPDevice for the app and a StaticDevice for the recovery
codes. django-otp keeps static tokens in clear text, so SERS stores only a keyed hash of
each recovery code and hashes what the user types before asking django-otp to match it.
Wrong codes slow down (django-otp's exponential back-off per device).
"""

import base64
import hmac
import logging
import secrets
from hashlib import sha256

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sers.text import TextLineField

from .models import Role, RoleMembership, User
from .security import redirect_page

logger = logging.getLogger(__name__)

SESSION_KEY = "sers_two_factor"
VERIFY, ENROL, DONE = "verify", "enrol", "done"

# Roles that see many students' records (and Django admin users) must use a second step.
REQUIRED_ROLES = frozenset(
    {Role.REGISTRAR, Role.CONSORTIUM_ADMIN, Role.STATE_STAFF, Role.CAREER_SPECIALIST}
)
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 16  # base32 characters: 80 random bits
TOTP_DIGITS = 6


# --- rules and writes ---------------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    if not settings.SERS_TWO_FACTOR_REQUIRED:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return RoleMembership.objects.filter(user=user, role__in=REQUIRED_ROLES).exists()


def authenticator_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def sign_in_state(user: User) -> str:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    if two_factor_required(user):
        return ENROL
    return DONE


def recovery_code_digests(code: str) -> list[str]:
    """What is stored for a recovery code: a keyed hash, 16 characters (the field's size).

    One digest per secret key in use, so rotating SECRET_KEY (with the old one in
    SECRET_KEY_FALLBACKS) does not void the codes people printed.
    """
    normalized = "".join(code.split()).replace("-", "").lower().encode()
    digests = []
    for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        mac = hmac.new(f"sers.recovery:{key}".encode(), normalized, sha256).digest()
        digests.append(base64.b32encode(mac).decode()[:16].lower())
    return digests


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:RECOVERY_CODE_LENGTH]
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def recovery_codes_replace(*, user: User) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Returns the codes in clear,
    to show once: only their hashes are kept."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _created = StaticDevice.objects.select_for_update().get_or_create(
            user=user, name="recovery", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=recovery_code_digests(code)[0]) for code in codes]
        )
    logger.info("recovery codes replaced: user_id=%s", user.pk)
    return codes


def authenticator_pending(*, user: User) -> TOTPDevice:
    """The not-yet-confirmed authenticator being set up (the same secret on a reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=False, digits=TOTP_DIGITS
        )
    return device


def authenticator_confirm(*, user: User, device_id: int, code: str) -> list[str]:
    """Turn on the pending authenticator if `code` comes from it; returns recovery codes."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None:
            raise ValidationError(
                _("This set-up has expired. Start again."), code="no_pending_device"
            )
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            raise ValidationError(_too_fast_message(), code="throttled")
        # A wrong code counts towards the back-off: refuse after the commit, not inside it.
        verified = device.verify_token(code)
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = recovery_codes_replace(user=user)
    if not verified:
        raise ValidationError(
            _("That code is not right. Check the time on your phone and enter the new code."),
            code="wrong_code",
        )
    logger.info("two-step sign-in turned on: user_id=%s", user.pk)
    return codes


def two_factor_turn_off(*, user: User) -> None:
    if two_factor_required(user):
        raise PermissionDenied
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    logger.info("two-step sign-in turned off: user_id=%s", user.pk)


def _too_fast_message() -> str:
    return _("Too many wrong codes. Wait a minute, then try again.")


def code_check(*, user: User, code: str, allow_recovery: bool = True):
    """The device that accepts `code` (authenticator code or recovery code), or a
    ValidationError. A recovery code works once."""
    code = "".join(code.split()).replace("-", "")
    if code.isdigit():
        device = authenticator_for(user)
        if device is None:
            raise ValidationError(_("Two-step sign-in is not set up."), code="no_device")
        token = code
    elif allow_recovery:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise ValidationError(_("That code is not right."), code="wrong_code")
        digests = recovery_code_digests(code)
        stored = device.token_set.filter(token__in=digests).values_list("token", flat=True)
        token = stored.first() or digests[0]
    else:
        raise ValidationError(
            _("Enter the 6-digit code from your authenticator app."), code="wrong_code"
        )
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        raise ValidationError(_too_fast_message(), code="throttled")
    verified = django_otp.verify_token(user, device.persistent_id, token)
    if verified is None:
        raise ValidationError(_("That code is not right."), code="wrong_code")
    return verified


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _mark_done(request, device) -> None:
    """The second step succeeded: a fresh session id for the now fully signed-in user."""
    django_otp.login(request, device)
    request.session.cycle_key()
    request.session[SESSION_KEY] = DONE


def _on_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = sign_in_state(user)


def connect_signals() -> None:
    """Called from AccountsConfig.ready()."""
    user_logged_in.connect(_on_sign_in, dispatch_uid="sers.twofactor.sign_in")


def hide_device_admin() -> None:
    """Take django-otp's device pages out of the admin (called from AccountsConfig.ready(),
    after the admin registered them): they would let an administrator read or set anyone's
    authenticator secret. Support resets a lost device with `manage.py two_step_reset`."""
    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


# --- the gate ------------------------------------------------------------------------------


class TwoFactorMiddleware:
    """Until the second step is done, a signed-in user reaches only the two-step pages,
    sign-out, the language switch, static files and the health check.

    After AuthenticationMiddleware, SessionSecurityMiddleware and MessageMiddleware.
    """

    ALLOWED_URL_NAMES = (
        "accounts:two_factor_verify",
        "accounts:two_factor_enrol",
        "accounts:logout",
        "set_language",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            state = request.session.get(SESSION_KEY)
            if state not in (VERIFY, ENROL, DONE):
                state = request.session[SESSION_KEY] = sign_in_state(user)
            if state != DONE and not self._allowed(request.path):
                target = reverse(
                    "accounts:two_factor_verify" if state == VERIFY else "accounts:two_factor_enrol"
                )
                if request.method == "GET" and not request.headers.get("HX-Request"):
                    target += "?" + _next_query(request.get_full_path())
                return redirect_page(request, target)
        return self.get_response(request)

    def _allowed(self, path_info: str) -> bool:
        if path_info.startswith(("/" + settings.STATIC_URL.lstrip("/"), "/healthz")):
            return True
        return path_info in {reverse(name) for name in self.ALLOWED_URL_NAMES}


def _next_query(url: str) -> str:
    query = QueryDict(mutable=True)
    query["next"] = url
    return query.urlencode(safe="/")


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


# --- forms ---------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = TextLineField(
        label=gettext_lazy("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


def qr_svg(text: str) -> str:
    """A QR code as an inline <svg> (no image request, nothing for the CSP to allow)."""
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2
    )
    svg = image.to_string(encoding="unicode")
    label = escape(_("QR code to scan with your authenticator app"))
    # Only path data and our own label: safe to put into the page as markup.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="sers-qr" ', 1)


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- views ---------------------------------------------------------------------------------


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step at sign-in: a code from the app, or a recovery code."""
    if request.session.get(SESSION_KEY) != VERIFY:
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = code_check(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
            logger.info("two-step code refused: user_id=%s", request.user.pk)
        else:
            _mark_done(request, device)
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(request.user)
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(left)d left. Make new ones from "
                        "“Two-step sign-in” in your account menu."
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up an authenticator app: scan the QR code (or type the secret), enter a code."""
    state = request.session.get(SESSION_KEY)
    if state == VERIFY:
        return redirect(
            reverse("accounts:two_factor_verify") + "?" + _next_query(_next_url(request))
        )
    if authenticator_for(request.user) is not None:
        messages.info(request, _("Two-step sign-in is already on."))
        return redirect("accounts:two_factor_manage")
    device = authenticator_pending(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = authenticator_confirm(
                user=request.user, device_id=device.pk, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            _mark_done(request, authenticator_for(request.user))
            return render(
                request,
                "registration/two_factor_recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": mark_safe(qr_svg(device.config_url)),  # noqa: S308 (generated SVG)
            "secret": _grouped_secret(device),
            "required": state == ENROL,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def manage(request):
    """Two-step sign-in for one's own account: set up, new recovery codes, or turn off."""
    user = request.user
    device = authenticator_for(user)
    required = two_factor_required(user)
    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            # Changes need a fresh code from the app: a recovery code will not do.
            code_check(user=user, code=form.cleaned_data["code"], allow_recovery=False)
        except ValidationError as error:
            form.add_error("code", error)
        else:
            if action == "recovery_codes":
                codes = recovery_codes_replace(user=user)
                return render(
                    request,
                    "registration/two_factor_recovery_codes.html",
                    {
                        "codes": codes,
                        "next": reverse("accounts:two_factor_manage"),
                        "first_time": False,
                    },
                )
            if action == "turn_off" and not required:
                two_factor_turn_off(user=user)
                request.session[SESSION_KEY] = DONE
                messages.success(request, _("Two-step sign-in is off."))
                return redirect("accounts:two_factor_manage")
            if action == "turn_off":
                form.add_error(None, _("Your role requires two-step sign-in: it stays on."))
            else:
                form.add_error(None, _("Choose one of the buttons."))
    return render(
        request,
        "registration/two_factor_manage.html",
        {
            "form": form,
            "enabled": device is not None,
            "required": required,
            "codes_left": recovery_codes_left(user) if device else 0,
        },
    )


# Part of accounts/urls.py (namespace "accounts"): reverse as "accounts:two_factor_manage".
urlpatterns = [
    path("accounts/two-step/", manage, name="two_factor_manage"),
    path("accounts/two-step/verify/", verify, name="two_factor_verify"),
    path("accounts/two-step/set-up/", enrol, name="two_factor_enrol"),
]
