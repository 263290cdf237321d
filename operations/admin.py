from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import ScheduledJobRun


@admin.register(ScheduledJobRun)
class ScheduledJobRunAdmin(ReadOnlyAdmin):
    """Written by the worker as scheduled jobs run (operations/scheduled.py)."""

    list_display = ("name", "last_started_at", "last_succeeded_at", "last_failed_at", "last_error")
    fields = (
        "name",
        "task",
        "last_started_at",
        "last_succeeded_at",
        "last_failed_at",
        "last_error",
        "last_duration_seconds",
    )
    readonly_fields = fields
