"""The student's pages: sign-up, email verification, account recovery, class
registration, the dashboard, college credits and the profile; then the staff pages
(teachers, help desk, consortium admins, registrars) further down.

Thin views: parse → check the capability (403) → load in scope (404) → call a service
→ render or redirect with a message. A student only ever loads their own records.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from accesslog.services import access_log_record, client_ip
from accounts.permissions import Access, Capability, access_for, get_in_scope, student_fields
from organisations.models import AcademicYear, ConsortiumPolicy, HighSchool
from organisations.selectors import academic_year_current

from . import importers, pagecache, selectors, services, tasks
from .filters import FeeFilter, RegistrarQueueFilter
from .forms import (
    ContactForm,
    CsvUploadForm,
    FeeRecordForm,
    FeeUploadForm,
    ForgotEmailForm,
    GradeOverrideForm,
    IdentityChangeForm,
    MergeForm,
    PostedCreditsUploadForm,
    PostingDateForm,
    RecoveryForm,
    RegisterOnBehalfForm,
    RemovalForm,
    SchoolChoiceForm,
    SectionRequestDecisionForm,
    SectionRequestForm,
    SectionSelectionForm,
    SignUpForm,
    StudentLookupForm,
    TranscribeForm,
    UndoTranscriptionForm,
)
from .identity import blocks_sign_up, mask_email
from .models import (
    Enrollment,
    EnrollmentStatus,
    Fee,
    IdentityChange,
    SectionRequest,
    StudentProfile,
)
from .tables import DuplicateTable, FeeTable, TranscribedTable, WaitingTable

RECOVERY_SESSION_KEY = "enrollment_recovery_students"
RECOVERY_HINT_SESSION_KEY = "enrollment_recovery_hint"
SIGN_UP_EMAIL_SESSION_KEY = "enrollment_sign_up_email"
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


def _student_id(request) -> int:
    """The signed-in student's profile id, without loading the profile (a page served
    from the cache needs only the id); 403 for anyone without one."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_OWN_REGISTRATIONS)
    return access.student_id


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
            services.student_sign_up(
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
        # The same answer whether or not the address already had an account (its owner
        # got an email instead): no sign-in and no SERS id here, both come with the
        # confirmation link, so nobody learns which addresses have an account.
        request.session[SIGN_UP_EMAIL_SESSION_KEY] = data["email"]
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
    """Legal name + birth date → a sign-in and password-reset link sent to the address of
    each account found. The answer is the same whether or not one was found, and shows
    nothing of the address: only its owner's inbox learns which one it is."""
    form = ForgotEmailForm(request.POST or None)
    context = {"form": form, "searched": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _lookup_allowed(request, _identity_key(data)):
            return _too_many(request, "enrollment/forgot_email.html", context)
        for match in selectors.identity_matches(
            first_name=data["legal_first_name"],
            middle_name="",
            last_name=data["legal_last_name"],
            birth_date=data["birth_date"],
        ):
            if blocks_sign_up(match.kind):
                services.student_send_account_recovery(student_id=match.student.pk)
        context["searched"] = True
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


@require_GET
def verify_sent(request):
    """The "check your email" page: for a signed-in student, or whoever just signed up."""
    if not request.user.is_authenticated:
        email = request.session.get(SIGN_UP_EMAIL_SESSION_KEY)
        if not email:
            return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
        return render(request, "enrollment/verify_sent.html", {"student": None, "email": email})
    student = _student(request)
    if student.user.email_verified:
        return redirect("enrollment:dashboard")
    return render(
        request, "enrollment/verify_sent.html", {"student": student, "email": student.user.email}
    )


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
    student_id = _student_id(request)
    content, _extra = pagecache.cached_content(
        request,
        page="dashboard",
        scopes=_student_page_scopes(request, student_id),
        build=lambda: (_dashboard_content(request, _student(request)), {}),
    )
    return render(request, "enrollment/dashboard.html", {"content": content})


def _student_page_scopes(request, student_id: int) -> list[str]:
    """What a student's own pages show: their record and account, the classes offered and
    the catalog."""
    return [
        pagecache.student_scope(student_id),
        pagecache.user_scope(request.user.pk),
        pagecache.OFFERS,
        pagecache.CATALOG,
    ]


def _dashboard_content(request, student) -> str:
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
    return pagecache.render_content(
        request,
        "enrollment/partials/dashboard_content.html",
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
    school_id = _school_param(request.GET.get("school"))
    if request.htmx:  # the class list of another school, picked on the page
        context = _register_context(request, _student(request), school_id=school_id)
        return render(request, "enrollment/partials/class_list.html", context)
    content, _extra = pagecache.cached_content(
        request,
        page="register",
        scopes=_student_page_scopes(request, _student_id(request)),
        parts=(school_id,),
        build=lambda: (
            pagecache.render_content(
                request,
                "enrollment/partials/register_content.html",
                _register_context(request, _student(request), school_id=school_id),
            ),
            {},
        ),
    )
    return render(request, "enrollment/register.html", {"content": content})


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
    school_id = _school_param(request.POST.get("school"))
    # The usual post (classes picked on the page a moment ago) goes straight to the
    # service, which enforces every rule; the school's whole offer is rebuilt only to say
    # what is wrong with a post the service or the quick check below refuses.
    quick = _quick_selection(request, school_id)
    if quick:
        try:
            enrollments = services.enrollment_register_many(
                student=student, section_ids=quick, actor=request.user
            )
        except (services.RegistrationBatchRefused, ValidationError):
            pass  # nothing was registered: answered below, as the page would
        else:
            return _registered(request, enrollments)
    context, selection = _bound_selection(request, student, school_id)
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
    return _registered(request, enrollments)


def _quick_selection(request, school_id: int | None) -> list[int] | None:
    """The ticked classes, when the form would take them as they are: ids of classes at
    the posted school, one per course. None sends the post through the whole form."""
    try:
        ids = [int(value) for value in request.POST.getlist("sections")]
    except ValueError:
        return None
    if not ids or school_id is None or len(set(ids)) != len(ids):
        return None
    found = selectors.section_schools_and_courses(section_ids=ids)
    if len(found) != len(ids) or any(school != school_id for school, _course in found):
        return None
    if len({course for _school, course in found}) != len(found):
        return None  # two teachers of one course: the form says so
    return ids


def _registered(request, enrollments):
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


# =============================================================================================
# Staff pages: teachers (/teacher/), student lookup and help desk (/staff/), consortium
# admins (/consortium/) and college registrars (/registrar/).
#
# Each view: check the capability (403), load the object inside the user's scope (404),
# call one service, then redirect with a message or show the page with what went wrong.
# Every page that shows students' records logs the access (FERPA).
# =============================================================================================


def _require(request, capability) -> Access:
    access = access_for(request.user)
    access.require(capability)
    return access


def _log_view(request, *, what: str, student_ids, role: str, action: str = "view") -> None:
    ids = list(student_ids)
    if ids:
        access_log_record(
            actor=request.user,
            action=action,
            what=what,
            student_ids=ids,
            role=role,
            request=request,
        )


def _fragment(request) -> bool:
    """An HTMX request from the page itself (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _year_from(request) -> AcademicYear | None:
    code = request.GET.get("year", "")
    if code:
        year = AcademicYear.objects.filter(code=code).first()
        if year is not None:
            return year
    return academic_year_current()


def _page(request, items, per_page: int = 50):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


# --- teachers -----------------------------------------------------------------------------------


@login_required
@require_GET
def teacher_classes(request):
    access = _require(request, Capability.MANAGE_ROSTER)
    year = _year_from(request)
    classes = selectors.teacher_classes(access=access, year=year)
    return render(
        request,
        "enrollment/staff/teacher_classes.html",
        {
            "year": year,
            "years": AcademicYear.objects.order_by("-start_date"),
            "classes": classes,
            "requests": selectors.teacher_section_requests(access=access),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def teacher_class_request(request):
    access = _require(request, Capability.MANAGE_ROSTER)
    year = academic_year_current()
    years = (
        AcademicYear.objects.filter(start_date__gte=year.start_date)
        if year
        else AcademicYear.objects.none()
    ).order_by("start_date")
    form = SectionRequestForm(
        request.POST or None,
        initial={"academic_year": year.pk if year else None},
        articulations=selectors.requestable_articulations(access=access, year=year),
        schools=HighSchool.objects.filter(pk__in=access.teacher_high_school_ids).order_by("name"),
        years=years,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.section_request_create(
                actor=request.user,
                articulation_id=data["articulation"].pk,
                high_school_id=data["high_school"].pk,
                academic_year_id=data["academic_year"].pk,
                term=data["term"],
                section_code=data["section_code"],
                note=data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("Your request is sent. The consortium will approve or decline it.")
            )
            return redirect("enrollment:teacher_classes")
    return render(request, "enrollment/staff/teacher_class_request.html", {"form": form})


@login_required
@require_POST
def teacher_class_request_cancel(request, pk: int):
    _require(request, Capability.MANAGE_ROSTER)
    get_in_scope(SectionRequest.objects.all(), Q(teacher=request.user), pk=pk)
    try:
        services.section_request_cancel(actor=request.user, request_id=pk)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Your request is cancelled."))
    return redirect("enrollment:teacher_classes")


def _teacher_section(request, pk: int):
    access = _require(request, Capability.MANAGE_ROSTER)
    return access, selectors.teacher_section(access=access, section_id=pk)


@login_required
@require_GET
def teacher_roster(request, pk: int):
    access = _require(request, Capability.MANAGE_ROSTER)
    # Served from the cache the page needs only to know the class is the teacher's; the
    # class with its course, school and year is loaded when the content is built.
    section_id = selectors.teacher_section_id(access=access, section_id=pk)
    content, extra = pagecache.cached_content(
        request,
        page="roster",
        # The class, the teacher's account, and the course and school names in its header.
        scopes=[
            pagecache.section_scope(section_id),
            pagecache.user_scope(request.user.pk),
            pagecache.CATALOG,
        ],
        parts=(section_id,),
        build=lambda: _roster_content(
            request, selectors.teacher_section(access=access, section_id=section_id)
        ),
    )
    _log_view(request, what="class roster", student_ids=extra["student_ids"], role="teacher")
    return render(request, "enrollment/staff/roster.html", {"content": content})


def _roster_content(request, section) -> tuple[str, dict]:
    roster = selectors.section_roster(section=section)
    html = pagecache.render_content(
        request,
        "enrollment/staff/partials/roster_content.html",
        {
            "section": section,
            "roster": roster,
            "waiting": sum(1 for e in roster if e.status == EnrollmentStatus.REGISTERED),
            "closed": section.completed_at is not None,
        },
    )
    return html, {"student_ids": [e.student_id for e in roster]}


@login_required
@require_POST
def teacher_roster_confirm(request, pk: int):
    _access, section = _teacher_section(request, pk)
    if request.POST.get("all"):
        ids = None
    else:
        try:
            ids = [int(value) for value in request.POST.getlist("enrollment")]
        except ValueError:
            ids = []
    try:
        count = services.roster_confirm(
            actor=request.user, section_id=section.pk, enrollment_ids=ids
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            ngettext("%(count)s student confirmed.", "%(count)s students confirmed.", count)
            % {"count": count},
        )
    return redirect("enrollment:teacher_roster", pk=section.pk)


@login_required
@require_http_methods(["GET", "POST"])
def teacher_remove(request, pk: int):
    access = _require(request, Capability.MANAGE_ROSTER)
    enrollment = selectors.teacher_enrollment(access=access, enrollment_id=pk)
    form = RemovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.roster_remove(
                actor=request.user,
                enrollment_id=enrollment.pk,
                reason_code=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is removed from the class.") % {"name": enrollment.student.legal_name},
            )
            return redirect("enrollment:teacher_roster", pk=enrollment.section_id)
    return render(request, "enrollment/staff/remove.html", {"enrollment": enrollment, "form": form})


GRADES_SAVED_KEY = "enrollment_grades_saved"


def _posted_grades(request, roster) -> dict[int, str]:
    ids = {e.pk for e in roster}
    grades = {}
    for key, value in request.POST.items():
        if key.startswith("grade_"):
            try:
                enrollment_id = int(key.removeprefix("grade_"))
            except ValueError:
                continue
            if enrollment_id in ids:
                grades[enrollment_id] = value
    return grades


def _grade_rows(section, roster, *, typed=None, results=None, saved=None) -> list[dict]:
    """One row per student for the grade page: what is shown in the box and beside it."""
    typed, results, saved = typed or {}, results or {}, saved or {}
    rows = []
    for enrollment in roster:
        if not enrollment.is_active:
            continue
        value = typed.get(enrollment.pk, enrollment.grade)
        result = results.get(enrollment.pk)
        if result is None and value:
            result = services.grade_check(articulation=section.articulation, raw=value)
        rows.append(
            {
                "enrollment": enrollment,
                "value": value,
                "result": result,
                "editable": enrollment.status in services.GRADABLE_STATUSES,
                "saved": saved.get(str(enrollment.pk), ""),
            }
        )
    return rows


def _grades_context(request, section, roster, **rows) -> dict:
    closed = services.grading_closed_reason(section)
    return {
        "section": section,
        "rows": _grade_rows(section, roster, **rows),
        "closed": closed,
        "deadline": services.grading_deadline(section),
        "may_complete": section.completed_at is None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def teacher_grades(request, pk: int):
    """The whole roster's grades on one page: a plain form post saves every row (or, with a
    row's own button, that row) in one transaction; htmx saves rows one by one."""
    _access, section = _teacher_section(request, pk)
    roster = selectors.section_roster(section=section)
    if request.method == "GET":
        _log_view(
            request, what="grade entry", student_ids=[e.student_id for e in roster], role="teacher"
        )
        saved = request.session.pop(GRADES_SAVED_KEY, None) or {}
        return render(
            request,
            "enrollment/staff/grades.html",
            _grades_context(request, section, roster, saved=saved),
        )
    typed = _posted_grades(request, roster)
    only = request.POST.get("save_row", "")
    # A row's own button (no JavaScript) saves that row; the main button saves them all.
    typed_to_save = {int(only): typed.get(int(only), "")} if only.isdigit() else typed
    try:
        rows = services.grades_save(actor=request.user, section_id=section.pk, grades=typed_to_save)
    except services.GradesRefused as refused:
        messages.error(request, refused.messages[0])
        context = _grades_context(request, section, roster, typed=typed, results=refused.rows)
        return render(request, "enrollment/staff/grades.html", context, status=400)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        context = _grades_context(request, section, roster, typed=typed)
        return render(request, "enrollment/staff/grades.html", context, status=400)
    changed = [row for row in rows if row.changed]
    request.session[GRADES_SAVED_KEY] = {
        str(row.enrollment_id): (_("Saved: attained") if row.attained else _("Saved: not attained"))
        for row in changed
    }
    messages.success(
        request,
        ngettext("%(count)s grade saved.", "%(count)s grades saved.", len(changed))
        % {"count": len(changed)},
    )
    return redirect("enrollment:teacher_grades", pk=section.pk)


@login_required
@require_GET
def teacher_grade_check(request, pk: int):
    """htmx: whether the grade being typed meets the minimum (nothing is saved)."""
    _access, section = _teacher_section(request, pk)
    if not _fragment(request):
        return redirect("enrollment:teacher_grades", pk=section.pk)
    raw = next((v for k, v in request.GET.items() if k.startswith("grade_")), "")
    result = services.grade_check(articulation=section.articulation, raw=raw) if raw else None
    return render(request, "enrollment/staff/partials/grade_result.html", {"result": result})


@login_required
@require_POST
def teacher_grade_row(request, pk: int, enrollment_pk: int):
    """htmx: save one row and answer with the row; without htmx, back to the page."""
    _access, section = _teacher_section(request, pk)
    enrollment = get_in_scope(
        Enrollment.objects.select_related("student"), Q(section=section), pk=enrollment_pk
    )
    raw = request.POST.get(f"grade_{enrollment.pk}", "")
    saved, status = "", 200
    try:
        rows = services.grades_save(
            actor=request.user, section_id=section.pk, grades={enrollment.pk: raw}
        )
    except services.GradesRefused as refused:
        results, status = refused.rows, 400
    except ValidationError as error:
        if not _fragment(request):
            messages.error(request, _error_text(error))
            return redirect("enrollment:teacher_grades", pk=section.pk)
        results, status = {}, 400
        saved = _error_text(error)
    else:
        results = {row.enrollment_id: row for row in rows}
        row = results.get(enrollment.pk)
        if row is not None and row.changed:
            saved = _("Saved: attained") if row.attained else _("Saved: not attained")
        elif row is not None:
            saved = _("No change")
    if not _fragment(request):
        if status == 200:
            messages.success(request, saved or _("No change"))
        else:
            messages.error(request, _("The grade was not saved: correct it and try again."))
        return redirect("enrollment:teacher_grades", pk=section.pk)
    enrollment.refresh_from_db()
    row = _grade_rows(
        section,
        [enrollment],
        typed={enrollment.pk: raw},
        results=results,
        saved={str(enrollment.pk): saved},
    )[0]
    return render(
        request,
        "enrollment/staff/partials/grade_row.html",
        {"row": row, "section": section, "closed": services.grading_closed_reason(section)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def teacher_complete(request, pk: int):
    _access, section = _teacher_section(request, pk)
    if request.method == "POST":
        try:
            counts = services.section_complete(actor=request.user, section_id=section.pk)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _(
                    "The class is complete: %(attained)s attained college credit, "
                    "%(not_attained)s did not. Students get an email."
                )
                % counts,
            )
            return redirect("enrollment:teacher_roster", pk=section.pk)
    counts = selectors.status_counts(Enrollment.objects.filter(section=section))
    return render(
        request,
        "enrollment/staff/complete.html",
        {
            "section": section,
            "counts": counts,
            "ungraded": counts[EnrollmentStatus.REGISTERED] + counts[EnrollmentStatus.CONFIRMED],
        },
    )


def _upload_apply(request, form, run_import, applied_message):
    """Run an all-or-nothing file import from a valid upload form and report the outcome.

    `run_import(cleaned_data)` returns an import result; `applied_message(count)` words the
    success. Returns (result, status): 400 when the form, the file or any line is refused.
    """
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        result = run_import(form.cleaned_data)
    except ValidationError as error:
        form.add_error("file", error)
        return None, 400
    if not result.ok:
        messages.error(request, _("Nothing was changed: fix the lines listed below."))
        return result, 400
    messages.success(request, applied_message(result.applied))
    return result, 200


@login_required
@require_http_methods(["GET", "POST"])
def teacher_upload(request, pk: int):
    _access, section = _teacher_section(request, pk)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    result, status = _upload_apply(
        request,
        form,
        lambda data: importers.roster_import(
            actor=request.user, section=section, upload=data["file"]
        ),
        lambda count: (
            ngettext(
                "The file is applied: %(count)s student updated.",
                "The file is applied: %(count)s students updated.",
                count,
            )
            % {"count": count}
        ),
    )
    return render(
        request,
        "enrollment/staff/upload.html",
        {
            "form": form,
            "result": result,
            "title": _("Upload a class list"),
            "back_url": reverse("enrollment:teacher_roster", args=[section.pk]),
            "back_label": _("Back to the roster"),
            "section": section,
            "kind": "roster",
        },
        status=status,
    )


# --- any staff in scope: an enrollment's history -----------------------------------------------


@login_required
@require_GET
def staff_enrollment(request, pk: int):
    access = _require(request, Capability.VIEW_ENROLLMENTS)
    enrollment = selectors.staff_enrollment(access=access, enrollment_id=pk)
    _log_view(request, what="enrollment history", student_ids=[enrollment.student_id], role="")
    may_override = (
        access.can(Capability.OVERRIDE_RULES)
        and enrollment.section.articulation.consortium_id in access.consortium_ids
        and enrollment.status not in (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.REMOVED)
    )
    return render(
        request,
        "enrollment/staff/enrollment.html",
        {
            "enrollment": enrollment,
            "history": enrollment.status_changes.all(),
            "fields": student_fields(access, enrollment.student_id),
            "may_lookup": access.can(Capability.LOOKUP_STUDENTS),
            "override_form": GradeOverrideForm() if may_override else None,
        },
    )


@login_required
@require_POST
def grade_override(request, pk: int):
    access = _require(request, Capability.OVERRIDE_RULES)
    enrollment = get_in_scope(
        Enrollment.objects.all(),
        Q(section__articulation__consortium_id__in=access.consortium_ids),
        pk=pk,
    )
    form = GradeOverrideForm(request.POST)
    if form.is_valid():
        try:
            services.grade_override(
                actor=request.user,
                enrollment_id=enrollment.pk,
                grade=form.cleaned_data["grade"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("The grade is changed and the override recorded."))
    else:
        messages.error(request, _("Enter the new grade and the reason."))
    return redirect("enrollment:staff_enrollment", pk=enrollment.pk)


# --- career specialists: student lookup and help desk -------------------------------------------


@login_required
@require_GET
def staff_lookup(request):
    access = _require(request, Capability.LOOKUP_STUDENTS)
    form = StudentLookupForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        results = selectors.student_lookup(
            access=access,
            sers_id=data["sers_id"],
            name=data["name"],
            birth_date=data["birth_date"],
            email=data["email"] or "",
        )
        _log_view(request, what="student lookup", student_ids=[s.pk for s in results], role="")
    context = {
        "form": form,
        "results": results,
        "limit": selectors.LOOKUP_LIMIT,
        "fields": student_fields(access),
    }
    if _fragment(request):
        return render(request, "enrollment/staff/partials/lookup_results.html", context)
    return render(request, "enrollment/staff/lookup.html", context)


def _student_page(request, access, student, *, revealed: str = "", register_form=None, status=200):
    enrollments = selectors.staff_student_enrollments(access=access, student=student)
    fields = student_fields(access, student.pk)
    return render(
        request,
        "enrollment/staff/student.html",
        {
            "student": student,
            "fields": fields,
            "email_hint": mask_email(student.user.email) if fields.email_masked else "",
            "revealed": revealed,
            "enrollments": enrollments,
            "fees": selectors.staff_student_fees(student=student),
            "merges": selectors.student_merges(student=student),
            "may_help": access.can(Capability.HELP_STUDENT_ACCOUNTS),
            "may_fees": access.can(Capability.RECORD_PAYMENTS),
            "may_merge": access.can(Capability.MERGE_STUDENTS),
        },
        status=status,
    )


@login_required
@require_GET
def staff_student(request, pk: int):
    access = _require(request, Capability.LOOKUP_STUDENTS)
    student = selectors.staff_student(access=access, student_id=pk)
    _log_view(request, what="student record", student_ids=[student.pk], role="")
    return _student_page(request, access, student)


@login_required
@require_POST
def staff_reveal_email(request, pk: int):
    """Show the login email to staff helping the student in person; every reveal is logged."""
    access = _require(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = selectors.staff_student(access=access, student_id=pk)
    email = services.helpdesk_reveal_email(
        actor=request.user, student_id=student.pk, request=request
    )
    if _fragment(request):
        return render(
            request,
            "enrollment/staff/partials/email_revealed.html",
            {"student": student, "revealed": email},
        )
    return _student_page(request, access, student, revealed=email)


@login_required
@require_POST
def staff_resend_verification(request, pk: int):
    access = _require(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = selectors.staff_student(access=access, student_id=pk)
    try:
        services.helpdesk_resend_verification(actor=request.user, student_id=student.pk)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("A new confirmation link is on its way to the student."))
    return redirect("enrollment:staff_student", pk=student.pk)


@login_required
@require_POST
def staff_password_reset(request, pk: int):
    access = _require(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = selectors.staff_student(access=access, student_id=pk)
    try:
        services.helpdesk_password_reset(actor=request.user, student_id=student.pk)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, _("A password-reset link is on its way to the student's email address.")
        )
    return redirect("enrollment:staff_student", pk=student.pk)


@login_required
@require_http_methods(["GET", "POST"])
def staff_register(request, pk: int):
    """Register a student for a class on their behalf (consortium admins: also late)."""
    access = _require(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = selectors.staff_student(access=access, student_id=pk)
    year = academic_year_current()
    sections = selectors.late_registration_sections(access=access, student=student, year=year)
    may_override = access.can(Capability.OVERRIDE_RULES)
    form = RegisterOnBehalfForm(request.POST or None, sections=sections, may_override=may_override)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = services.enrollment_register_on_behalf(
                actor=request.user,
                student_id=student.pk,
                section_id=form.cleaned_data["section"],
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is registered for %(course)s. They get a confirmation email.")
                % {
                    "name": student.legal_name,
                    "course": enrollment.section.articulation.high_school_course.title,
                },
            )
            return redirect("enrollment:staff_student", pk=student.pk)
    return render(
        request,
        "enrollment/staff/register.html",
        {"student": student, "form": form, "year": year, "may_override": may_override},
    )


# --- consortium admins --------------------------------------------------------------------------


CONSORTIUM_CAPABILITIES = (
    Capability.RECORD_PAYMENTS,
    Capability.MERGE_STUDENTS,
    Capability.MANAGE_TEACHERS,
    Capability.MANAGE_POLICY,
)


@login_required
@require_GET
def consortium_home(request):
    access = access_for(request.user)
    if not any(access.can(c) for c in CONSORTIUM_CAPABILITIES):
        raise PermissionDenied
    year = academic_year_current()
    return render(
        request,
        "enrollment/staff/consortium_home.html",
        {
            "year": year,
            "counts": selectors.consortium_work_counts(access=access, year=year),
            "unpaid_by_school": selectors.unpaid_by_school(access=access, year=year),
        },
    )


@login_required
@require_GET
def fee_list(request):
    access = _require(request, Capability.RECORD_PAYMENTS)
    data = request.GET.copy()
    year = academic_year_current()
    if "year" not in data and year:
        data["year"] = year.code
    if "status" not in data:
        data["status"] = Fee.Status.UNPAID
    filterset = FeeFilter(
        data,
        queryset=selectors.consortium_fees(access=access),
        consortium_ids=access.consortium_ids,
    )
    table = FeeTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    _log_view(
        request,
        what="fee list",
        student_ids=[row.record.student_id for row in table.paginated_rows],
        role="consortium_admin",
    )
    context = {"filter": filterset, "table": table}
    if _fragment(request):
        return render(request, "enrollment/staff/partials/fee_results.html", context)
    return render(request, "enrollment/staff/fees.html", context)


def _waiver_reasons(fee) -> list[str]:
    from organisations.selectors import policy_for

    policy = policy_for(consortium_id=fee.consortium_id, academic_year_id=fee.academic_year_id)
    return policy.waiver_reason_list if policy else []


@login_required
@require_http_methods(["GET", "POST"])
def fee_detail(request, pk: int):
    access = _require(request, Capability.RECORD_PAYMENTS)
    fee = selectors.fee_for_admin(access=access, fee_id=pk)
    form = FeeRecordForm(
        request.POST or None,
        waiver_reasons=_waiver_reasons(fee),
        initial={
            "status": Fee.Status.PAID,
            "paid_amount": fee.amount,
            "paid_on": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.fee_record(
                actor=request.user,
                fee_id=fee.pk,
                status=data["status"],
                paid_amount=data["paid_amount"],
                paid_on=data["paid_on"],
                receipt_number=data["receipt_number"],
                waiver_reason=data["waiver_reason"],
                note=data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The fee is recorded."))
            return redirect("enrollment:fee_detail", pk=fee.pk)
    else:
        _log_view(request, what="fee", student_ids=[fee.student_id], role="consortium_admin")
    return render(
        request,
        "enrollment/staff/fee.html",
        {"fee": fee, "form": form, "history": fee.changes.all()},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def fee_upload(request):
    access = _require(request, Capability.RECORD_PAYMENTS)
    years = AcademicYear.objects.order_by("-start_date")
    current = academic_year_current()
    reasons: list[str] = []
    for policy in ConsortiumPolicy.objects.filter(
        consortium_id__in=access.consortium_ids, academic_year=current
    ):
        reasons += [r for r in policy.waiver_reason_list if r not in reasons]
    form = FeeUploadForm(
        request.POST or None,
        request.FILES or None,
        years=years,
        waiver_reasons=reasons,
        initial={"academic_year": current.pk if current else None, "paid_on": timezone.localdate()},
    )
    result, status = _upload_apply(
        request,
        form,
        lambda data: importers.fee_import(
            actor=request.user,
            access=access,
            academic_year=data["academic_year"],
            upload=data["file"],
            default_status=data["status"],
            default_paid_on=data["paid_on"],
            default_receipt_number=data["receipt_number"],
            default_waiver_reason=data["waiver_reason"],
        ),
        lambda count: (
            ngettext(
                "The file is applied: %(count)s fee recorded.",
                "The file is applied: %(count)s fees recorded.",
                count,
            )
            % {"count": count}
        ),
    )
    return render(
        request,
        "enrollment/staff/upload.html",
        {
            "form": form,
            "result": result,
            "title": _("Record fees from a file"),
            "back_url": reverse("enrollment:fee_list"),
            "back_label": _("Back to fees"),
            "kind": "fees",
        },
        status=status,
    )


@login_required
@require_GET
def duplicate_list(request):
    access = _require(request, Capability.MERGE_STUDENTS)
    table = DuplicateTable(selectors.duplicate_queue(access=access))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(
        request,
        "enrollment/staff/duplicates.html",
        {"table": table, "consortia": access.consortium_ids},
    )


@login_required
@require_POST
def duplicate_scan(request):
    access = _require(request, Capability.MERGE_STUDENTS)
    for consortium_id in sorted(access.consortium_ids):
        tasks.scan_for_duplicates.delay_on_commit(consortium_id)
    messages.success(
        request,
        _("The duplicate check is running. New pairs appear in this list when it is done."),
    )
    return redirect("enrollment:duplicate_list")


def _duplicate(request, pk: int):
    access = _require(request, Capability.MERGE_STUDENTS)
    return access, get_in_scope(selectors.duplicate_queue(access=access), Q(), pk=pk)


@login_required
@require_GET
def duplicate_review(request, pk: int):
    access, pair = _duplicate(request, pk)
    first = selectors.merge_side(access=access, student_id=pair.existing_student_id)
    second = selectors.merge_side(access=access, student_id=pair.student_id)
    _log_view(
        request,
        what="duplicate review",
        student_ids=[first.pk, second.pk],
        role="consortium_admin",
    )
    return render(
        request,
        "enrollment/staff/duplicate_review.html",
        {"pair": pair, "sides": [first, second]},
    )


@login_required
@require_POST
def duplicate_dismiss(request, pk: int):
    _access, pair = _duplicate(request, pk)
    try:
        services.possible_duplicate_dismiss(actor=request.user, duplicate_id=pair.pk)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Marked as two different students."))
    return redirect("enrollment:duplicate_list")


@login_required
@require_GET
def merge_start(request, pk: int):
    """From a student's page: type the SERS id of the other record to merge with."""
    access = _require(request, Capability.MERGE_STUDENTS)
    student = selectors.staff_student(access=access, student_id=pk)
    other_id = "".join(request.GET.get("other", "").split())
    error = ""
    if other_id:
        other = selectors.students_visible(access=access).filter(sers_id=other_id).first()
        if other is None:
            error = _("No student with this SERS ID in your consortium.")
        elif other.pk == student.pk:
            error = _("That is this same record: enter the other one.")
        else:
            return redirect("enrollment:student_merge", keep=student.pk, merge=other.pk)
    return render(
        request,
        "enrollment/staff/merge_start.html",
        {"student": student, "other": other_id, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def student_merge(request, keep: int, merge: int):
    """Compare two records and merge `merge` into `keep`, deciding each conflict."""
    access = _require(request, Capability.MERGE_STUDENTS)
    if keep == merge:
        raise Http404
    survivor = selectors.merge_side(access=access, student_id=keep)
    merged = selectors.merge_side(access=access, student_id=merge)
    conflicts = services.merge_conflicts(survivor=survivor, merged=merged)
    form = MergeForm(request.POST or None, conflicts=conflicts)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            record = services.students_merge(
                actor=request.user,
                survivor_id=survivor.pk,
                merged_id=merged.pk,
                reason=form.cleaned_data["reason"],
                decisions=form.decisions(),
            )
        except services.MergeRefused as refused:
            for conflict in refused.conflicts:
                name = "decide_" + conflict.key.replace(":", "_")
                if name in form.fields and conflict.choices:
                    form.add_error(name, _("Decide this before merging."))
                else:
                    form.add_error(None, conflict.message)
            form.add_error(None, refused.messages[0])
            status = 400
        except ValidationError as error:
            _add_errors(form, error)
            status = 400
        else:
            messages.success(
                request,
                _("SERS %(merged)s is merged into SERS %(survivor)s.")
                % {"merged": record.merged.sers_id, "survivor": record.survivor.sers_id},
            )
            return redirect("enrollment:staff_student", pk=survivor.pk)
    elif request.method == "POST":
        status = 400
    else:
        _log_view(
            request,
            what="merge comparison",
            student_ids=[survivor.pk, merged.pk],
            role="consortium_admin",
        )
    blocked = [c for c in conflicts if not c.choices]
    return render(
        request,
        "enrollment/staff/merge.html",
        {
            "survivor": survivor,
            "merged": merged,
            "conflicts": conflicts,
            "blocked": blocked,
            "form": form,
        },
        status=status,
    )


@login_required
@require_GET
def section_requests(request):
    access = _require(request, Capability.MANAGE_TEACHERS)
    page = _page(request, selectors.pending_section_requests(access=access), per_page=25)
    return render(
        request,
        "enrollment/staff/section_requests.html",
        {"page": page, "form": SectionRequestDecisionForm()},
    )


@login_required
@require_POST
def section_request_decide(request, pk: int):
    access = _require(request, Capability.MANAGE_TEACHERS)
    get_in_scope(selectors.pending_section_requests(access=access), Q(), pk=pk)
    form = SectionRequestDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or decline."))
        return redirect("enrollment:section_requests")
    try:
        decided = services.section_request_decide(
            actor=request.user,
            request_id=pk,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            _("The class is created.")
            if decided.status == SectionRequest.Status.APPROVED
            else _("The request is declined."),
        )
    return redirect("enrollment:section_requests")


# --- college registrars -------------------------------------------------------------------------


def _queue_view(request) -> str:
    view = request.GET.get("view", "ready")
    return view if view in selectors.QUEUE_VIEWS else "ready"


@login_required
@require_GET
def registrar_queue(request):
    """The college's enrollments: ready to transcribe (tick and mark), still waiting (and
    why), and transcribed (undo within the allowed days)."""
    access = _require(request, Capability.TRANSCRIBE)
    view = _queue_view(request)
    fragment = _fragment(request)
    colleges = sorted(access.registrar_college_ids)
    # Registrars of the same colleges see the same queue: it is kept per college set and
    # query, and left behind when anything it shows changes (pagecache.college_scope).
    query = urlencode(sorted((k, v) for k, values in request.GET.lists() for v in values))
    content, extra = pagecache.cached_content(
        request,
        page="registrar-queue-results" if fragment else "registrar-queue",
        scopes=[*map(pagecache.college_scope, colleges), pagecache.OFFERS, pagecache.CATALOG],
        parts=(view, query, *colleges),
        build=lambda: _registrar_queue_content(request, access, view, fragment=fragment),
    )
    _log_view(
        request,
        what=f"transcription queue ({view})",
        student_ids=extra["student_ids"],
        role="registrar",
    )
    if fragment:
        return HttpResponse(content)
    return render(request, "enrollment/staff/registrar_queue.html", {"content": content})


def _registrar_queue_content(request, access, view: str, *, fragment: bool) -> tuple[str, dict]:
    filterset = RegistrarQueueFilter(
        request.GET,
        queryset=selectors.registrar_queue(access=access, view=view),
        college_ids=access.registrar_college_ids,
    )
    tabs = []
    for name in selectors.QUEUE_VIEWS:
        params = request.GET.copy()
        params.pop("page", None)
        params["view"] = name
        tabs.append((name, params.urlencode()))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "view": view, "tabs": tabs, "query": query.urlencode()}
    today = timezone.localdate()
    if view == "ready":
        page = _page(
            request,
            filterset.qs.order_by(
                "section__academic_year__start_date",
                "student__legal_last_name",
                "student__legal_first_name",
                "pk",
            ),
        )
        rows = list(page.object_list)
        known = selectors.known_college_student_ids(enrollments=rows)
        context.update(
            page=page,
            rows=[
                (
                    e,
                    e.college_student_id
                    or known.get((e.student_id, e.section.articulation.college_id), ""),
                )
                for e in rows
            ],
            date_form=PostingDateForm(initial={"transcribed_on": today}),
        )
        student_ids = [e.student_id for e in rows]
    else:
        table_class = WaitingTable if view == "waiting" else TranscribedTable
        kwargs = {"today": today} if view == "transcribed" else {}
        table = table_class(filterset.qs, **kwargs)
        RequestConfig(request, paginate={"per_page": 50}).configure(table)
        context["table"] = table
        student_ids = [row.record.student_id for row in table.paginated_rows]
    template = (
        "enrollment/staff/partials/queue_results.html"
        if fragment
        else "enrollment/staff/partials/registrar_queue_content.html"
    )
    return pagecache.render_content(request, template, context), {"student_ids": student_ids}


@login_required
@require_POST
def registrar_transcribe(request):
    """Mark the ticked enrollments transcribed, each with its college student id."""
    _require(request, Capability.TRANSCRIBE)
    form = PostingDateForm(request.POST)
    back = reverse("enrollment:registrar_queue") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, _("Enter the posting date."))
        return redirect(back)
    items = {}
    for value in request.POST.getlist("enrollment"):
        if value.isdigit():
            items[int(value)] = request.POST.get(f"college_id_{value}", "")
    try:
        count = services.enrollments_transcribe(
            actor=request.user,
            college_student_ids=items,
            transcribed_on=form.cleaned_data["transcribed_on"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s credit marked transcribed.",
                "%(count)s credits marked transcribed.",
                count,
            )
            % {"count": count},
        )
    return redirect(back)


def _registrar_enrollment(request, pk: int):
    access = _require(request, Capability.TRANSCRIBE)
    return get_in_scope(
        selectors.registrar_enrollments(access=access).select_related(
            *selectors.ENROLLMENT_DISPLAY
        ),
        Q(),
        pk=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_transcribe_one(request, pk: int):
    enrollment = _registrar_enrollment(request, pk)
    form = TranscribeForm(
        request.POST or None,
        initial={
            "transcribed_on": timezone.localdate(),
            "college_student_id": enrollment.college_student_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollments_transcribe(
                actor=request.user,
                college_student_ids={enrollment.pk: form.cleaned_data["college_student_id"]},
                transcribed_on=form.cleaned_data["transcribed_on"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The credit is marked transcribed."))
            return redirect("enrollment:registrar_queue")
    return render(
        request,
        "enrollment/staff/transcribe.html",
        {"enrollment": enrollment, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_undo(request, pk: int):
    enrollment = _registrar_enrollment(request, pk)
    form = UndoTranscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_transcription_undo(
                actor=request.user, enrollment_id=enrollment.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("The transcription is undone; the credit is back in the queue.")
            )
            return redirect(reverse("enrollment:registrar_queue") + "?view=transcribed")
    return render(
        request,
        "enrollment/staff/undo.html",
        {
            "enrollment": enrollment,
            "form": form,
            "undo_until": services.transcription_undo_until(enrollment)
            if enrollment.status == EnrollmentStatus.TRANSCRIBED
            else None,
            "days": services.TRANSCRIPTION_UNDO_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_upload(request):
    access = _require(request, Capability.TRANSCRIBE)
    form = PostedCreditsUploadForm(
        request.POST or None, request.FILES or None, initial={"posted_on": timezone.localdate()}
    )
    result, status = _upload_apply(
        request,
        form,
        lambda data: importers.posted_credits_import(
            actor=request.user,
            access=access,
            upload=data["file"],
            default_posted_on=data["posted_on"],
        ),
        lambda count: (
            ngettext(
                "The file is applied: %(count)s credit marked transcribed.",
                "The file is applied: %(count)s credits marked transcribed.",
                count,
            )
            % {"count": count}
        ),
    )
    return render(
        request,
        "enrollment/staff/upload.html",
        {
            "form": form,
            "result": result,
            "title": _("Upload posted credits"),
            "back_url": reverse("enrollment:registrar_queue"),
            "back_label": _("Back to the queue"),
            "kind": "posted",
        },
        status=status,
    )
