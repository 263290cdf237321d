"""Students' sign-up, email verification and account recovery.

Thin views: parse, check, call a service, render or redirect with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accesslog.services import client_ip
from accounts.permissions import access_for
from enrollment.selectors import student as student_selectors

from ..forms import (
    ForgotEmailForm,
    RecoveryForm,
    SignUpForm,
)
from ..identity import is_likely_same_person
from ..services import (
    signup,
)
from .common import request_student

RECOVERY_SESSION_KEY = "enrollment_recovery_students"


RECOVERY_HINT_SESSION_KEY = "enrollment_recovery_hint"


SIGN_UP_EMAIL_SESSION_KEY = "enrollment_sign_up_email"


# Set when a student said "none of these accounts is mine": the school they chose, so the
# next page can say what happens next and whom to contact.
SIGN_UP_REVIEW_SESSION_KEY = "enrollment_sign_up_review"


# Set when a sign-up was shown that it resembles an existing student (with or without
# the email hints), so that "none of these accounts is mine" leads to the review message.
SIGN_UP_MATCHED_SESSION_KEY = "enrollment_sign_up_matched"


# Lookups that reveal an email hint: per client address, and per person looked up.
LOOKUP_LIMIT_PER_IP = 10


LOOKUP_LIMIT_PER_IDENTITY = 5


LOOKUP_WINDOW = 60 * 60


RESEND_LIMIT = 3


RESEND_WINDOW = 10 * 60


def _lookup_allowed(request, identity_key: str) -> bool:
    """Rate-limit the lookups that can show an email hint (sign-up matches, forgotten email)."""
    ip_ok = signup.attempt_allowed(
        scope="identity-lookup-ip",
        key=client_ip(request) or "unknown",
        limit=LOOKUP_LIMIT_PER_IP,
        window_seconds=LOOKUP_WINDOW,
    )
    identity_ok = signup.attempt_allowed(
        scope="identity-lookup",
        key=identity_key,
        limit=LOOKUP_LIMIT_PER_IDENTITY,
        window_seconds=LOOKUP_WINDOW,
    )
    return ip_ok and identity_ok


def _identity_key(data: dict) -> str:
    return "|".join(
        [
            data.get("legal_first_name", "").casefold(),
            data.get("legal_last_name", "").casefold(),
            str(data.get("birth_date", "")),
        ]
    )


def _remember_matches(request, matches) -> list[dict]:
    """Keep the matched students' ids in the session (never shown), return their hints."""
    request.session[RECOVERY_SESSION_KEY] = [m.student.pk for m in matches]
    return [{"index": i, "hint": m.email_hint} for i, m in enumerate(matches)]


def _too_many(request, template: str, context: dict):
    messages.error(
        request,
        _(
            "Too many tries. Wait an hour and try again, or ask your teacher or career "
            "specialist to help you find your account."
        ),
    )
    return render(request, template, context, status=429)


# --- sign-up and account recovery ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        if access_for(request.user).is_student:
            return redirect("enrollment:dashboard")
        messages.info(request, _("You are signed in. Sign out first to create a student account."))
        return redirect("home")
    form = SignUpForm(request.POST or None)
    context = {"form": form, "matches": [], "can_continue": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            signup.student_sign_up(
                email=data["email"],
                password=data["password1"],
                legal_first_name=data["legal_first_name"],
                legal_middle_name=data["legal_middle_name"],
                legal_last_name=data["legal_last_name"],
                birth_date=data["birth_date"],
                high_school=data["high_school"],
                graduation_year=data["graduation_year"],
                phone=data["phone"],
                language=request.LANGUAGE_CODE,
                different_person_confirmed=data["different_person"],
            )
        except signup.DuplicateIdentity as duplicate:
            request.session[SIGN_UP_MATCHED_SESSION_KEY] = True
            context["matched"] = True
            if _lookup_allowed(request, _identity_key(data)):
                context["matches"] = _remember_matches(request, duplicate.matches)
            else:
                # Over the limit: no email hints and no reset links (what the limit
                # protects), but never a dead end: "none of these is mine" still goes on.
                request.session.pop(RECOVERY_SESSION_KEY, None)
                context["hints_withheld"] = True
            context["can_continue"] = duplicate.can_continue
            context["strong"] = duplicate.strong
            context["consortium"] = student_selectors.consortium_contact(
                high_school_id=data["high_school"].pk
            )
            return render(request, "enrollment/sign_up.html", context)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return render(request, "enrollment/sign_up.html", context)
        # The same answer whether or not the address already had an account (its owner
        # got an email instead): no sign-in and no SERS id here, both come with the
        # confirmation link, so nobody learns which addresses have an account.
        request.session[SIGN_UP_EMAIL_SESSION_KEY] = data["email"]
        request.session.pop(RECOVERY_SESSION_KEY, None)
        if request.session.pop(SIGN_UP_MATCHED_SESSION_KEY, None) and data["different_person"]:
            request.session[SIGN_UP_REVIEW_SESSION_KEY] = data["high_school"].pk
        else:
            request.session.pop(SIGN_UP_REVIEW_SESSION_KEY, None)
        domains = student_selectors.school_email_domains(high_school_id=data["high_school"].pk)
        if student_selectors.email_is_school_address(data["email"], domains):
            messages.warning(
                request,
                _(
                    "Your email looks like a school address. You may lose it after high "
                    "school: change it to a personal address on your profile page."
                ),
            )
        return redirect("enrollment:verify_sent")
    return render(request, "enrollment/sign_up.html", context)


@require_POST
def sign_up_email_check(request):
    """HTMX: warn while typing when the email's domain is a school domain of the consortium."""
    if not request.htmx:
        return redirect("enrollment:sign_up")
    email = request.POST.get("email", "")
    warning = False
    try:
        school_id = int(request.POST.get("high_school") or 0)
    except ValueError:
        school_id = 0
    if school_id and "@" in email:
        domains = student_selectors.school_email_domains(high_school_id=school_id)
        warning = student_selectors.email_is_school_address(email, domains)
    return render(request, "enrollment/partials/school_email_warning.html", {"warning": warning})


@require_POST
def account_recovery_send(request):
    """Send a password-reset link to an account found by a sign-up or a lookup."""
    form = RecoveryForm(request.POST)
    student_ids = request.session.get(RECOVERY_SESSION_KEY) or []
    if not form.is_valid() or form.cleaned_data["account"] >= len(student_ids):
        messages.error(request, _("That search has expired. Look up your account again."))
        return redirect("enrollment:forgot_email")
    student_id = student_ids[form.cleaned_data["account"]]
    signup.student_send_account_recovery(student_id=student_id)
    match = student_selectors.student_email_hint(student_id=student_id)
    request.session[RECOVERY_HINT_SESSION_KEY] = match
    request.session.pop(RECOVERY_SESSION_KEY, None)
    return redirect("enrollment:recovery_sent")


@require_GET
def recovery_sent(request):
    hint = request.session.get(RECOVERY_HINT_SESSION_KEY)
    if not hint:
        return redirect("enrollment:forgot_email")
    return render(request, "enrollment/recovery_sent.html", {"hint": hint})


@require_http_methods(["GET", "POST"])
def forgot_email(request):
    """Legal name + birth date → a sign-in and password-reset link sent to the address of
    each account found. The answer is the same whether or not one was found, and shows
    nothing of the address: only its owner's inbox learns which one it is."""
    form = ForgotEmailForm(request.POST or None)
    context = {"form": form, "searched": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _lookup_allowed(request, _identity_key(data)):
            return _too_many(request, "enrollment/forgot_email.html", context)
        for match in student_selectors.identity_matches(
            first_name=data["legal_first_name"],
            middle_name="",
            last_name=data["legal_last_name"],
            birth_date=data["birth_date"],
        ):
            if is_likely_same_person(match.kind):
                signup.student_send_account_recovery(student_id=match.student.pk)
        context["searched"] = True
    return render(request, "enrollment/forgot_email.html", context)


# --- email verification ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify_email(request, token: str):
    """GET shows a button (link scanners must not confirm an address); POST confirms."""
    try:
        if request.method == "POST":
            user = signup.user_verify_email(token=token)
        else:
            user = signup.email_verification_check(token=token)
    except ValidationError as error:
        return render(
            request,
            "enrollment/verify_email.html",
            {"error": " ".join(error.messages), "expired": error.code == "expired"},
            status=400,
        )
    if request.method == "POST":
        messages.success(request, _("Thank you: your email address is confirmed."))
        if request.user.is_authenticated and request.user.pk == user.pk:
            return redirect("enrollment:dashboard")
        return redirect(
            f"{reverse('accounts:login')}?{urlencode({'next': reverse('enrollment:dashboard')})}"
        )
    return render(
        request,
        "enrollment/verify_email.html",
        {"already": user.email_verified, "token": token},
    )


@require_GET
def verify_sent(request):
    """The "check your email" page: for a signed-in student, or whoever just signed up."""
    if not request.user.is_authenticated:
        email = request.session.get(SIGN_UP_EMAIL_SESSION_KEY)
        if not email:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.path})}")
        review_school = request.session.get(SIGN_UP_REVIEW_SESSION_KEY)
        return render(
            request,
            "enrollment/verify_sent.html",
            {
                "student": None,
                "email": email,
                "review": review_school is not None,
                "consortium": student_selectors.consortium_contact(high_school_id=review_school),
            },
        )
    student = request_student(request)
    if student.user.email_verified:
        return redirect("enrollment:dashboard")
    return render(
        request, "enrollment/verify_sent.html", {"student": student, "email": student.user.email}
    )


@login_required
@require_POST
def verify_resend(request):
    student = request_student(request)
    if student.user.email_verified:
        return redirect("enrollment:dashboard")
    if not signup.attempt_allowed(
        scope="verify-resend",
        key=str(student.user_id),
        limit=RESEND_LIMIT,
        window_seconds=RESEND_WINDOW,
    ):
        messages.error(
            request, _("We sent several links already. Wait ten minutes, then try again.")
        )
        return redirect("enrollment:verify_sent")
    signup.user_request_verification_email(user_id=student.user_id)
    messages.success(request, _("A new link is on its way. It works for three days."))
    return redirect("enrollment:verify_sent")
