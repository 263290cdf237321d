"""Career specialists (/staff/): student lookup and the help desk."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Capability, student_fields
from enrollment.selectors import consortium, staff_records
from organisations.selectors import academic_year_current

from ..forms import (
    RegisterOnBehalfForm,
    StudentLookupForm,
)
from ..identity import mask_email
from ..services import (
    helpdesk,
)
from .common import add_errors, error_text, is_fragment, log_view, require_capability

# --- career specialists: student lookup and help desk -------------------------------------------


@login_required
@require_GET
def staff_lookup(request):
    access = require_capability(request, Capability.LOOKUP_STUDENTS)
    form = StudentLookupForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        results = staff_records.student_lookup(
            access=access,
            sers_id=data["sers_id"],
            name=data["name"],
            birth_date=data["birth_date"],
            email=data["email"] or "",
        )
        log_view(request, what="student lookup", student_ids=[s.pk for s in results], role="")
    context = {
        "form": form,
        "results": results,
        "limit": staff_records.LOOKUP_LIMIT,
        "fields": student_fields(access),
    }
    if is_fragment(request):
        return render(request, "enrollment/staff/partials/lookup_results.html", context)
    return render(request, "enrollment/staff/lookup.html", context)


def _student_page(request, access, student, *, revealed: str = "", register_form=None, status=200):
    enrollments = staff_records.staff_student_enrollments(access=access, student=student)
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
            "fees": staff_records.staff_student_fees(student=student),
            "merges": staff_records.student_merges(student=student),
            "may_help": access.can(Capability.HELP_STUDENT_ACCOUNTS),
            "may_fees": access.can(Capability.RECORD_PAYMENTS),
            "may_merge": access.can(Capability.MERGE_STUDENTS),
        },
        status=status,
    )


@login_required
@require_GET
def staff_student(request, pk: int):
    access = require_capability(request, Capability.LOOKUP_STUDENTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    log_view(request, what="student record", student_ids=[student.pk], role="")
    return _student_page(request, access, student)


@login_required
@require_POST
def staff_reveal_email(request, pk: int):
    """Show the login email to staff helping the student in person; every reveal is logged."""
    access = require_capability(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    email = helpdesk.helpdesk_reveal_email(
        actor=request.user, student_id=student.pk, request=request
    )
    if is_fragment(request):
        return render(
            request,
            "enrollment/staff/partials/email_revealed.html",
            {"student": student, "revealed": email},
        )
    return _student_page(request, access, student, revealed=email)


@login_required
@require_POST
def staff_resend_verification(request, pk: int):
    access = require_capability(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    try:
        helpdesk.helpdesk_resend_verification(actor=request.user, student_id=student.pk)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("A new confirmation link is on its way to the student."))
    return redirect("enrollment:staff_student", pk=student.pk)


@login_required
@require_POST
def staff_password_reset(request, pk: int):
    access = require_capability(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    try:
        helpdesk.helpdesk_password_reset(actor=request.user, student_id=student.pk)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("A password-reset link is on its way to the student's email address.")
        )
    return redirect("enrollment:staff_student", pk=student.pk)


@login_required
@require_http_methods(["GET", "POST"])
def staff_register(request, pk: int):
    """Register a student for a class on their behalf (consortium admins: also late)."""
    access = require_capability(request, Capability.HELP_STUDENT_ACCOUNTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    year = academic_year_current()
    sections = consortium.late_registration_sections(access=access, student=student, year=year)
    may_override = access.can(Capability.OVERRIDE_RULES)
    form = RegisterOnBehalfForm(request.POST or None, sections=sections, may_override=may_override)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = helpdesk.enrollment_register_on_behalf(
                actor=request.user,
                student_id=student.pk,
                section_id=form.cleaned_data["section"],
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        except ValidationError as error:
            add_errors(form, error)
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
