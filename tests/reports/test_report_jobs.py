"""Report jobs: queued on commit, permission re-checked in the task, safe to run twice."""

import datetime
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from accesslog.models import AccessLogEntry, AccessLogStudent
from accounts.models import Role, RoleMembership
from enrollment.models import EnrollmentStatus as S
from enrollment.services.transitions import enrollment_change_status
from reports import exporters, services
from reports.models import ReportJob, TranscriptReportRow
from reports.selectors import jobs as job_selectors
from tests.factories import UserFactory, make_staff
from tests.reports.conftest import College

pytestmark = pytest.mark.django_db


def request_report(college: College, *, user=None, **options):
    fields = {
        "academic_year": None,
        "term": "",
        "file_format": "csv",
        "only_new": False,
        "marks_sent": False,
        **options,
    }
    return services.transcript_report_request(
        requester=user or college.registrar, college=college.college, **fields
    )


def files_of(job: ReportJob) -> list[str]:
    _dirs, files = default_storage.listdir(f"reports/jobs/{job.pk}")
    return files


def test_a_requested_report_runs_after_the_request_commits(
    college, django_capture_on_commit_callbacks
):
    enrollment = college.eligible()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = request_report(college)
    assert job.status == ReportJob.Status.QUEUED  # nothing ran inside the transaction
    assert len(callbacks) == 1

    callbacks[0]()

    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    assert (job.progress, job.row_count, job.attempts) == (100, 2, 1)
    assert job.file == f"reports/jobs/{job.pk}/{job.file_name}"
    assert (
        job.file_name
        == f"transcript-credit-{college.college.code.lower()}-all-years-job{job.pk}.csv"
    )
    assert default_storage.exists(job.file)
    assert job.file_size == default_storage.size(job.file)
    assert job.expires_at > timezone.now() + datetime.timedelta(days=13)
    # Building the file is an export of these students' records, logged as such.
    entry = job.export_log_entry
    assert (entry.action, entry.actor, entry.role) == ("export", college.registrar, "registrar")
    assert list(entry.students.values_list("student_id", flat=True)) == [enrollment.student_id]


def test_the_task_rechecks_the_requesters_permission(college, django_capture_on_commit_callbacks):
    college.eligible()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = request_report(college)
    # The registrar leaves the college between asking and the worker running the job.
    RoleMembership.objects.filter(user=college.registrar).delete()

    callbacks[0]()

    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
    assert "no longer have access" in job.error
    assert job.file == ""
    assert not TranscriptReportRow.objects.filter(job=job).exists()
    assert not AccessLogEntry.objects.exists()


def test_an_inactive_requester_gets_nothing(college):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    type(college.registrar).objects.filter(pk=college.registrar.pk).update(is_active=False)

    assert services.report_job_run(job_id=job.pk) == "forbidden"
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED


def test_the_request_checks_the_college(college, year):
    other = College(year)
    with pytest.raises(ValidationError):
        request_report(other, user=college.registrar)
    with pytest.raises(PermissionDenied):
        request_report(college, user=UserFactory())
    with pytest.raises(ValidationError):
        request_report(college, term="fall")  # a term needs its school year
    with pytest.raises(ValidationError):
        request_report(college, file_format="pdf")
    assert not ReportJob.objects.exists()


def test_state_staff_may_report_on_any_college(college, django_capture_on_commit_callbacks):
    college.eligible()
    state = make_staff(Role.STATE_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = request_report(college, user=state)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    assert job.export_log_entry.role == "state_staff"


def test_running_a_done_job_again_does_nothing(college):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    assert services.report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    before = (job.finished_at, job.file, job.attempts, job.export_log_entry_id)

    assert services.report_job_run(job_id=job.pk) == "skipped"

    job.refresh_from_db()
    assert (job.finished_at, job.file, job.attempts, job.export_log_entry_id) == before
    assert files_of(job) == [job.file_name]
    assert TranscriptReportRow.objects.filter(job=job).count() == 1
    assert AccessLogEntry.objects.count() == 1


def test_a_run_after_a_crash_rewrites_the_same_file(college, monkeypatch):
    """A worker dies after storing the rows and part of the file: the next run finishes
    the job with the same rows, at the same path, once."""
    enrollments = [college.eligible() for _ in range(3)]
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=college.registrar,
        college=college.college,
        marks_sent=True,
    )

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: no exception handler in the task gets to run."""

    real_write_csv = exporters.write_csv

    def write_then_die(path, headers, rows):
        real_write_csv(path, headers, rows)
        name = f"reports/jobs/{job.pk}/{Path(path).name}"
        default_storage.save(name, open(path, "rb"))  # noqa: SIM115 - closed by save
        raise WorkerKilled

    monkeypatch.setattr(exporters, "write_csv", write_then_die)
    with pytest.raises(WorkerKilled):
        services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.RUNNING
    assert job.rows_saved
    assert len(files_of(job)) == 1
    # Meanwhile a new enrollment becomes eligible: the stored row set does not change.
    college.eligible()

    monkeypatch.setattr(exporters, "write_csv", real_write_csv)
    assert services.report_job_run(job_id=job.pk) == "done"

    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE
    assert job.attempts == 2
    assert job.row_count == 6
    assert files_of(job) == [job.file_name]
    assert set(
        TranscriptReportRow.objects.filter(job=job).values_list("enrollment", flat=True)
    ) == {e.pk for e in enrollments}
    assert AccessLogEntry.objects.filter(action="export").count() == 1


def test_an_older_run_stops_when_a_newer_one_took_over(college, settings, monkeypatch):
    college.eligible()
    college.eligible()
    settings.SERS_REPORT_CHUNK_SIZE = 1
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    real_write_csv = exporters.write_csv

    def taken_over(path, headers, rows):
        ReportJob.objects.filter(pk=job.pk).update(run_token="another-run")
        return real_write_csv(path, headers, rows)

    monkeypatch.setattr(exporters, "write_csv", taken_over)

    assert services.report_job_run(job_id=job.pk) == "superseded"
    job.refresh_from_db()
    assert job.status == ReportJob.Status.RUNNING  # left for the run that took over
    assert job.file == ""
    assert not default_storage.exists(f"reports/jobs/{job.pk}")


def test_a_failed_job_shows_a_message_and_can_be_retried(
    college, monkeypatch, django_capture_on_commit_callbacks
):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exporters, "write_csv", broken)
    assert services.report_job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED
    assert job.error == "Something went wrong while building the report. Try again."
    assert job_selectors.report_job_view(job).can_retry

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.report_job_retry(job_id=job.pk, actor=college.registrar)

    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == (ReportJob.Status.DONE, "", 2)
    assert TranscriptReportRow.objects.filter(job=job).count() == 1


def test_a_job_over_its_soft_time_limit_fails_clearly(college, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(exporters, "write_csv", too_slow)
    assert services.report_job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert "time limit" in job.error


def test_stuck_jobs_are_shown_as_stuck_and_may_be_retried(
    college, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=college.registrar,
        college=college.college,
        status="running",
        started_at=now - datetime.timedelta(minutes=2),
        heartbeat_at=now - datetime.timedelta(seconds=30),
    )
    assert job_selectors.report_job_state(job, now=now) == "running"
    with pytest.raises(ValidationError):
        services.report_job_retry(job_id=job.pk, actor=college.registrar)

    stale = now + datetime.timedelta(seconds=settings.SERS_REPORT_STALE_SECONDS)
    assert job_selectors.report_job_state(job, now=stale) == "stuck"
    over_limit = job.started_at + datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    job.heartbeat_at = over_limit
    assert job_selectors.report_job_state(job, now=over_limit) == "stuck"
    never_started = ReportJob(status="queued", queued_at=now - datetime.timedelta(hours=1))
    assert job_selectors.report_job_state(never_started, now=now) == "stuck"

    ReportJob.objects.filter(pk=job.pk).update(heartbeat_at=now - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.report_job_retry(job_id=job.pk, actor=college.registrar)
    job.refresh_from_db()
    assert job.status == "done"  # retried, and (in-process) built at once


def test_a_past_report_runs_again_with_exactly_its_rows(
    college, django_capture_on_commit_callbacks
):
    first = college.eligible()
    second = college.eligible()
    with django_capture_on_commit_callbacks(execute=True):
        original = request_report(college, marks_sent=True)
    original.refresh_from_db()
    # Since then: one row was transcribed (no longer eligible), a new one became eligible.
    enrollment_change_status(
        enrollment_id=second.pk,
        to_status=S.TRANSCRIBED,
        actor=college.registrar,
        transcribed_on=datetime.date(2027, 1, 15),
        college_student_id="C-1",
    )
    college.eligible()

    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.transcript_report_rerun(
            requester=college.registrar, source=original, file_format="xlsx"
        )

    rerun.refresh_from_db()
    assert rerun.status == ReportJob.Status.DONE
    assert rerun.source_job == original
    assert not rerun.marks_sent
    assert set(
        TranscriptReportRow.objects.filter(job=rerun).values_list("enrollment", flat=True)
    ) == {
        first.pk,
        second.pk,
    }
    assert rerun.row_count == original.row_count == 4
    assert rerun.file != original.file


def test_only_a_finished_transcript_report_can_be_run_again(college):
    queued = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    with pytest.raises(ValidationError):
        services.transcript_report_rerun(
            requester=college.registrar, source=queued, file_format="csv"
        )
    outsider = make_staff(Role.REGISTRAR, College(college.year).college)
    with pytest.raises(PermissionDenied):
        services.transcript_report_rerun(requester=outsider, source=queued, file_format="csv")


def test_two_runs_of_the_same_job_store_its_rows_once(college):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    exporter = exporters.exporter_for(job, None)
    exporter.prepare()
    job.rows_saved = False  # as if the first run died before recording it
    exporter.prepare()
    assert TranscriptReportRow.objects.filter(job=job).count() == 1


# --- the nightly reports --------------------------------------------------------------


def test_nightly_reports_for_colleges_with_new_rows_and_one_email_each(
    college, year, django_capture_on_commit_callbacks
):
    enrollment = college.eligible()
    second_registrar = make_staff(Role.REGISTRAR, college.college)
    make_staff(Role.REGISTRAR, college.college, is_active=False)
    quiet = College(year)  # a college with nothing to transcribe
    today = datetime.date(2026, 12, 2)

    with django_capture_on_commit_callbacks(execute=True):
        created = services.nightly_transcript_reports(today=today)

    (job,) = ReportJob.objects.filter(pk__in=created)
    assert (job.college, job.status, job.requested_by) == (college.college, "done", None)
    assert (job.only_new, job.marks_sent, job.row_count) == (True, True, 2)
    assert job.nightly_key == f"transcript:{college.college.pk}:2026-12-02"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [college.registrar.email, second_registrar.email]
    )
    body = mail.outbox[0].body
    assert f"/reports/jobs/{job.pk}/" in body
    assert enrollment.student.legal_last_name not in body  # no student data in email
    assert job.export_log_entry.actor is None
    assert not ReportJob.objects.filter(college=quiet.college).exists()

    # The schedule runs twice the same night: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.nightly_transcript_reports(today=today) == []
    assert len(mail.outbox) == 2

    # The next night, nothing new: no report. A new eligible row: a report of just it.
    next_day = today + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.nightly_transcript_reports(today=next_day) == []
    newcomer = college.eligible()
    with django_capture_on_commit_callbacks(execute=True):
        (created_id,) = services.nightly_transcript_reports(today=next_day)
    assert list(
        TranscriptReportRow.objects.filter(job_id=created_id).values_list("enrollment", flat=True)
    ) == [newcomer.pk]
    assert len(mail.outbox) == 4


def test_the_ready_email_goes_out_once_per_registrar(college):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit",
        college=college.college,
        nightly_key="transcript:x:2026-12-01",
        only_new=True,
        marks_sent=True,
    )
    services.report_job_run(job_id=job.pk)
    assert services.transcript_report_emails_send(job_id=job.pk) == 1
    assert services.transcript_report_emails_send(job_id=job.pk) == 0
    assert len(mail.outbox) == 1


def test_expired_files_are_deleted_and_the_job_says_so(college):
    college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert services.report_files_expire(now=job.expires_at - datetime.timedelta(hours=1)) == 0

    assert services.report_files_expire(now=job.expires_at + datetime.timedelta(hours=1)) == 1

    job.refresh_from_db()
    assert not default_storage.exists(job.file)
    assert job_selectors.report_job_state(job) == "expired"
    assert services.report_files_expire(now=job.expires_at + datetime.timedelta(days=1)) == 0


def test_download_is_logged_with_the_students_of_the_file(college, rf):
    first = college.eligible()
    second = college.eligible()
    job = ReportJob.objects.create(
        kind="transcript_credit", requested_by=college.registrar, college=college.college
    )
    services.report_job_run(job_id=job.pk)
    job.refresh_from_db()
    request = rf.get("/", REMOTE_ADDR="203.0.113.9")

    services.report_job_download_logged(job=job, actor=college.registrar, request=request)

    entry = AccessLogEntry.objects.get(action="download")
    assert (entry.actor, entry.role, entry.student_count) == (college.registrar, "registrar", 2)
    assert entry.ip_address == "203.0.113.9"
    assert set(AccessLogStudent.objects.filter(entry=entry).values_list("student", flat=True)) == {
        first.student_id,
        second.student_id,
    }
