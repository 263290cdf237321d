"""The operations page for state staff: report jobs, scheduled jobs, emails, sign-in
lockouts and queues, as counts and job metadata (no student data); and its one action,
sending a failed or stuck report job to be built again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import access_for
from reports.models import ReportJob

from . import selectors, services


def _operations_access(request):
    access = access_for(request.user)
    if not selectors.may_view_operations(access):
        raise PermissionDenied
    return access


@never_cache
@login_required
def operations_home(request):
    access = _operations_access(request)
    overview = selectors.operations_overview(access=access)
    return render(request, "operations/home.html", {"overview": overview})


@login_required
@require_POST
def report_job_retry(request, job_id: int):
    _operations_access(request)
    try:
        job = services.report_job_retry(actor=request.user, job_id=job_id)
    except ReportJob.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Report #%(id)s was sent to be built again.") % {"id": job.pk})
    return redirect("operations:home")
