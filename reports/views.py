"""Pages: report jobs (ask, follow, download) and the reports dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, access_for
from organisations.models import AcademicYear
from organisations.selectors import academic_year_current
from sers.db_router import reporting_reads

from . import services
from .downloads import stored_file_response
from .exporters import content_type
from .forms import (
    DashboardExportForm,
    DashboardFilterForm,
    EnrollmentsExportForm,
    RerunForm,
    TranscriptReportForm,
)
from .selectors import dashboard as dashboard_selectors
from .selectors import jobs as job_selectors

JOBS_PER_PAGE = 25
# htmx stops polling when a response has this status (the job has finished).
HTMX_STOP_POLLING = 286


def _jobs_access(request):
    access = access_for(request.user)
    if not job_selectors.may_use_report_jobs(access):
        raise PermissionDenied
    return access


def _messages_from(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _job_sent(request, job) -> None:
    """Say what became of a report just asked for, as it stands now: where tasks run
    in-process it is built already. While it waits or runs, nothing is said here: the
    status on its page says so, and updates itself."""
    job.refresh_from_db()
    state = job_selectors.report_job_view(job).state
    if state == job_selectors.JobState.DONE:
        messages.success(request, _("Your report is ready to download."))
    elif state == job_selectors.JobState.FAILED:
        messages.error(request, _("Your report could not be built. Its page says why."))


@login_required
def report_jobs(request):
    """The user's reports, newest first, each with a status that updates itself."""
    access = _jobs_access(request)
    page = Paginator(job_selectors.report_jobs_visible(access=access), JOBS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    jobs = [job_selectors.report_job_view(job) for job in page.object_list]
    context = {
        "page": page,
        "jobs": jobs,
        "can_transcribe": job_selectors.may_request_transcript_reports(access),
        "can_view_reports": access.can(Capability.VIEW_REPORTS),
    }
    return render(request, "reports/jobs.html", context)


@login_required
def report_job_detail(request, job_id: int):
    """One report; for htmx polling, just its status fragment."""
    access = _jobs_access(request)
    job = get_object_or_404(job_selectors.report_jobs_visible(access=access), pk=job_id)
    view = job_selectors.report_job_view(job)
    if request.htmx:
        response = render(request, "reports/partials/job_status.html", {"view": view})
        if not view.is_active:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(
        request,
        "reports/job_detail.html",
        {
            "view": view,
            "job": job,
            "rerun_form": RerunForm(initial={"file_format": job.file_format}),
        },
    )


@login_required
def report_job_download(request, job_id: int):
    """The report's file, after checking the user may still have it; logged (FERPA)."""
    access = _jobs_access(request)
    job = get_object_or_404(job_selectors.report_jobs_visible(access=access), pk=job_id)
    if not job_selectors.report_job_permitted(job=job, access=access):
        raise PermissionDenied
    view = job_selectors.report_job_view(job)
    if not view.can_download:
        messages.error(
            request,
            _("This report has no file to download: %(state)s.") % {"state": view.state_label},
        )
        return redirect("reports:report_job_detail", job_id=job.pk)
    try:
        # Streamed, or a redirect to a short-lived signed link (reports/downloads.py).
        response = stored_file_response(
            job.file, file_name=job.file_name, content_type=content_type(job.file_name)
        )
    except FileNotFoundError:
        messages.error(request, _("The file of this report is missing. Run the report again."))
        return redirect("reports:report_job_detail", job_id=job.pk)
    services.report_job_download_logged(job=job, actor=request.user, request=request)
    return response


@login_required
@require_POST
def report_job_retry(request, job_id: int):
    access = _jobs_access(request)
    job = get_object_or_404(job_selectors.report_jobs_visible(access=access), pk=job_id)
    try:
        services.report_job_retry(job_id=job.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, _messages_from(error))
    else:
        _job_sent(request, job)
    return redirect("reports:report_job_detail", job_id=job.pk)


@login_required
@require_POST
def report_job_rerun(request, job_id: int):
    """A new report with exactly the rows of a past transcript-credit report."""
    access = _jobs_access(request)
    source = get_object_or_404(job_selectors.report_jobs_visible(access=access), pk=job_id)
    form = RerunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a file format from the list."))
        return redirect("reports:report_job_detail", job_id=source.pk)
    try:
        job = services.transcript_report_rerun(
            requester=request.user, source=source, file_format=form.cleaned_data["file_format"]
        )
    except ValidationError as error:
        messages.error(request, _messages_from(error))
        return redirect("reports:report_job_detail", job_id=source.pk)
    _job_sent(request, job)
    return redirect("reports:report_job_detail", job_id=job.pk)


@login_required
def report_transcript_new(request):
    """Ask for a transcript-credit report for a college (registrars; state staff)."""
    access = access_for(request.user)
    if not job_selectors.may_request_transcript_reports(access):
        raise PermissionDenied
    form = TranscriptReportForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.transcript_report_request(
                requester=request.user,
                college=data["college"],
                academic_year=data["academic_year"],
                term=data["term"],
                file_format=data["file_format"],
                only_new=data["only_new"],
                marks_sent=data["marks_sent"],
                since=data["since"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _job_sent(request, job)
            return redirect("reports:report_job_detail", job_id=job.pk)
    return render(request, "reports/transcript_new.html", {"form": form})


@login_required
def report_dashboard(request):
    """Numbers, charts and tables for the user's reporting scope; htmx gets the results."""
    access = access_for(request.user)
    access.require(Capability.VIEW_REPORTS)
    data = request.GET.copy()
    if "academic_year" not in data:
        current = academic_year_current()
        data["academic_year"] = str(current.pk) if current else ""
    form = DashboardFilterForm(data)
    if not form.is_valid():
        form = DashboardFilterForm(data={"academic_year": "", "dimension": "consortium"})
        form.is_valid()
        messages.error(request, _("Those filters are not valid; showing every school year."))
    year = form.cleaned_data["academic_year"]
    dimension = form.cleaned_data["dimension"] or "consortium"
    with reporting_reads():  # the reporting replica, when there is one (sers/db_router.py)
        dashboard = dashboard_selectors.dashboard_report(
            access=access, academic_year_id=year.pk if year else None, dimension=dimension
        )
    context = {
        "form": form,
        "dashboard": dashboard,
        "year": year,
        "dimension": dashboard_selectors.DIMENSIONS[dimension],
        "years": list(AcademicYear.objects.all()),
        "can_export_enrollments": access.can(Capability.VIEW_ENROLLMENTS),
        "can_transcribe": job_selectors.may_request_transcript_reports(access),
    }
    if request.htmx and request.htmx.target == "dashboard-results":
        return render(request, "reports/partials/dashboard_results.html", context)
    return render(request, "reports/dashboard.html", context)


@login_required
@require_POST
def report_dashboard_export(request):
    """Export one dashboard table as CSV or XLSX through a report job."""
    access = access_for(request.user)
    access.require(Capability.VIEW_REPORTS)
    form = DashboardExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That export is not available. Choose it from the page."))
        return redirect("reports:report_dashboard")
    data = form.cleaned_data
    job = services.dashboard_export_request(
        requester=request.user,
        table=data["table"],
        academic_year=data["academic_year"],
        dimension=data["dimension"],
        file_format=data["file_format"],
    )
    _job_sent(request, job)
    return redirect("reports:report_job_detail", job_id=job.pk)


@login_required
@require_POST
def report_enrollments_export(request):
    """Export every enrollment of a school year in the user's scope (SERS ids, no names)."""
    access = access_for(request.user)
    access.require(Capability.VIEW_REPORTS)
    access.require(Capability.VIEW_ENROLLMENTS)
    form = EnrollmentsExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a school year and a file format."))
        return redirect("reports:report_dashboard")
    job = services.enrollments_export_request(
        requester=request.user,
        academic_year=form.cleaned_data["academic_year"],
        file_format=form.cleaned_data["file_format"],
    )
    _job_sent(request, job)
    return redirect("reports:report_job_detail", job_id=job.pk)
