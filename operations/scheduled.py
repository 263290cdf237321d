"""The scheduled jobs' last runs: a Celery task that CELERY_BEAT_SCHEDULE names records,
in ScheduledJobRun, when it started, succeeded or failed (the operations page and the
`sers_scheduled_job_last_success_age_seconds` metric read them). Only the error's class
is kept, never its message: a message can hold personal data."""

import logging
import time

from celery import signals
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import ScheduledJobRun

logger = logging.getLogger(__name__)

_started: dict[str, float] = {}


def scheduled_names() -> dict[str, str]:
    """task name -> schedule name, for every scheduled job."""
    return {entry["task"]: name for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


def _record(task_name: str, **fields) -> None:
    name = scheduled_names().get(task_name)
    if name is None:
        return
    try:
        ScheduledJobRun.objects.update_or_create(name=name, defaults={"task": task_name, **fields})
    except DatabaseError:  # recording a run never fails the job itself
        logger.exception("could not record the run of scheduled job %s", name)


def _prerun(sender=None, task_id=None, **kwargs) -> None:
    if sender is None or sender.name not in scheduled_names():
        return
    _started[task_id] = time.monotonic()
    _record(sender.name, last_started_at=timezone.now())


def _success(sender=None, **kwargs) -> None:
    if sender is None or sender.name not in scheduled_names():
        return
    started = _started.pop(sender.request.id, None)
    duration = time.monotonic() - started if started is not None else None
    _record(sender.name, last_succeeded_at=timezone.now(), last_duration_seconds=duration)


def _failure(sender=None, task_id=None, exception=None, **kwargs) -> None:
    if sender is None or sender.name not in scheduled_names():
        return
    _started.pop(task_id, None)
    _record(
        sender.name,
        last_failed_at=timezone.now(),
        last_error=type(exception).__name__ if exception is not None else "",
    )


def connect_signals() -> None:
    signals.task_prerun.connect(_prerun, dispatch_uid="operations.scheduled.prerun")
    signals.task_success.connect(_success, dispatch_uid="operations.scheduled.success")
    signals.task_failure.connect(_failure, dispatch_uid="operations.scheduled.failure")
