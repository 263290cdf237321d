"""Writes for reporting: report jobs."""

import datetime
import logging
import secrets
import tempfile
import time
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.models import AccessLogEntry, AccessLogStudent
from accesslog.services import access_log_record
from accounts.models import Role, User
from accounts.permissions import Capability, access_for
from accounts.services import email_send_once
from enrollment.models import Enrollment, Section
from enrollment.rules import eligible_for_transcription_q
from organisations.models import AcademicYear, College
from sers import metrics
from sers.db_router import reporting_reads

from . import tasks
from .exporters import EXPORTERS, exporter_for
from .models import ReportJob
from .selectors import dashboard as dashboard_selectors
from .selectors import jobs as job_selectors
from .transcript_credit import already_sent_q

logger = logging.getLogger(__name__)


# --- report jobs ----------------------------------------------------------------------


class JobSuperseded(Exception):
    """Another run of the same job took over (a redelivered task); this run stops."""


def _send_job(job: ReportJob) -> None:
    tasks.run_report_job.delay_on_commit(job.pk)


def transcript_report_request(
    *,
    requester: User,
    college: College,
    academic_year: AcademicYear | None,
    term: str,
    file_format: str,
    only_new: bool,
    marks_sent: bool,
    since: datetime.date | None = None,
) -> ReportJob:
    """Queue a transcript-credit report for a college; it runs once the request commits."""
    access = access_for(requester)
    if not job_selectors.may_request_transcript_reports(access):
        raise PermissionDenied
    if not job_selectors.transcript_colleges(access=access).filter(pk=college.pk).exists():
        raise ValidationError(_("You cannot build reports for this college."), code="college")
    with transaction.atomic():
        job = _transcript_job_create(
            requested_by=requester,
            origin=ReportJob.Origin.SITE,
            college=college,
            academic_year=academic_year,
            term=term,
            file_format=file_format,
            only_new=only_new,
            marks_sent=marks_sent,
            since=since,
        )
        _send_job(job)
    logger.info("report job queued: job_id=%s kind=%s user_id=%s", job.pk, job.kind, requester.pk)
    return job


def transcript_report_build(
    *,
    college: College,
    academic_year: AcademicYear | None,
    term: str,
    file_format: str,
    only_new: bool,
    marks_sent: bool,
    since: datetime.date | None = None,
) -> ReportJob:
    """The same report asked for by SERS itself (the transcript_report command), built
    here and now rather than by a worker: the same job, checks, rows, "sent" marks and
    access-log entry as a registrar's, with SERS as the actor (as for the nightly
    reports). Returns the finished (done or failed) job."""
    with transaction.atomic():
        job = _transcript_job_create(
            requested_by=None,
            origin=ReportJob.Origin.COMMAND,
            college=college,
            academic_year=academic_year,
            term=term,
            file_format=file_format,
            only_new=only_new,
            marks_sent=marks_sent,
            since=since,
        )
    logger.info("report job by command: job_id=%s college_id=%s", job.pk, college.pk)
    report_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _transcript_job_create(
    *,
    requested_by: User | None,
    origin: str,
    college: College,
    academic_year: AcademicYear | None,
    term: str,
    file_format: str,
    only_new: bool,
    marks_sent: bool,
    since: datetime.date | None,
) -> ReportJob:
    """Check a transcript report's choices and create its job (inside the caller's
    transaction)."""
    if term and term not in Section.Term.values:
        raise ValidationError(_("Choose a term from the list."), code="term")
    if term and academic_year is None:
        raise ValidationError(_("Choose the school year of the term."), code="term_year")
    _check_format(ReportJob.Kind.TRANSCRIPT_CREDIT, file_format)
    return ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        origin=origin,
        file_format=file_format,
        requested_by=requested_by,
        college=college,
        academic_year=academic_year,
        term=term,
        only_new=only_new,
        marks_sent=marks_sent,
        parameters={"since": since.isoformat()} if since else {},
    )


def transcript_report_rerun(*, requester: User, source: ReportJob, file_format: str) -> ReportJob:
    """A new job with exactly the rows of a past transcript report (in any format)."""
    access = access_for(requester)
    if not job_selectors.report_job_permitted(job=source, access=access):
        raise PermissionDenied
    if source.kind != ReportJob.Kind.TRANSCRIPT_CREDIT or source.status != ReportJob.Status.DONE:
        raise ValidationError(_("Only a finished transcript-credit report can be run again."))
    _check_format(ReportJob.Kind.TRANSCRIPT_CREDIT, file_format)
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
            file_format=file_format,
            requested_by=requester,
            college_id=source.college_id,
            academic_year_id=source.academic_year_id,
            term=source.term,
            source_job=source,
        )
        _send_job(job)
    return job


def dashboard_export_request(
    *,
    requester: User,
    table: str,
    academic_year: AcademicYear | None,
    dimension: str,
    file_format: str,
) -> ReportJob:
    """Queue the CSV/XLSX export of one dashboard table."""
    access = access_for(requester)
    access.require(Capability.VIEW_REPORTS)
    if table not in dashboard_selectors.DASHBOARD_TABLES:
        raise ValidationError(_("Choose a table to export."), code="table")
    if dimension and dimension not in dashboard_selectors.DIMENSIONS:
        raise ValidationError(_("Choose a breakdown from the list."), code="dimension")
    _check_format(ReportJob.Kind.DASHBOARD_TABLE, file_format)
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.DASHBOARD_TABLE,
            file_format=file_format,
            requested_by=requester,
            # The year-by-cluster table always covers every year.
            academic_year=None if table == "year_cluster" else academic_year,
            parameters={"table": table, "dimension": dimension if table == "breakdown" else ""},
        )
        _send_job(job)
    return job


def enrollments_export_request(
    *, requester: User, academic_year: AcademicYear | None, file_format: str
) -> ReportJob:
    """Queue the export of every enrollment of a school year in the user's reporting scope."""
    access = access_for(requester)
    access.require(Capability.VIEW_REPORTS)
    access.require(Capability.VIEW_ENROLLMENTS)
    _check_format(ReportJob.Kind.ENROLLMENTS, file_format)
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.ENROLLMENTS,
            file_format=file_format,
            requested_by=requester,
            academic_year=academic_year,
        )
        _send_job(job)
    return job


def _check_format(kind: str, file_format: str) -> None:
    if file_format not in EXPORTERS[kind].formats:
        raise ValidationError(_("Choose a file format from the list."), code="format")


def report_job_retry(*, job_id: int, actor: User) -> ReportJob:
    """Queue a failed or stuck job again. The new run takes over from a stuck one."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if job_selectors.report_job_state(job) not in (
            job_selectors.JobState.FAILED,
            job_selectors.JobState.STUCK,
        ):
            raise ValidationError(_("This report is not failed or stuck; it needs no retry."))
        if not job_selectors.report_job_permitted(job=job, access=access_for(actor)):
            raise PermissionDenied
        job.status = ReportJob.Status.QUEUED
        job.progress = 0
        job.error = ""
        job.queued_at = timezone.now()  # the wait for a worker starts again
        job.save(update_fields=["status", "progress", "error", "queued_at"])
        _send_job(job)
    logger.info("report job retried: job_id=%s user_id=%s", job.pk, actor.pk)
    return job


def report_job_run(*, job_id: int) -> str:
    """Build a job's file. Safe to run twice; returns what happened, for logs and tests.

    - A finished job (done or failed) is left alone: a re-delivered task does nothing.
    - Each run takes the job over with a fresh token; progress updates check the token,
      so an older run still going (a stuck worker that woke up) stops instead of racing.
    - The requester's permission is checked again here: roles can change after asking.
    - The file is written to a temporary file, then stored under a name derived from the
      job id, replacing whatever an interrupted run left there: never two files.
    """
    token = secrets.token_hex(16)
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return "skipped"
        now = timezone.now()
        job.status = ReportJob.Status.RUNNING
        job.run_token = token
        job.attempts += 1
        job.started_at = now
        job.heartbeat_at = now
        job.progress = 0
        job.save(
            update_fields=[
                "status",
                "run_token",
                "attempts",
                "started_at",
                "heartbeat_at",
                "progress",
            ]
        )
    logger.info("report job running: job_id=%s attempt=%s", job.pk, job.attempts)
    job = ReportJob.objects.select_related("college", "academic_year", "requested_by").get(
        pk=job.pk
    )
    # None: SERS itself (the nightly reports); an inactive requester gets no access.
    access = access_for(job.requested_by) if job.requested_by_id else None
    if not job_selectors.report_job_permitted(job=job, access=access):
        _fail(job, token, _("You no longer have access to this report, so it was not built."))
        return "forbidden"
    try:
        return _build(job, token, access)
    except JobSuperseded:
        logger.info("report job superseded: job_id=%s", job.pk)
        return "superseded"
    except SoftTimeLimitExceeded:
        logger.warning("report job over its time limit: job_id=%s", job.pk)
        _fail(job, token, _("The report took longer than the time limit. Try a smaller one."))
        return "failed"
    except Exception:
        logger.exception("report job failed: job_id=%s", job.pk)
        _fail(job, token, _("Something went wrong while building the report. Try again."))
        return "failed"


def _build(job: ReportJob, token: str, access) -> str:
    exporter = exporter_for(job, access)
    with transaction.atomic():
        # Lock the college so two "only new rows" reports cannot take the same rows.
        if job.college_id:
            College.objects.select_for_update().filter(pk=job.college_id).first()
        # The rows are chosen on the reporting replica once it has replayed everything
        # committed before the lock, the rows earlier reports took included (else on the
        # primary), and stored by their ids: the rows marked as sent are the rows read.
        with reporting_reads(fresh=True):
            exporter.prepare()
        updated = ReportJob.objects.filter(pk=job.pk, run_token=token).update(rows_saved=True)
        if not updated:
            raise JobSuperseded
        job.rows_saved = True
    total = 0
    delay = settings.SERS_REPORT_CHUNK_DELAY_MS / 1000

    def on_progress(done: int) -> None:
        progress = min(99, int(100 * done / total)) if total else 99
        updated = ReportJob.objects.filter(pk=job.pk, run_token=token).update(
            progress=progress, heartbeat_at=timezone.now()
        )
        if not updated:
            raise JobSuperseded
        if delay and done < total:
            time.sleep(delay)

    file_name = exporter.file_name()
    storage_name = f"reports/jobs/{job.pk}/{file_name}"
    with tempfile.TemporaryDirectory(prefix=f"sers-report-{job.pk}-") as folder:
        path = Path(folder) / file_name
        # The file, and the students it lists, from the replica once it has the row set
        # stored above (else from the primary): the same rows either way.
        with reporting_reads(fresh=True):
            total = exporter.count()
            row_count = exporter.write(path, on_progress)
            student_ids = exporter.student_ids()
            student_ids = None if student_ids is None else list(student_ids)
        with transaction.atomic():
            locked = ReportJob.objects.select_for_update().get(pk=job.pk)
            if locked.run_token != token or locked.is_finished:
                raise JobSuperseded
            default_storage.delete(storage_name)
            with path.open("rb") as handle:
                stored = default_storage.save(storage_name, File(handle))
            if stored != storage_name:
                raise RuntimeError(f"storage renamed {storage_name} to {stored}")
            log_entry = None
            if student_ids is not None:
                what = f"report job {job.pk}: {job.get_kind_display()}"
                if job.is_by_command:
                    what += " (manage.py transcript_report)"
                log_entry = access_log_record(
                    actor=job.requested_by,  # None: SERS itself (nightly, command)
                    action=AccessLogEntry.Action.EXPORT,
                    what=what,
                    student_ids=student_ids,
                    role=job_selectors.report_job_role(job=job, access=access) if access else "",
                )
            now = timezone.now()
            locked.status = ReportJob.Status.DONE
            locked.progress = 100
            locked.row_count = row_count
            locked.file = storage_name
            locked.file_name = file_name
            locked.file_size = path.stat().st_size
            locked.finished_at = now
            locked.heartbeat_at = now
            locked.expires_at = now + datetime.timedelta(days=settings.SERS_REPORT_FILE_DAYS)
            locked.export_log_entry = log_entry
            locked.error = ""
            locked.save(
                update_fields=[
                    "status",
                    "progress",
                    "row_count",
                    "file",
                    "file_name",
                    "file_size",
                    "finished_at",
                    "heartbeat_at",
                    "expires_at",
                    "export_log_entry",
                    "error",
                ]
            )
            if locked.is_nightly and row_count:
                tasks.send_transcript_report_emails.delay_on_commit(locked.pk)
            transaction.on_commit(lambda: _observe_duration(locked, "done"))
    logger.info("report job done: job_id=%s rows=%s", job.pk, row_count)
    return "done"


def _fail(job: ReportJob, token: str, message: str) -> None:
    now = timezone.now()
    failed = (
        ReportJob.objects.filter(pk=job.pk, run_token=token)
        .exclude(status=ReportJob.Status.DONE)
        .update(status=ReportJob.Status.FAILED, error=str(message), finished_at=now)
    )
    if failed:
        job.finished_at = now
        _observe_duration(job, "failed")


def _observe_duration(job: ReportJob, outcome: str) -> None:
    """sers_report_job_duration_seconds: from this run's start to its end."""
    if job.started_at is None or job.finished_at is None:
        return
    seconds = max(0.0, (job.finished_at - job.started_at).total_seconds())
    metrics.REPORT_JOB_DURATION.labels(kind=job.kind, outcome=outcome).observe(seconds)


def report_job_download_logged(*, job: ReportJob, actor: User, request=None) -> None:
    """Log a download of a job's file: the same students its build logged as exported."""
    if job.export_log_entry_id is None:
        return
    access = access_for(actor)
    access_log_record(
        actor=actor,
        action=AccessLogEntry.Action.DOWNLOAD,
        what=f"report job {job.pk}: {job.get_kind_display()}",
        student_ids=AccessLogStudent.objects.filter(entry_id=job.export_log_entry_id).values_list(
            "student_id", flat=True
        ),
        role=job_selectors.report_job_role(job=job, access=access),
        request=request,
    )


def nightly_transcript_reports(*, today: datetime.date | None = None) -> list[int]:
    """Queue a transcript-credit report for each college with rows not sent yet.

    One per college per night (a unique key, so running the schedule twice queues
    nothing more). Each report marks its rows as sent, so the next night's report holds
    only new rows; when it is built, the college's registrars get an email with a link.
    """
    today = today or timezone.localdate()
    with reporting_reads():  # a college the replica misses tonight is in tomorrow's
        college_ids = list(
            Enrollment.objects.filter(eligible_for_transcription_q())
            .exclude(already_sent_q())
            .order_by("section__articulation__college_id")
            .values_list("section__articulation__college_id", flat=True)
            .distinct()
        )
    created = []
    for college_id in college_ids:
        with transaction.atomic():
            job, is_new = ReportJob.objects.get_or_create(
                nightly_key=f"transcript:{college_id}:{today.isoformat()}",
                defaults={
                    "kind": ReportJob.Kind.TRANSCRIPT_CREDIT,
                    "origin": ReportJob.Origin.NIGHTLY,
                    "file_format": ReportJob.Format.XLSX,
                    "college_id": college_id,
                    "only_new": True,
                    "marks_sent": True,
                },
            )
            if is_new:
                _send_job(job)
                created.append(job.pk)
    logger.info("nightly transcript reports queued: %s", len(created))
    return created


def transcript_report_emails_send(*, job_id: int) -> int:
    """Email each registrar of the college a link to a finished nightly report, once."""
    job = ReportJob.objects.select_related("college").get(pk=job_id)
    if job.status != ReportJob.Status.DONE or not job.is_nightly:
        return 0
    registrars = User.objects.filter(
        is_active=True,
        memberships__role=Role.REGISTRAR,
        memberships__college_id=job.college_id,
    ).distinct()
    sent = 0
    link = settings.SERS_BASE_URL.rstrip("/") + reverse("reports:report_job_detail", args=[job.pk])
    for user in registrars:
        sent += email_send_once(
            user=user,
            kind="transcript_report_ready",
            dedupe_key=f"transcript-nightly:{job.nightly_key}:{user.pk}",
            subject_template="reports/emails/transcript_ready_subject.txt",
            body_template="reports/emails/transcript_ready_body.txt",
            context={"job": job, "link": link},
        )
    return sent


def report_files_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of finished jobs past their expiry date; the job rows stay."""
    now = now or timezone.now()
    expired = ReportJob.objects.filter(
        status=ReportJob.Status.DONE, expires_at__lt=now, file_deleted_at__isnull=True
    ).exclude(file="")
    count = 0
    for job in expired.iterator():
        with transaction.atomic():
            locked = ReportJob.objects.select_for_update().get(pk=job.pk)
            if locked.file_deleted_at is not None:
                continue
            default_storage.delete(locked.file)
            locked.file_deleted_at = now
            locked.save(update_fields=["file_deleted_at"])
            count += 1
    return count
