"""Any staff member in scope: an enrollment's page and history, and the grade override."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Capability, get_in_scope, student_fields
from enrollment.selectors import staff_records

from ..forms import (
    GradeOverrideForm,
)
from ..models import (
    Enrollment,
    EnrollmentStatus,
)
from ..services import (
    grading,
)
from .common import add_errors, log_view, require_capability

# --- any staff in scope: an enrollment's history -----------------------------------------------


@login_required
@require_GET
def staff_enrollment(request, pk: int):
    access = require_capability(request, Capability.VIEW_ENROLLMENTS)
    return _enrollment_page(request, access, pk)


def _enrollment_page(request, access, pk: int, *, override_form=None, status: int = 200):
    """An enrollment's page; `override_form`: the override as it was sent and refused,
    shown again with its errors (and the page's error summary)."""
    enrollment = staff_records.staff_enrollment(access=access, enrollment_id=pk)
    log_view(request, what="enrollment history", student_ids=[enrollment.student_id], role="")
    may_override = (
        access.can(Capability.OVERRIDE_RULES)
        and enrollment.section.articulation.consortium_id in access.consortium_ids
        and enrollment.status not in (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.REMOVED)
    )
    if override_form is None and may_override:
        override_form = GradeOverrideForm()
    return render(
        request,
        "enrollment/staff/enrollment.html",
        {
            "enrollment": enrollment,
            "history": enrollment.status_changes.all(),
            "fields": student_fields(access, enrollment.student_id),
            "may_lookup": access.can(Capability.LOOKUP_STUDENTS),
            "override_form": override_form,
        },
        status=status,
    )


@login_required
@require_POST
def grade_override(request, pk: int):
    """Change a grade with a reason; refused, the page shows again with what was typed,
    each field's error and the error summary (nothing is changed)."""
    access = require_capability(request, Capability.OVERRIDE_RULES)
    enrollment = get_in_scope(
        Enrollment.objects.all(),
        Q(section__articulation__consortium_id__in=access.consortium_ids),
        pk=pk,
    )
    form = GradeOverrideForm(request.POST)
    if form.is_valid():
        try:
            grading.grade_override(
                actor=request.user,
                enrollment_id=enrollment.pk,
                grade=form.cleaned_data["grade"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The grade is changed and the override recorded."))
            return redirect("enrollment:staff_enrollment", pk=enrollment.pk)
    return _enrollment_page(request, access, enrollment.pk, override_form=form, status=400)
