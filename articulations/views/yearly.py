"""The annual roll-over and the bulk import: consortium-wide jobs for consortium admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from accounts.permissions import Capability, access_for
from organisations.models import AcademicYear, Consortium
from organisations.selectors import academic_year_current
from sers.templatetags.sers_ui import EXTRA, field_item

from ..forms import ImportForm, RolloverForm
from ..importers import COLUMNS, template_csv, template_xlsx
from ..models import RolloverRun
from ..selectors import rollover_plan, rollover_runs
from ..services.bulk_import import ImportRejected, articulation_import
from ..services.rollover import rollover_request
from ..terms import TermsContext
from .public import wants_fragment

MANAGE = Capability.MANAGE_ARTICULATIONS


def _next_year_code(year: AcademicYear) -> str:
    return AcademicYear.code_for_start(int(year.code[:4]) + 1)


def _runs_context(consortium: Consortium) -> dict:
    runs = list(rollover_runs(consortium_ids=[consortium.pk])[:10])
    busy = any(r.status in (RolloverRun.Status.QUEUED, RolloverRun.Status.RUNNING) for r in runs)
    return {"runs": runs, "runs_busy": busy, "consortium": consortium}


@login_required
def rollover(request):
    """Preview the roll-over into the next school year, and start it."""
    access = access_for(request.user)
    access.require(MANAGE)
    consortia = Consortium.objects.filter(pk__in=access.consortium_ids).order_by("name")
    current = academic_year_current()
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = RolloverForm(
        data,
        consortia=consortia,
        initial={"consortium": consortia.first(), "from_year": current.code if current else None},
    )
    if form.is_bound and form.is_valid():
        consortium = form.cleaned_data["consortium"]
        from_year = form.cleaned_data["from_year"]
    else:
        consortium, from_year = consortia.first(), current
    if consortium is None or from_year is None:
        return render(request, "articulations/manage/rollover.html", {"form": form, "plan": None})
    if request.method == "POST" and form.is_valid():
        run = rollover_request(
            actor=request.user, consortium_id=consortium.pk, from_year_id=from_year.pk
        )
        messages.success(
            request,
            _("The roll-over from %(from)s to %(to)s has started. Its result appears below.")
            % {"from": run.from_year.code, "to": run.to_year.code},
        )
        query = urlencode({"consortium": consortium.pk, "from_year": from_year.code})
        return redirect(f"{reverse('articulations:rollover')}?{query}")
    to_code = _next_year_code(from_year)
    to_year = AcademicYear.objects.filter(code=to_code).first()
    plan = rollover_plan(consortium_id=consortium.pk, from_year=from_year, to_year=to_year)
    plan_stats = [
        {"label": _("Will renew"), "value": len(plan.renew)},
        {"label": _("Already renewed"), "value": len(plan.already_renewed)},
        {"label": _("Will lapse"), "value": len(plan.lapse)},
        {"label": _("Will be marked expired"), "value": len(plan.expire)},
    ]
    return render(
        request,
        "articulations/manage/rollover.html",
        {
            "form": form,
            "plan": plan,
            "plan_stats": plan_stats,
            "to_code": to_code,
            "from_year": from_year,
            **_runs_context(consortium),
        },
    )


@login_required
@require_GET
def rollover_runs_fragment(request):
    """The recent runs list, polled by the roll-over page while a run is in progress."""
    access = access_for(request.user)
    access.require(MANAGE)
    consortium = (
        Consortium.objects.filter(
            pk__in=access.consortium_ids, pk=request.GET.get("consortium")
        ).first()
        if request.GET.get("consortium", "").isdigit()
        else None
    )
    if consortium is None or not wants_fragment(request):
        return redirect("articulations:rollover")
    return render(request, "articulations/partials/rollover_runs.html", _runs_context(consortium))


@login_required
def import_agreements(request):
    """Upload a CSV or XLSX of agreements: all rows are checked, then all written or none."""
    access = access_for(request.user)
    access.require(MANAGE)
    consortia = Consortium.objects.filter(pk__in=access.consortium_ids).order_by("name")
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        consortia=consortia,
        initial={"consortium": consortia.first()},
    )
    problems: list[tuple[int, str]] = []
    notices: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = articulation_import(
                actor=request.user,
                consortium_id=form.cleaned_data["consortium"].pk,
                filename=upload.name,
                content=upload.content,
            )
        except ImportRejected as rejected:
            problems, notices = rejected.problems, rejected.notices
        else:
            messages.success(
                request,
                _(
                    "Import finished: %(created)s created, %(updated)s updated, %(unchanged)s "
                    "unchanged. New agreements are drafts."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
            for notice in result.notices:
                messages.warning(request, notice)
            return redirect("articulations:manage_list")
    summary = []
    if problems:
        summary.append(
            field_item(
                form["file"],
                ngettext(
                    "%(count)s problem to fix. Correct it (listed below), then upload the "
                    "file again.",
                    "%(count)s problems to fix. Correct them (listed below), then upload the "
                    "file again.",
                    len(problems),
                )
                % {"count": len(problems)},
            )
        )
    return render(
        request,
        "articulations/manage/import.html",
        {
            "form": form,
            "problems": problems,
            "notices": notices,
            "columns": COLUMNS,
            EXTRA: summary,
        },
    )


@login_required
@require_GET
def import_template(request, fmt: str):
    """An import file to fill in, with the consortium's own codes in the example row."""
    access = access_for(request.user)
    access.require(MANAGE)
    consortium = Consortium.objects.filter(pk__in=access.consortium_ids).order_by("name").first()
    context = TermsContext.load(consortium.pk) if consortium else None
    if fmt == "xlsx":
        response = HttpResponse(
            template_xlsx(context=context),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(template_csv(context=context), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="sers-agreements-template.{fmt}"'
    return response
