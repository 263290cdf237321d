"""Sign-in throttling, session lifetime, caching of private pages, and the checks that keep
the protections switched on (OWASP ASVS level 2).

- Throttling (django-axes): failed sign-ins are counted per account and, separately, per
  client address, for AXES_COOLOFF_TIME. The account limit is low; the address limit is
  high, because a whole school signs in from one address. Unknown and existing accounts
  are counted alike, and the lockout page is the sign-in page with the same message
  either way, so neither the form nor the lockout tells whether an address has an
  account. Only a keyed hash of the submitted address is stored.
- Sessions: a new session id at sign-in (Django) and again after the second step
  (twofactor.py); 30 minutes idle (SESSION_COOKIE_AGE, renewed on every request) and
  SERS_SESSION_MAX_SECONDS (12 hours) after signing in, whatever the activity; signing
  out deletes the stored session; deactivating an account deletes all of its sessions.
- Every response to a signed-in user is `Cache-Control: no-store`: those pages show
  student records, which must not stay in a browser's or a proxy's cache.
"""

import hashlib
import hmac
import logging
import time
from datetime import timedelta
from importlib import import_module

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.core import checks
from django.db import transaction
from django.db.models import Sum
from django.db.models.signals import post_save, pre_save
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.csp import CSP
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from sers import metrics

from .sessions import DB_WRITE_SECONDS

logger = logging.getLogger(__name__)

SIGNED_IN_AT = "sers_signed_in_at"  # session key: when the user signed in (Unix seconds)


# --- the client's address -----------------------------------------------------------------


def client_ip(request) -> str | None:
    """The client's address, also behind SERS_PROXY_COUNT reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    the client is the entry SERS_PROXY_COUNT places from the right. Entries further left
    were sent by the client itself and could be anything, so they are never used.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.SERS_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[-proxies] if len(hops) >= proxies else hops[0]


# --- sign-in throttling (django-axes) ------------------------------------------------------


def throttle_username(request, credentials=None) -> str | None:
    """The submitted address as axes stores it: a keyed hash, never the address itself.

    Case and surrounding spaces do not make a new account to count against.
    """
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    if not username:
        return None
    normalized = str(username).strip().lower().encode()
    key = f"sers.throttle:{settings.SECRET_KEY}".encode()
    return hmac.new(key, normalized, hashlib.sha256).hexdigest()[:40]


class ThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for each lockout parameter.

    axes compares one number with AXES_FAILURE_LIMIT (the account limit); the address's
    failures are scaled so it locks at SERS_LOGIN_FAILURES_PER_ADDRESS instead.
    """

    def get_failures(self, request, credentials=None) -> int:
        account_limit = settings.AXES_FAILURE_LIMIT
        limits = {
            "username": account_limit,
            "ip_address": settings.SERS_LOGIN_FAILURES_PER_ADDRESS,
        }
        worst = 0
        for parameter, attempts in zip(
            get_lockout_parameters(request, credentials),
            self.get_user_attempts(request, credentials),
            strict=True,
        ):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            worst = max(worst, failures * account_limit // limits[parameter])
        return worst


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many unsuccessful sign-in attempts. For your security, signing in is paused "
        "for %(minutes)d minutes. Wait, then try again; if you forgot your password, "
        "reset it."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page with the lockout message (429), the same for every account."""
    messages.error(request, lockout_message())
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    return render(request, "registration/login.html", {"form": form, "next": next_url}, status=429)


# --- input no form can use ----------------------------------------------------------------


def _holds_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class NulByteMiddleware:
    """Refuses requests whose address, query string or form data hold a NUL byte (400).

    No field has a use for one and PostgreSQL cannot store one. Django's text fields
    refuse them, but a hand-made value for a select box (looked up by a text column)
    or a URL part would reach the database and fail there as a server error. A cookie
    holding one is dropped (a forged session cookie would otherwise do the same).
    Before SessionMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in list(request.COOKIES.items()):
            if "\x00" in name or "\x00" in value:
                del request.COOKIES[name]
        if (
            "\x00" in request.path
            or _holds_nul(request.GET)
            or (request.method == "POST" and _holds_nul(request.POST))
        ):
            logger.info("request refused: NUL byte in the input")
            # Before LocaleMiddleware: answer in the reader's language (cookie or
            # Accept-Language), not in whatever the last request on this thread used.
            translation.activate(translation.get_language_from_request(request))
            if request.path.startswith("/api/"):  # the API answers in JSON (api/endpoints.py)
                return JsonResponse(
                    {"detail": _("The request holds a NUL character, which no field accepts.")},
                    status=400,
                )
            return render(request, "400.html", status=400)
        return self.get_response(request)


# --- sessions ----------------------------------------------------------------------------


def redirect_page(request, url: str):
    """Redirect a normal request; tell htmx to load the whole page instead of a fragment."""
    if request.headers.get("HX-Request"):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class SessionSecurityMiddleware:
    """Ends sessions older than SERS_SESSION_MAX_SECONDS and keeps private pages uncached.

    After AuthenticationMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _session_too_old(request):
            user_id = user.pk
            logout(request)
            logger.info("session ended after the absolute lifetime: user_id=%s", user_id)
            messages.info(request, _("For your security you were signed out. Sign in again."))
            target = redirect_to_login(request.get_full_path())
            return redirect_page(request, target.url)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Added to what the view set (a download may say more); no-store is the point.
            patch_cache_control(response, no_store=True, private=True)
        return response


def _session_too_old(request) -> bool:
    started = request.session.get(SIGNED_IN_AT)
    # A session without the stamp predates it; treat it as expired rather than trust it.
    if not isinstance(started, int | float):
        return True
    return time.time() - started > settings.SERS_SESSION_MAX_SECONDS


def _signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())
    metrics.SIGN_INS.inc()
    logger.info("signed in: user_id=%s", user.pk)


def _signed_out(sender, request, user, **kwargs):
    logger.info("signed out: user_id=%s", getattr(user, "pk", None))


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Never the submitted address: it may be a student's personal email.
    metrics.SIGN_IN_FAILURES.inc()
    logger.info("sign-in failed: client=%s", client_ip(request) if request else None)


def _throttled(sender, request=None, **kwargs):
    # Nothing of the account or the address: only that an attempt was throttled.
    metrics.SIGN_INS_THROTTLED.inc()


def user_sessions_end(*, user_id: int) -> int:
    """Delete every stored session of a user (signs them out everywhere). Returns how many.

    The session rows do not record their user, so the unexpired ones are decoded: with a
    30-minute idle limit those are only the sessions of the last half hour.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    # accounts.sessions rewrites a row's expiry at most once a minute while the cached
    # session lives on: look that much further back.
    since = timezone.now() - timedelta(seconds=DB_WRITE_SECONDS)
    live = Session.objects.filter(expire_date__gt=since).iterator(chunk_size=500)
    for session in live:
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            store(session_key=session.session_key).delete()
            ended += 1
    logger.info("sessions ended: user_id=%s count=%s", user_id, ended)
    return ended


def _note_deactivation(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a save: remember whether this save turns an active account inactive."""
    instance._sers_deactivating = False
    if raw or instance.is_active or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    instance._sers_deactivating = sender._default_manager.filter(
        pk=instance.pk, is_active=True
    ).exists()


def _end_sessions_of_deactivated(sender, instance, raw=False, **kwargs):
    if raw or not getattr(instance, "_sers_deactivating", False):
        return
    instance._sers_deactivating = False
    user_id = instance.pk
    transaction.on_commit(lambda: user_sessions_end(user_id=user_id))


def connect_signals() -> None:
    """Called from AccountsConfig.ready()."""
    user_logged_in.connect(_signed_in, dispatch_uid="sers.security.signed_in")
    user_logged_out.connect(_signed_out, dispatch_uid="sers.security.signed_out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="sers.security.sign_in_failed")
    user_locked_out.connect(_throttled, dispatch_uid="sers.security.throttled")
    pre_save.connect(
        _note_deactivation, sender=settings.AUTH_USER_MODEL, dispatch_uid="sers.deactivation"
    )
    post_save.connect(
        _end_sessions_of_deactivated,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="sers.deactivation.end_sessions",
    )


# --- system checks -------------------------------------------------------------------------

# Directives the policy must have, with the value each must hold.
REQUIRED_CSP = {
    "object-src": CSP.NONE,
    "base-uri": CSP.NONE,
    "frame-ancestors": CSP.NONE,
}


def _values(policy: dict, directive: str) -> list[str]:
    value = policy.get(directive)
    if value in (None, False, True):
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def check_content_security_policy(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The Content-Security-Policy must exist, be enforced, and allow no inline script."""
    policy = getattr(settings, "SECURE_CSP", None)
    middleware = "django.middleware.csp.ContentSecurityPolicyMiddleware"
    if not policy or not isinstance(policy, dict):
        return [
            checks.Error(
                "SECURE_CSP is empty: pages would be served without a Content-Security-Policy.",
                hint="Set SECURE_CSP in sers/settings/base.py.",
                id="sers.E001",
            )
        ]
    errors = []
    if middleware not in settings.MIDDLEWARE:
        errors.append(
            checks.Error(f"{middleware} is not in MIDDLEWARE.", id="sers.E002", obj=middleware)
        )
    script_sources = _values(policy, "script-src") or _values(policy, "default-src")
    if not script_sources:
        errors.append(checks.Error("SECURE_CSP sets no script-src.", id="sers.E003"))
    for unsafe in (CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL, "*", "data:", "http:", "https:"):
        if unsafe in script_sources:
            errors.append(checks.Error(f"SECURE_CSP script-src allows {unsafe}.", id="sers.E004"))
    for directive, expected in REQUIRED_CSP.items():
        if _values(policy, directive) != [expected]:
            errors.append(
                checks.Error(f"SECURE_CSP must set {directive} {expected}.", id="sers.E005")
            )
    return errors


DATABASE_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "accounts.sessions",
)


def check_session_engine(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Ending a deactivated user's sessions reads the session table."""
    if settings.SESSION_ENGINE not in DATABASE_SESSION_ENGINES:
        return [
            checks.Error(
                "SESSION_ENGINE must keep sessions in the database, so that deactivating "
                "an account can end its sessions.",
                id="sers.E006",
            )
        ]
    return []


def register_checks() -> None:
    """Called from AccountsConfig.ready(); these run with every `manage.py check`."""
    checks.register(check_content_security_policy, checks.Tags.security)
    checks.register(check_session_engine, checks.Tags.security)
