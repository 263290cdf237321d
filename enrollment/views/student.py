"""The student's own pages: dashboard, college credits, class registration, withdrawal
and the profile. A student only ever loads their own records."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import access_for
from enrollment import pagecache, rules
from enrollment.selectors import registration as registration_selectors
from enrollment.selectors import student as student_selectors
from organisations.models import HighSchool
from organisations.selectors import academic_year_current

from ..forms import (
    ContactForm,
    IdentityChangeForm,
    SchoolChoiceForm,
    SectionSelectionForm,
)
from ..models import (
    IdentityChange,
)
from ..services import (
    registration,
    signup,
)
from .common import request_student, request_student_id

# --- dashboard and credits ---------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    student_id = request_student_id(request)
    content, _extra = pagecache.student_page(
        request,
        page="dashboard",
        student_id=student_id,
        build=lambda: (_dashboard_content(request, request_student(request)), {}),
    )
    return render(request, "enrollment/dashboard.html", {"content": content})


def _dashboard_content(request, student) -> str:
    year = academic_year_current()
    enrollments = student_selectors.student_year_enrollments(student=student, year=year)
    fee_lines = student_selectors.student_fee_lines(student=student, year=year)
    credits = student_selectors.student_credits(student=student)
    changes = student_selectors.student_identity_changes(student=student, limit=1)
    pending = changes[0] if changes and changes[0].status == IdentityChange.Status.PENDING else None
    steps = student_selectors.student_next_steps(
        student=student,
        enrollments=enrollments,
        fee_lines=fee_lines,
        credits=credits,
        pending_change=pending,
    )
    rows = [
        {
            "enrollment": e,
            "timeline": student_selectors.enrollment_timeline(e),
            "can_withdraw": e.status in rules.WITHDRAWABLE_STATUSES,
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
            "credit_total": sum((c.credits for c in student_selectors.credit_lines(credits)), 0),
            "next_step": steps[0],
            "more_steps": steps[1:],
        },
    )


@login_required
@require_GET
def credits(request):
    content, _extra = pagecache.student_page(
        request,
        page="credits",
        student_id=request_student_id(request),
        build=lambda: (_credits_content(request, request_student(request)), {}),
    )
    return render(request, "enrollment/credits.html", {"content": content})


def _credits_content(request, student) -> str:
    lines = student_selectors.credit_lines(
        student_selectors.student_credits(student=student),
        fees=student_selectors.student_fees_all_years(student=student),
    )
    return pagecache.render_content(
        request,
        "enrollment/partials/credits_content.html",
        {"student": student, "lines": lines},
    )


# --- registration ------------------------------------------------------------------------------


def _register_context(request, student, *, school_id=None, selection=None):
    year = academic_year_current()
    groups = registration_selectors.registration_schools(student=student, year=year)
    allowed = {school.pk: school for _label, schools in groups for school in schools}
    school = allowed.get(school_id) or allowed.get(student.high_school_id)
    if school is None:  # the student's own school is always listed; this is belt and braces
        school = HighSchool.objects.get(pk=student.high_school_id)
    school_form = SchoolChoiceForm(initial={"school": school.pk}, groups=groups)
    offers = registration_selectors.registration_offer(
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
        context = _register_context(request, request_student(request), school_id=school_id)
        return render(request, "enrollment/partials/class_list.html", context)
    content, _extra = pagecache.student_page(
        request,
        page="register",
        student_id=request_student_id(request),
        build=lambda: (
            pagecache.render_content(
                request,
                "enrollment/partials/register_content.html",
                _register_context(request, request_student(request), school_id=school_id),
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
    student = request_student(request)
    context, selection = _bound_selection(
        request, student, _school_param(request.POST.get("school"))
    )
    if not selection.is_valid():
        return render(request, "enrollment/register.html", context)
    context["selected"] = selection.selected()
    context["fees"] = registration_selectors.registration_fee_preview(
        student=student, sections=[section for _offer, section in context["selected"]]
    )
    return render(request, "enrollment/register_review.html", context)


@login_required
@require_POST
def register_confirm(request):
    student = request_student(request)
    school_id = _school_param(request.POST.get("school"))
    # The usual post (classes picked on the page a moment ago) goes straight to the
    # service, which enforces every rule; the school's whole offer is rebuilt only to say
    # what is wrong with a post the service or the quick check below refuses.
    quick = _quick_selection(request, school_id)
    if quick:
        try:
            enrollments = registration.enrollment_register_many(
                student=student, section_ids=quick, actor=request.user
            )
        except (registration.RegistrationBatchRefused, ValidationError):
            pass  # nothing was registered: answered below, as the page would
        else:
            return _registered(request, enrollments)
    context, selection = _bound_selection(request, student, school_id)
    if not selection.is_valid():
        return render(request, "enrollment/register.html", context)
    try:
        enrollments = registration.enrollment_register_many(
            student=student, section_ids=selection.cleaned_data["sections"], actor=request.user
        )
    except registration.RegistrationBatchRefused as refused:
        context["selected"] = selection.selected()
        context["problems"] = refused.problems
        context["fees"] = registration_selectors.registration_fee_preview(
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
    found = registration_selectors.section_schools_and_courses(section_ids=ids)
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
    student = request_student(request)
    year = academic_year_current()
    raw = request.GET.get("ids", "")
    if raw:
        try:
            ids = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise Http404 from None
        enrollments = student_selectors.student_enrollments_by_ids(student=student, ids=ids)
        if len(enrollments) != len(ids):
            raise Http404  # someone else's registration, or none at all
    else:
        enrollments = [
            e
            for e in student_selectors.student_year_enrollments(student=student, year=year)
            if e.is_active
        ]
    return render(
        request,
        "enrollment/confirmation.html",
        {
            "student": student,
            "year": year,
            "enrollments": enrollments,
            "fees": student_selectors.student_fee_lines(student=student, year=year),
            "printed_on": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, pk: int):
    request_student(request)
    enrollment = student_selectors.student_own_enrollment(
        access=access_for(request.user), enrollment_id=pk
    )
    if request.method == "POST":
        try:
            registration.enrollment_withdraw(enrollment_id=enrollment.pk, actor=request.user)
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
            "can_withdraw": enrollment.status in rules.WITHDRAWABLE_STATUSES,
        },
    )


# --- profile ------------------------------------------------------------------------------------


def _profile_page(request, student, *, contact_form=None, identity_form=None, status=200):
    changes = student_selectors.student_identity_changes(student=student)
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
            "needs_approval": student_selectors.student_has_attained_credit(student_id=student.pk),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    student = request_student(request)
    if request.method == "GET":
        return _profile_page(request, student)
    form = ContactForm(request.POST, student=student)
    if not form.is_valid():
        return _profile_page(request, student, contact_form=form)
    data = form.cleaned_data
    try:
        email_changed = signup.student_update_contact(
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
    student = request_student(request)
    form = IdentityChangeForm(request.POST, student=student)
    if not form.is_valid():
        return _profile_page(request, student, identity_form=form)
    data = form.cleaned_data
    try:
        change = signup.student_identity_change(
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
    student = request_student(request)
    student_selectors.student_own_identity_change(student=student, change_id=pk)  # 404 for others
    try:
        signup.identity_change_cancel(change_id=pk, student=student)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your request is cancelled."))
    return HttpResponseRedirect(reverse("enrollment:profile"))
