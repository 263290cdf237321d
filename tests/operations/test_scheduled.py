"""ScheduledJobRun: a task that CELERY_BEAT_SCHEDULE names records its last start, success
and failure from Celery's signals; any other task records nothing."""

import pytest
from celery import signals
from django.db import DatabaseError

from operations import scheduled
from operations.models import ScheduledJobRun
from reports import tasks as report_tasks

pytestmark = pytest.mark.django_db

NAME = "reports-expire-files"  # sers/settings/base.py: CELERY_BEAT_SCHEDULE


class Request:
    def __init__(self, task_id):
        self.id = task_id


class FakeTask:
    """What Celery passes as the signals' sender: the task, with its current request."""

    def __init__(self, name, task_id="task-1"):
        self.name = name
        self.request = Request(task_id)


def test_the_schedule_names_its_tasks(settings):
    names = scheduled.scheduled_names()
    assert names[report_tasks.expire_report_files.name] == NAME
    assert len(names) == len(settings.CELERY_BEAT_SCHEDULE)


def test_a_scheduled_task_records_its_start_and_success():
    task = FakeTask("reports.tasks.expire_report_files")
    signals.task_prerun.send(sender=task, task_id="task-1", task=task, args=(), kwargs={})
    run = ScheduledJobRun.objects.get(name=NAME)
    assert run.task == "reports.tasks.expire_report_files"
    assert run.last_started_at is not None
    assert run.last_succeeded_at is None

    signals.task_success.send(sender=task, result=0)
    run.refresh_from_db()
    assert run.last_succeeded_at >= run.last_started_at
    assert run.last_duration_seconds is not None
    assert run.last_duration_seconds >= 0
    assert run.last_failed_at is None


def test_a_scheduled_task_records_the_class_of_its_failure_only():
    task = FakeTask("reports.tasks.expire_report_files", task_id="task-2")
    signals.task_prerun.send(sender=task, task_id="task-2", task=task, args=(), kwargs={})
    signals.task_failure.send(
        sender=task,
        task_id="task-2",
        exception=DatabaseError("relation student_profile: jane.doe@example.org"),
        args=(),
        kwargs={},
        traceback=None,
        einfo=None,
    )
    run = ScheduledJobRun.objects.get(name=NAME)
    assert run.last_failed_at is not None
    assert run.last_error == "DatabaseError"
    assert run.last_succeeded_at is None
    assert "task-2" not in scheduled._started


def test_a_task_that_is_not_scheduled_records_nothing():
    task = FakeTask("reports.tasks.run_report_job", task_id="task-3")
    signals.task_prerun.send(sender=task, task_id="task-3", task=task, args=(1,), kwargs={})
    signals.task_success.send(sender=task, result="done")
    signals.task_failure.send(
        sender=task, task_id="task-3", exception=ValueError(), args=(), kwargs={}
    )
    assert not ScheduledJobRun.objects.exists()
    assert "task-3" not in scheduled._started


def test_a_real_run_of_a_scheduled_task_is_recorded(settings, tmp_path):
    """In-process (eager), the task's own signals record the run."""
    settings.MEDIA_ROOT = tmp_path
    report_tasks.expire_report_files.delay()
    run = ScheduledJobRun.objects.get(name=NAME)
    assert run.last_started_at is not None
    assert run.last_succeeded_at is not None
    assert run.last_failed_at is None


def test_recording_never_fails_the_job(monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(ScheduledJobRun.objects, "update_or_create", broken)
    task = FakeTask("reports.tasks.expire_report_files", task_id="task-4")
    signals.task_prerun.send(sender=task, task_id="task-4", task=task, args=(), kwargs={})
    signals.task_success.send(sender=task, result=0)  # no exception
