"""The student's pages: sign-up, email verification, account recovery, class
registration, the dashboard, college credits and the profile.

Thin views: parse → check the capability (403) → load in scope (404) → call a service
→ render or redirect with a message. A student only ever loads their own records.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consortia.models import HighSchool
from consortia.permissions import Capability, access_for
from consortia.selectors import academic_year_current
from reports.services import client_ip

from . import selectors, services
from .forms import (
    ContactForm,
    ForgotEmailForm,
    IdentityChangeForm,
    RecoveryForm,
    SchoolChoiceForm,
    SectionSelectionForm,
    SignUpForm,
)
from .identity import blocks_sign_up
from .models import IdentityChange, StudentProfile

RECOVERY_SESSION_KEY = "enrollment_recovery_students"
RECOVERY_HINT_SESSION_KEY = "enrollment_recovery_hint"
# Lookups that reveal an email hint: per client address, and per person looked up.
LOOKUP_LIMIT_PER_IP = 10
LOOKUP_LIMIT_PER_IDENTITY = 5
LOOKUP_WINDOW = 60 * 60
RESEND_LIMIT = 3
RESEND_WINDOW = 10 * 60


def _student(request) -> StudentProfile:
    """The signed-in student's profile; 403 for anyone without one."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_OWN_REGISTRATIONS)
    return selectors.student_own_profile(access=access)


def _lookup_allowed(request, identity_key: str) -> bool:
    """Rate-limit the lookups that can show an email hint (sign-up matches, forgotten email)."""
    ip_ok = services.attempt_allowed(
        scope="identity-lookup-ip",
        key=client_ip(request) or "unknown",
        limit=LOOKUP_LIMIT_PER_IP,
        window_seconds=LOOKUP_WINDOW,
    )
    identity_ok = services.attempt_allowed(
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
            profile = services.student_sign_up(
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
        except services.DuplicateIdentity as duplicate:
            if not _lookup_allowed(request, _identity_key(data)):
                return _too_many(request, "enrollment/sign_up.html", context)
            context["matches"] = _remember_matches(request, duplicate.matches)
            context["can_continue"] = duplicate.can_continue
            return render(request, "enrollment/sign_up.html", context)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return render(request, "enrollment/sign_up.html", context)
        login(request, profile.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Your account is created. Your SERS ID is %(sers_id)s.")
            % {"sers_id": profile.sers_id},
        )
        domains = selectors.school_email_domains(high_school_id=data["high_school"].pk)
        if selectors.email_is_school_address(data["email"], domains):
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
        domains = selectors.school_email_domains(high_school_id=school_id)
        warning = selectors.email_is_school_address(email, domains)
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
    services.student_send_account_recovery(student_id=student_id)
    match = selectors.student_email_hint(student_id=student_id)
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
    """Legal name + birth date → a masked hint of the account's address, never the address."""
    form = ForgotEmailForm(request.POST or None)
    context = {"form": form, "searched": False, "matches": []}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _lookup_allowed(request, _identity_key(data)):
            return _too_many(request, "enrollment/forgot_email.html", context)
        found = [
            m
            for m in selectors.identity_matches(
                first_name=data["legal_first_name"],
                middle_name="",
                last_name=data["legal_last_name"],
                birth_date=data["birth_date"],
            )
            if blocks_sign_up(m.kind)
        ]
        context["searched"] = True
        context["matches"] = _remember_matches(request, found)
    return render(request, "enrollment/forgot_email.html", context)


# --- email verification ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify_email(request, token: str):
    """GET shows a button (link scanners must not confirm an address); POST confirms."""
    try:
        if request.method == "POST":
            user = services.user_verify_email(token=token)
        else:
            user = services.email_verification_check(token=token)
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
            f"{reverse('login')}?{urlencode({'next': reverse('enrollment:dashboard')})}"
        )
    return render(
        request,
        "enrollment/verify_email.html",
        {"already": user.email_verified, "token": token},
    )


@login_required
@require_GET
def verify_sent(request):
    student = _student(request)
    if student.user.email_verified:
        return redirect("enrollment:dashboard")
    return render(request, "enrollment/verify_sent.html", {"student": student})


@login_required
@require_POST
def verify_resend(request):
    student = _student(request)
    if student.user.email_verified:
        return redirect("enrollment:dashboard")
    if not services.attempt_allowed(
        scope="verify-resend",
        key=str(student.user_id),
        limit=RESEND_LIMIT,
        window_seconds=RESEND_WINDOW,
    ):
        messages.error(
            request, _("We sent several links already. Wait ten minutes, then try again.")
        )
        return redirect("enrollment:verify_sent")
    services.user_request_verification_email(user_id=student.user_id)
    messages.success(request, _("A new link is on its way. It works for three days."))
    return redirect("enrollment:verify_sent")


# --- dashboard and credits ---------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    student = _student(request)
    year = academic_year_current()
    enrollments = selectors.student_year_enrollments(student=student, year=year)
    fee_lines = selectors.student_fee_lines(student=student, year=year)
    credits = selectors.student_credits(student=student)
    changes = selectors.student_identity_changes(student=student, limit=1)
    pending = changes[0] if changes and changes[0].status == IdentityChange.Status.PENDING else None
    steps = selectors.student_next_steps(
        student=student,
        enrollments=enrollments,
        fee_lines=fee_lines,
        credits=credits,
        pending_change=pending,
    )
    rows = [
        {
            "enrollment": e,
            "timeline": selectors.enrollment_timeline(e),
            "can_withdraw": e.status in services.WITHDRAWABLE_STATUSES,
        }
        for e in enrollments
    ]
    return render(
        request,
        "enrollment/dashboard.html",
        {
            "student": student,
            "year": year,
            "rows": rows,
            "fee_lines": fee_lines,
            "credit_count": len(credits),
            "credit_total": sum((c.credits for c in selectors.credit_lines(credits)), 0),
            "next_step": steps[0],
            "more_steps": steps[1:],
        },
    )


@login_required
@require_GET
def credits(request):
    student = _student(request)
    lines = selectors.credit_lines(
        selectors.student_credits(student=student),
        fees=selectors.student_fees_all_years(student=student),
    )
    return render(request, "enrollment/credits.html", {"student": student, "lines": lines})


# --- registration ------------------------------------------------------------------------------


def _register_context(request, student, *, school_id=None, selection=None):
    year = academic_year_current()
    groups = selectors.registration_schools(student=student, year=year)
    allowed = {school.pk: school for _label, schools in groups for school in schools}
    school = allowed.get(school_id) or allowed.get(student.high_school_id)
    if school is None:  # the student's own school is always listed; this is belt and braces
        school = HighSchool.objects.get(pk=student.high_school_id)
    school_form = SchoolChoiceForm(initial={"school": school.pk}, groups=groups)
    offers = selectors.registration_offer(
        student=student, high_school=school, year=year, today=timezone.localdate()
    )
    if selection is None:
        selection = SectionSelectionForm(offers=offers)
    return {
        "student": student,
        "year": year,
        "school": school,
        "school_form": school_form,
        "offers": offers,
        "selection": selection,
        "chosen": set(selection.data.getlist("sections")) if selection.is_bound else set(),
        "verified": student.user.email_verified,
    }


def _school_param(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def register(request):
    student = _student(request)
    context = _register_context(
        request, student, school_id=_school_param(request.GET.get("school"))
    )
    if request.htmx:
        return render(request, "enrollment/partials/class_list.html", context)
    return render(request, "enrollment/register.html", context)


def _bound_selection(request, student, school_id):
    """Re-read the offer of the posted school and bind the ticked classes to it."""
    context = _register_context(request, student, school_id=school_id)
    selection = SectionSelectionForm(request.POST, offers=context["offers"])
    context["selection"] = selection
    context["chosen"] = set(request.POST.getlist("sections"))
    return context, selection


@login_required
@require_POST
def register_review(request):
    student = _student(request)
    context, selection = _bound_selection(
        request, student, _school_param(request.POST.get("school"))
    )
    if not selection.is_valid():
        return render(request, "enrollment/register.html", context)
    context["selected"] = selection.selected()
    context["fees"] = selectors.registration_fee_preview(
        student=student, sections=[section for _offer, section in context["selected"]]
    )
    return render(request, "enrollment/register_review.html", context)


@login_required
@require_POST
def register_confirm(request):
    student = _student(request)
    context, selection = _bound_selection(
        request, student, _school_param(request.POST.get("school"))
    )
    if not selection.is_valid():
        return render(request, "enrollment/register.html", context)
    try:
        enrollments = services.enrollment_register_many(
            student=student, section_ids=selection.cleaned_data["sections"], actor=request.user
        )
    except services.RegistrationBatchRefused as refused:
        context["selected"] = selection.selected()
        context["problems"] = refused.problems
        context["fees"] = selectors.registration_fee_preview(
            student=student, sections=[section for _offer, section in context["selected"]]
        )
        messages.error(request, refused.messages[0])
        return render(request, "enrollment/register_review.html", context)
    messages.success(
        request,
        _("You are registered. We emailed you this confirmation too."),
    )
    ids = ",".join(str(e.pk) for e in enrollments)
    return redirect(f"{reverse('enrollment:confirmation')}?{urlencode({'ids': ids})}")


@login_required
@require_GET
def confirmation(request):
    """A printable confirmation of some registrations (or all of this year's)."""
    student = _student(request)
    year = academic_year_current()
    raw = request.GET.get("ids", "")
    if raw:
        try:
            ids = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise Http404 from None
        enrollments = selectors.student_enrollments_by_ids(student=student, ids=ids)
        if len(enrollments) != len(ids):
            raise Http404  # someone else's registration, or none at all
    else:
        enrollments = [
            e for e in selectors.student_year_enrollments(student=student, year=year) if e.is_active
        ]
    return render(
        request,
        "enrollment/confirmation.html",
        {
            "student": student,
            "year": year,
            "enrollments": enrollments,
            "fees": selectors.student_fee_lines(student=student, year=year),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, pk: int):
    _student(request)
    enrollment = selectors.student_own_enrollment(access=access_for(request.user), enrollment_id=pk)
    if request.method == "POST":
        try:
            services.enrollment_withdraw(enrollment_id=enrollment.pk, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("You withdrew from %(course)s.")
                % {"course": enrollment.section.articulation.high_school_course.title},
            )
        return redirect("enrollment:dashboard")
    return render(
        request,
        "enrollment/withdraw.html",
        {
            "enrollment": enrollment,
            "can_withdraw": enrollment.status in services.WITHDRAWABLE_STATUSES,
        },
    )


# --- profile ------------------------------------------------------------------------------------


def _profile_page(request, student, *, contact_form=None, identity_form=None, status=200):
    changes = selectors.student_identity_changes(student=student)
    return render(
        request,
        "enrollment/profile.html",
        {
            "student": student,
            "contact_form": contact_form or ContactForm(student=student),
            "identity_form": identity_form or IdentityChangeForm(student=student),
            "changes": changes,
            "pending": next(
                (c for c in changes if c.status == IdentityChange.Status.PENDING), None
            ),
            "needs_approval": selectors.student_has_attained_credit(student_id=student.pk),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    student = _student(request)
    if request.method == "GET":
        return _profile_page(request, student)
    form = ContactForm(request.POST, student=student)
    if not form.is_valid():
        return _profile_page(request, student, contact_form=form)
    data = form.cleaned_data
    try:
        email_changed = services.student_update_contact(
            student=student,
            actor=request.user,
            email=data["email"],
            phone=data["phone"],
            high_school=data["high_school"],
            graduation_year=data["graduation_year"],
            language=data["language"],
            gender=data["gender"],
            race_ethnicity=data["race_ethnicity"],
        )
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _profile_page(request, student, contact_form=form)
    if email_changed:
        messages.success(
            request,
            _("Saved. We sent a link to your new email address: open it to confirm the address."),
        )
        return redirect("enrollment:verify_sent")
    messages.success(request, _("Your profile is saved."))
    return redirect("enrollment:profile")


@login_required
@require_POST
def identity_change(request):
    student = _student(request)
    form = IdentityChangeForm(request.POST, student=student)
    if not form.is_valid():
        return _profile_page(request, student, identity_form=form)
    data = form.cleaned_data
    try:
        change = services.student_identity_change(
            student=student,
            actor=request.user,
            legal_first_name=data["legal_first_name"],
            legal_middle_name=data["legal_middle_name"],
            legal_last_name=data["legal_last_name"],
            birth_date=data["birth_date"],
            reason=data["reason"],
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error.messages)
        return _profile_page(request, student, identity_form=form)
    if change.status == IdentityChange.Status.PENDING:
        messages.success(
            request,
            _(
                "Your request is sent. Consortium staff will check it; you will see the "
                "answer here."
            ),
        )
    else:
        messages.success(request, _("Your legal name and birth date are corrected."))
    return redirect("enrollment:profile")


@login_required
@require_POST
def identity_change_cancel(request, pk: int):
    student = _student(request)
    selectors.student_own_identity_change(student=student, change_id=pk)  # 404 for others
    try:
        services.identity_change_cancel(change_id=pk, student=student)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your request is cancelled."))
    return HttpResponseRedirect(reverse("enrollment:profile"))
