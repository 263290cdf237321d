"""Reads for report jobs: who may ask for which report, the colleges whose transcript
reports a user may build, the jobs a user may see, and each job's state and description."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import Access, Capability
from enrollment.models import Section
from organisations.models import College

from ..models import ReportJob
from .dashboard import DASHBOARD_TABLES, DIMENSIONS


def may_request_transcript_reports(access: Access) -> bool:
    return access.can(Capability.TRANSCRIBE) or access.is_state


def may_use_report_jobs(access: Access) -> bool:
    return may_request_transcript_reports(access) or access.can(Capability.VIEW_REPORTS)


def transcript_colleges(*, access: Access) -> QuerySet[College]:
    """Colleges whose transcript-credit reports the user may build: state staff, any."""
    if access.is_state:
        return College.objects.all()
    return College.objects.filter(pk__in=access.registrar_college_ids)


def report_job_permitted(*, job: ReportJob, access: Access | None) -> bool:
    """Whether `access` may have this job's file now. None is SERS itself (nightly jobs)."""
    if access is None:
        return job.requested_by_id is None
    if job.kind == ReportJob.Kind.TRANSCRIPT_CREDIT:
        if access.can(Capability.TRANSCRIBE) and job.college_id in access.registrar_college_ids:
            return True
        # State staff follow the nightly files but may have only the ones they asked for,
        # which are built without birth dates (reports.exporters); the college's own
        # files carry them for the registrar.
        return access.is_state and job.requested_by_id == access.user_id
    if job.kind == ReportJob.Kind.ENROLLMENTS:
        return access.can(Capability.VIEW_REPORTS) and access.can(Capability.VIEW_ENROLLMENTS)
    return access.can(Capability.VIEW_REPORTS)


def report_job_role(*, job: ReportJob, access: Access) -> str:
    """The role a user acts under when building or downloading this job's file."""
    if job.kind == ReportJob.Kind.TRANSCRIPT_CREDIT:
        return (
            Role.REGISTRAR if job.college_id in access.registrar_college_ids else Role.STATE_STAFF
        )
    for role in (Role.STATE_STAFF, Role.CONSORTIUM_ADMIN, Role.CAREER_SPECIALIST):
        if access.has_role(role):
            return role
    return ""


def report_jobs_visible(*, access: Access) -> QuerySet[ReportJob]:
    """Jobs a user may see: their own, and the reports SERS built by itself (nightly, or
    by the transcript_report command) for their colleges."""
    if access.user_id is None:
        return ReportJob.objects.none()
    visible = Q(requested_by_id=access.user_id)
    if access.is_state:
        visible |= Q(requested_by__isnull=True)
    elif access.registrar_college_ids:
        visible |= Q(requested_by__isnull=True, college_id__in=access.registrar_college_ids)
    return ReportJob.objects.filter(visible).select_related(
        "college", "academic_year", "requested_by"
    )


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    STUCK = "stuck"
    DONE = "done"
    EXPIRED = "expired"
    FAILED = "failed"

    LABELS = {
        QUEUED: _("Waiting to start"),
        RUNNING: _("Running"),
        STUCK: _("Stuck"),
        DONE: _("Ready"),
        EXPIRED: _("File deleted"),
        FAILED: _("Failed"),
    }


@dataclass
class JobView:
    """A job as its owner sees it: a state that tells stuck from running."""

    job: ReportJob
    state: str

    @property
    def state_label(self):
        return JobState.LABELS[self.state]

    @property
    def can_download(self) -> bool:
        return self.state == JobState.DONE

    @property
    def can_retry(self) -> bool:
        return self.state in (JobState.FAILED, JobState.STUCK)

    @property
    def can_rerun(self) -> bool:
        return self.job.kind == ReportJob.Kind.TRANSCRIPT_CREDIT and self.job.status == "done"

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    @property
    def parameters_text(self) -> str:
        return report_job_description(self.job)


def report_job_state(job: ReportJob, *, now: datetime.datetime | None = None) -> str:
    """Queued, running, stuck, done, expired or failed.

    Stuck: running past the task's hard time limit, or with no sign of life (heartbeat)
    for SERS_REPORT_STALE_SECONDS; or waiting to start longer than the time limit.
    """
    now = now or timezone.now()
    time_limit = datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    stale = datetime.timedelta(seconds=settings.SERS_REPORT_STALE_SECONDS)
    S_ = ReportJob.Status
    if job.status == S_.DONE:
        return JobState.EXPIRED if job.file_deleted_at else JobState.DONE
    if job.status == S_.FAILED:
        return JobState.FAILED
    if job.status == S_.RUNNING:
        started = job.started_at or job.created_at
        last_sign = job.heartbeat_at or started
        if now - started > time_limit or now - last_sign > stale:
            return JobState.STUCK
        return JobState.RUNNING
    return JobState.STUCK if now - job.queued_at > time_limit else JobState.QUEUED


def report_job_view(job: ReportJob, *, now: datetime.datetime | None = None) -> JobView:
    return JobView(job=job, state=report_job_state(job, now=now))


def report_job_description(job: ReportJob) -> str:
    """The choices behind a job in a few words, for lists and emails (no personal data)."""
    parts: list[str] = []
    if job.college_id:
        parts.append(job.college.name)
    if job.kind == ReportJob.Kind.DASHBOARD_TABLE:
        table = DASHBOARD_TABLES.get(job.parameters.get("table", ""))
        if table:
            parts.append(str(table))
        dimension = DIMENSIONS.get(job.parameters.get("dimension", ""))
        if job.parameters.get("table") == "breakdown" and dimension:
            parts.append(str(_("by %(dimension)s") % {"dimension": dimension.label.lower()}))
    parts.append(job.academic_year.code if job.academic_year_id else str(_("all school years")))
    if job.term:
        parts.append(str(dict(Section.Term.choices).get(job.term, job.term)))
    if job.source_job_id:
        parts.append(str(_("the rows of report #%(id)s") % {"id": job.source_job_id}))
    since = (job.parameters or {}).get("since")
    if since:
        parts.append(str(_("attained on or after %(day)s") % {"day": since}))
    if job.only_new:
        parts.append(str(_("only rows not sent before")))
    if job.marks_sent:
        parts.append(str(_("marks rows as sent")))
    return " · ".join(parts)
