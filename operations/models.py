from django.db import models


class ScheduledJobRun(models.Model):
    """The last runs of one scheduled (Celery beat) job, by its schedule name: when it
    last started, last succeeded and last failed, and why. One row per job, updated by
    the worker as the task runs (operations/scheduled.py)."""

    name = models.CharField(max_length=100, unique=True)
    task = models.CharField(max_length=200)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
