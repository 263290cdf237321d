"""Writes from the operations page: sending a failed or stuck report job to be built again."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Capability, access_for
from reports import tasks as report_tasks
from reports.models import ReportJob
from reports.selectors.jobs import JobState, report_job_state

logger = logging.getLogger(__name__)


def report_job_retry(*, actor: User, job_id: int) -> ReportJob:
    """Queue a failed or stuck report job again, for state staff running SERS.

    reports.services.report_job_retry is the owner's retry: it lets only someone who may
    have the job's file retry it. Here state staff retry any job without getting its
    file: the worker re-checks the requester's permission when it runs
    (reports.services.report_job_run) and the file stays the requester's. The job is
    locked, so two clicks queue it once: the second finds it waiting and is refused.
    Raises PermissionDenied (not state staff), ReportJob.DoesNotExist (no such job) or
    ValidationError (the job is not failed or stuck).
    """
    access_for(actor).require(Capability.VIEW_OPERATIONS)
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if report_job_state(job) not in (JobState.FAILED, JobState.STUCK):
            raise ValidationError(
                _("Report #%(id)s is not failed or stuck; it needs no retry.") % {"id": job.pk},
                code="not_retryable",
            )
        job.status = ReportJob.Status.QUEUED
        job.progress = 0
        job.error = ""
        job.queued_at = timezone.now()  # the wait for a worker starts again
        job.save(update_fields=["status", "progress", "error", "queued_at"])
        # The reports app's way of starting a job (reports.services._send_job): on commit.
        report_tasks.run_report_job.delay_on_commit(job.pk)
    logger.info(
        "report job retried from the operations page: job_id=%s user_id=%s", job.pk, actor.pk
    )
    return job
