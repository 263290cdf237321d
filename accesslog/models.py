"""The student-record access log (FERPA): who viewed, exported, downloaded or changed
which students' records, and when.

The tables keep the names they had in the reports app (``Meta.db_table``); migration 0001
moved the models in state only.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLogEntry(models.Model):
    """One view, export, download or change of one or more students' records (FERPA).

    Rows are only ever inserted: the application offers no way to edit or delete them.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        DOWNLOAD = "download", _("Downloaded")
        CHANGE = "change", _("Changed")
        REVEAL = "reveal", _("Revealed a hidden field")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=30, blank=True, help_text=_("The role acted under."))
    action = models.CharField(max_length=10, choices=Action.choices)
    what = models.CharField(max_length=200, help_text=_("The page, export or field concerned."))
    student_count = models.PositiveIntegerField(default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "reports_accesslogentry"
        ordering = ["-at", "-id"]
        verbose_name = _("student-record access")
        verbose_name_plural = _("student-record access log")
        indexes = [models.Index(fields=["actor", "at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.what} ({self.student_count})"


class AccessLogStudent(models.Model):
    """Which students one access concerned, so a student's own log can be listed."""

    entry = models.ForeignKey(AccessLogEntry, on_delete=models.PROTECT, related_name="students")
    student = models.ForeignKey(
        "enrollment.StudentProfile", on_delete=models.PROTECT, related_name="access_log"
    )

    class Meta:
        db_table = "reports_accesslogstudent"
        constraints = [
            models.UniqueConstraint(fields=["entry", "student"], name="access_log_student_unique")
        ]
        indexes = [models.Index(fields=["student", "entry"])]

    def __str__(self) -> str:
        return f"{self.entry_id} · {self.student_id}"
