"""Consortium admins (/consortium/): fees, duplicate students and merging, and
teachers' class requests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from accounts.permissions import Capability, access_for, get_in_scope
from enrollment import importers
from enrollment.selectors import consortium, staff_records, visible
from organisations.models import AcademicYear, ConsortiumPolicy
from organisations.selectors import academic_year_current, policy_for
from sers.templatetags.sers_ui import EXTRA

from ..filters import FeeFilter
from ..forms import (
    FeeRecordForm,
    FeeUploadForm,
    MergeForm,
    SectionRequestDecisionForm,
)
from ..models import (
    Fee,
    SectionRequest,
)
from ..services import (
    class_requests,
    duplicate_checks,
    fees,
    merging,
)
from ..tables import DuplicateTable, FeeTable
from .common import (
    add_errors,
    error_text,
    is_fragment,
    log_view,
    paginate,
    require_capability,
    upload_apply,
    upload_summary,
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
            "counts": consortium.consortium_work_counts(access=access, year=year),
            "unpaid_by_school": consortium.unpaid_by_school(access=access, year=year),
        },
    )


@login_required
@require_GET
def fee_list(request):
    access = require_capability(request, Capability.RECORD_PAYMENTS)
    data = request.GET.copy()
    year = academic_year_current()
    if "year" not in data and year:
        data["year"] = year.code
    if "status" not in data:
        data["status"] = Fee.Status.UNPAID
    filterset = FeeFilter(
        data,
        queryset=consortium.consortium_fees(access=access),
        consortium_ids=access.consortium_ids,
    )
    table = FeeTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    log_view(
        request,
        what="fee list",
        student_ids=[row.record.student_id for row in table.paginated_rows],
        role="consortium_admin",
    )
    context = {"filter": filterset, "table": table}
    if is_fragment(request):
        return render(request, "enrollment/staff/partials/fee_results.html", context)
    return render(request, "enrollment/staff/fees.html", context)


def _waiver_reasons(fee) -> list[str]:
    policy = policy_for(consortium_id=fee.consortium_id, academic_year_id=fee.academic_year_id)
    return policy.waiver_reason_list if policy else []


@login_required
@require_http_methods(["GET", "POST"])
def fee_detail(request, pk: int):
    access = require_capability(request, Capability.RECORD_PAYMENTS)
    fee = consortium.fee_for_admin(access=access, fee_id=pk)
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
            fees.fee_record(
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
            add_errors(form, error)
        else:
            messages.success(request, _("The fee is recorded."))
            return redirect("enrollment:fee_detail", pk=fee.pk)
    else:
        log_view(request, what="fee", student_ids=[fee.student_id], role="consortium_admin")
    return render(
        request,
        "enrollment/staff/fee.html",
        {"fee": fee, "form": form, "history": fee.changes.all()},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def fee_upload(request):
    access = require_capability(request, Capability.RECORD_PAYMENTS)
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
    result, status = upload_apply(
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
            EXTRA: upload_summary(form, result),
        },
        status=status,
    )


@login_required
@require_GET
def duplicate_list(request):
    access = require_capability(request, Capability.MERGE_STUDENTS)
    table = DuplicateTable(consortium.duplicate_queue(access=access))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(
        request,
        "enrollment/staff/duplicates.html",
        {"table": table, "check": duplicate_checks.duplicate_check_state()},
    )


@login_required
@require_POST
def duplicate_scan(request):
    require_capability(request, Capability.MERGE_STUDENTS)
    state, queued = duplicate_checks.duplicate_check_request()
    # Said as it stands now: where tasks run in-process the check has finished already.
    if not queued:
        messages.info(
            request,
            _(
                "A duplicate check is already running: nothing more was asked for. Its new "
                "pairs appear in this list when it is done."
            ),
        )
    elif state.running:
        messages.success(
            request,
            _("The duplicate check is running. New pairs appear in this list when it is done."),
        )
    elif state.failed:
        messages.error(
            request,
            _("The duplicate check failed. Try again; if it fails again, tell the help desk."),
        )
    else:
        messages.success(
            request,
            ngettext(
                "The duplicate check is done: %(count)s new pair to review.",
                "The duplicate check is done: %(count)s new pairs to review.",
                state.new_pairs,
            )
            % {"count": state.new_pairs},
        )
    return redirect("enrollment:duplicate_list")


def _duplicate(request, pk: int):
    access = require_capability(request, Capability.MERGE_STUDENTS)
    return access, get_in_scope(consortium.duplicate_queue(access=access), Q(), pk=pk)


@login_required
@require_GET
def duplicate_review(request, pk: int):
    access, pair = _duplicate(request, pk)
    first = consortium.merge_side(access=access, student_id=pair.existing_student_id)
    second = consortium.merge_side(access=access, student_id=pair.student_id)
    log_view(
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
        merging.possible_duplicate_dismiss(actor=request.user, duplicate_id=pair.pk)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Marked as two different students."))
    return redirect("enrollment:duplicate_list")


@login_required
@require_GET
def merge_start(request, pk: int):
    """From a student's page: type the SERS id of the other record to merge with."""
    access = require_capability(request, Capability.MERGE_STUDENTS)
    student = staff_records.staff_student(access=access, student_id=pk)
    other_id = "".join(request.GET.get("other", "").split())
    error = ""
    if other_id:
        other = visible.students_visible(access=access).filter(sers_id=other_id).first()
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
    access = require_capability(request, Capability.MERGE_STUDENTS)
    if keep == merge:
        raise Http404
    survivor = consortium.merge_side(access=access, student_id=keep)
    merged = consortium.merge_side(access=access, student_id=merge)
    conflicts = merging.merge_conflicts(survivor=survivor, merged=merged)
    form = MergeForm(request.POST or None, conflicts=conflicts)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            record = merging.students_merge(
                actor=request.user,
                survivor_id=survivor.pk,
                merged_id=merged.pk,
                reason=form.cleaned_data["reason"],
                decisions=form.decisions(),
            )
        except merging.MergeRefused as refused:
            for conflict in refused.conflicts:
                name = "decide_" + conflict.key.replace(":", "_")
                if name in form.fields and conflict.choices:
                    form.add_error(name, _("Decide this before merging."))
                else:
                    form.add_error(None, conflict.message)
            form.add_error(None, refused.messages[0])
            status = 400
        except ValidationError as error:
            add_errors(form, error)
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
        log_view(
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
    access = require_capability(request, Capability.MANAGE_TEACHERS)
    page = paginate(request, consortium.pending_section_requests(access=access), per_page=25)
    return render(
        request,
        "enrollment/staff/section_requests.html",
        {"page": page, "form": SectionRequestDecisionForm()},
    )


@login_required
@require_POST
def section_request_decide(request, pk: int):
    access = require_capability(request, Capability.MANAGE_TEACHERS)
    get_in_scope(consortium.pending_section_requests(access=access), Q(), pk=pk)
    form = SectionRequestDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or decline."))
        return redirect("enrollment:section_requests")
    try:
        decided = class_requests.section_request_decide(
            actor=request.user,
            request_id=pk,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            _("The class is created.")
            if decided.status == SectionRequest.Status.APPROVED
            else _("The request is declined."),
        )
    return redirect("enrollment:section_requests")
