"""Reads for the operations page (state staff): report jobs that need attention, the
scheduled jobs' last runs, emails sent, sign-in lockouts and the Celery queues.

Counts and job metadata only: no student, no user name, no email address, no IP address,
no error message (only its class, or the fixed text a report job keeps)."""

import datetime
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog
from celery.schedules import crontab
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import EmailFailure, SentEmail
from accounts.permissions import Access, Capability
from reports.models import ReportJob
from reports.selectors.jobs import JobState, JobView, report_job_view

from .models import ScheduledJobRun

# A daily job with no success for this long is overdue (a day and a margin for a slow run).
OVERDUE_AFTER = datetime.timedelta(hours=26)
# Failed report jobs older than this leave the page (they stay on their owner's page).
FAILED_JOBS_DAYS = 7
EMAIL_DAYS = 7
LOCKOUT_WINDOW = datetime.timedelta(hours=24)
MAX_JOB_ROWS = 50


def may_view_operations(access: Access) -> bool:
    return access.can(Capability.VIEW_OPERATIONS)


# --- report jobs ---------------------------------------------------------------------------


@dataclass
class ReportJobsSection:
    jobs: list[JobView]  # running, waiting, stuck or failed; newest first
    counts: dict[str, int]  # JobState -> how many among the jobs listed
    more: bool  # more jobs than the page lists


def report_jobs_needing_attention(*, now: datetime.datetime | None = None) -> ReportJobsSection:
    """Jobs waiting or running (any age: a stuck one can be old) and jobs that failed in the
    last FAILED_JOBS_DAYS days, with the state reports.selectors.jobs gives them."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=FAILED_JOBS_DAYS)
    active = Q(status__in=[ReportJob.Status.QUEUED, ReportJob.Status.RUNNING])
    failed = Q(status=ReportJob.Status.FAILED) & (
        Q(finished_at__gte=since) | Q(finished_at__isnull=True, created_at__gte=since)
    )
    rows = list(
        ReportJob.objects.filter(active | failed)
        .select_related("college", "academic_year")
        .order_by("-created_at", "-id")[: MAX_JOB_ROWS + 1]
    )
    more = len(rows) > MAX_JOB_ROWS
    views = [report_job_view(job, now=now) for job in rows[:MAX_JOB_ROWS]]
    counts = dict.fromkeys((JobState.QUEUED, JobState.RUNNING, JobState.STUCK, JobState.FAILED), 0)
    for view in views:
        counts[view.state] = counts.get(view.state, 0) + 1
    return ReportJobsSection(jobs=views, counts=counts, more=more)


# --- scheduled jobs --------------------------------------------------------------------------


@dataclass
class ScheduledJob:
    name: str
    task: str
    schedule: str
    run: ScheduledJobRun | None
    overdue: bool

    @property
    def never_run(self) -> bool:
        return self.run is None or self.run.last_started_at is None


def _describe_schedule(schedule) -> str:
    if isinstance(schedule, crontab):
        hour, minute = schedule._orig_hour, schedule._orig_minute
        if str(hour).isdigit() and str(minute).isdigit():
            return str(_("daily at %(time)s")) % {"time": f"{int(hour):02d}:{int(minute):02d}"}
        return f"cron {minute} {hour} {schedule._orig_day_of_month} {schedule._orig_month_of_year}"
    if isinstance(schedule, int | float | datetime.timedelta):
        seconds = schedule.total_seconds() if isinstance(schedule, datetime.timedelta) else schedule
        return str(_("every %(seconds)d seconds")) % {"seconds": int(seconds)}
    return str(schedule)


def _interval(schedule) -> datetime.timedelta:
    """How often a schedule runs, at most a day (a crontab counts as daily)."""
    if isinstance(schedule, datetime.timedelta):
        return min(schedule, datetime.timedelta(days=1))
    if isinstance(schedule, int | float):
        return min(datetime.timedelta(seconds=schedule), datetime.timedelta(days=1))
    return datetime.timedelta(days=1)


def scheduled_jobs(*, now: datetime.datetime | None = None) -> list[ScheduledJob]:
    """Every job of CELERY_BEAT_SCHEDULE with its last run; overdue when it has not
    succeeded within its interval plus a margin (26 hours for a daily job)."""
    now = now or timezone.now()
    runs = {run.name: run for run in ScheduledJobRun.objects.all()}
    jobs = []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        schedule = entry.get("schedule")
        run = runs.get(name)
        allowed = _interval(schedule) + (OVERDUE_AFTER - datetime.timedelta(days=1))
        succeeded = run.last_succeeded_at if run else None
        jobs.append(
            ScheduledJob(
                name=name,
                task=entry["task"],
                schedule=_describe_schedule(schedule),
                run=run,
                overdue=succeeded is None or now - succeeded > allowed,
            )
        )
    return jobs


# --- emails ----------------------------------------------------------------------------------


@dataclass
class EmailsSection:
    by_kind: list[dict]  # {"kind": ..., "sent": n, "failed": n}
    total: int
    failed: int
    days: int = EMAIL_DAYS


def emails_sent(*, now: datetime.datetime | None = None) -> EmailsSection:
    """Emails sent and failed in the last EMAIL_DAYS days, by kind: SentEmail holds the
    emails sent once (accounts.services.email_send_once), EmailFailure every send the
    mail server refused (accounts.services.email_failure_record). Two queries."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=EMAIL_DAYS)
    counts: dict[str, dict] = {}
    for model, column in ((SentEmail, "sent_at"), (EmailFailure, "failed_at")):
        name = "sent" if model is SentEmail else "failed"
        for row in (
            model.objects.filter(**{f"{column}__gte": since})
            .values("kind")
            .annotate(n=Count("id"))
            .order_by()
        ):
            counts.setdefault(row["kind"], {"kind": row["kind"], "sent": 0, "failed": 0})
            counts[row["kind"]][name] = row["n"]
    rows = [counts[kind] for kind in sorted(counts)]
    return EmailsSection(
        by_kind=rows,
        total=sum(row["sent"] for row in rows),
        failed=sum(row["failed"] for row in rows),
    )


# --- sign-in lockouts --------------------------------------------------------------------------


@dataclass
class LockoutsSection:
    failed_sign_ins: int  # failed attempts recorded in the window
    accounts_locked: int  # accounts locked out now
    addresses_locked: int  # addresses locked out now
    lockouts_logged: int | None  # lockouts in the window; None: the failure log is off
    hours: int = 24


def sign_in_lockouts(*, now: datetime.datetime | None = None) -> LockoutsSection:
    """django-axes' records as counts (no account, no address). An account is locked when
    its failures within the cool-off reach AXES_FAILURE_LIMIT; an address, when they reach
    SERS_LOGIN_FAILURES_PER_ADDRESS (accounts.security.ThrottleHandler)."""
    now = now or timezone.now()
    window = now - LOCKOUT_WINDOW
    cooloff = now - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=window)
    failed = recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
    current = AccessAttempt.objects.filter(attempt_time__gte=cooloff)
    accounts = (
        current.exclude(username__isnull=True)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .count()
    )
    addresses = (
        current.exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.SERS_LOGIN_FAILURES_PER_ADDRESS)
        .count()
    )
    logged = None
    if getattr(settings, "AXES_ENABLE_ACCESS_FAILURE_LOG", False):
        logged = AccessFailureLog.objects.filter(attempt_time__gte=window, locked_out=True).count()
    return LockoutsSection(
        failed_sign_ins=failed,
        accounts_locked=accounts,
        addresses_locked=addresses,
        lockouts_logged=logged,
    )


# --- Celery queues -----------------------------------------------------------------------------


@dataclass
class QueueSize:
    name: str
    size: int | None = None  # None: unknown (see state)
    state: str = "ok"  # "ok", "in-process" or the class of the error


@dataclass
class QueuesSection:
    queues: list[QueueSize] = field(default_factory=list)
    in_process: bool = False


def queue_names(app) -> list[str]:
    names = {app.conf.task_default_queue}
    for queue in app.conf.task_queues or ():
        names.add(getattr(queue, "name", queue))
    routes = app.conf.task_routes or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                names.add(route["queue"])
    return sorted(names)


def _redis_length(channel, name: str) -> int:
    """LLEN of a queue, over kombu's priority lists when the channel keeps several."""
    if hasattr(channel, "_q_for_pri") and hasattr(channel, "priority_steps"):
        keys = {channel._q_for_pri(name, step) for step in channel.priority_steps}
    else:
        keys = {name}
    return sum(channel.client.llen(key) for key in keys)


def celery_queues() -> QueuesSection:
    """The number of tasks waiting in each Celery queue (Redis LLEN); "in-process" when
    tasks run in this process (no broker). Never raises."""
    from sers.celery import app

    names = queue_names(app)
    connection = app.connection_for_write()
    try:
        if connection.transport.driver_type == "memory":
            return QueuesSection(
                queues=[QueueSize(name, state="in-process") for name in names], in_process=True
            )
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2, timeout=2
        )
        channel = connection.default_channel
        return QueuesSection(
            queues=[QueueSize(name, _redis_length(channel, name)) for name in names]
        )
    except Exception as error:
        return QueuesSection(queues=[QueueSize(name, state=type(error).__name__) for name in names])
    finally:
        connection.release()


# --- the page ----------------------------------------------------------------------------------


@dataclass
class OperationsOverview:
    report_jobs: ReportJobsSection
    scheduled: list[ScheduledJob]
    emails: EmailsSection
    lockouts: LockoutsSection
    queues: QueuesSection


def operations_overview(*, access: Access) -> OperationsOverview:
    """Everything the operations page shows: state staff only (403 for anyone else)."""
    access.require(Capability.VIEW_OPERATIONS)
    now = timezone.now()
    return OperationsOverview(
        report_jobs=report_jobs_needing_attention(now=now),
        scheduled=scheduled_jobs(now=now),
        emails=emails_sent(now=now),
        lockouts=sign_in_lockouts(now=now),
        queues=celery_queues(),
    )
