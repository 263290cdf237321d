"""Reporting records: report jobs and their row sets."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accesslog.models import AccessLogEntry


class ReportJob(models.Model):
    """A report built in the background: what was asked, by whom, and where the file is.

    The worker re-checks the requester's permission when it runs, writes the file to a
    path derived from the job id (a re-run overwrites it) and may run twice safely.
    """

    class Kind(models.TextChoices):
        TRANSCRIPT_CREDIT = "transcript_credit", _("Transcript-credit report")
        ENROLLMENTS = "enrollments", _("Enrollments of a school year")
        DASHBOARD_TABLE = "dashboard_table", _("Reports table")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")
        PESC = "pesc", _("PESC College Transcripts (zip of XML documents)")

    class Origin(models.TextChoices):
        SITE = "site", _("Asked for on the site")
        NIGHTLY = "nightly", _("Built every night")
        COMMAND = "command", _("Built by the transcript_report command")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    origin = models.CharField(
        max_length=10,
        choices=Origin.choices,
        default=Origin.SITE,
        help_text=_("Who asked: a user on the site, or SERS itself (nightly, or a command)."),
    )
    file_format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    parameters = models.JSONField(
        default=dict, blank=True, help_text=_("Other choices, such as the table and breakdown.")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_jobs",
        help_text=_("Empty for the nightly reports SERS builds by itself."),
    )
    college = models.ForeignKey(
        "organisations.College",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_jobs",
    )
    academic_year = models.ForeignKey(
        "organisations.AcademicYear",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_jobs",
        help_text=_("Empty: every school year."),
    )
    term = models.CharField(max_length=10, blank=True, help_text=_("Empty: every term."))
    only_new = models.BooleanField(
        default=False, help_text=_("Leave out rows an earlier report already sent.")
    )
    marks_sent = models.BooleanField(
        default=False, help_text=_("Mark the rows of this report as sent to the registrar.")
    )
    source_job = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reruns",
        help_text=_("A re-run of this report: exactly its rows."),
    )
    nightly_key = models.CharField(max_length=60, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Percent done."))
    row_count = models.PositiveIntegerField(null=True, blank=True)
    rows_saved = models.BooleanField(
        default=False, help_text=_("The report's row set is stored (transcript reports).")
    )
    file = models.CharField(max_length=255, blank=True, help_text=_("Name in the file storage."))
    file_name = models.CharField(max_length=150, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text=_("Shown to the user when the job failed."))
    attempts = models.PositiveSmallIntegerField(default=0)
    run_token = models.CharField(max_length=32, blank=True)
    export_log_entry = models.ForeignKey(
        AccessLogEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The access-log entry listing the students in the file."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text=_("When it was last sent to a worker.")
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_job_progress_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]),
                name="report_job_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["transcript_credit", "enrollments", "dashboard_table"]
                ),
                name="report_job_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(file_format__in=["csv", "xlsx"])
                | models.Q(file_format="pesc", kind="transcript_credit"),
                name="report_job_format_fits_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="transcript_credit") | models.Q(college__isnull=False),
                name="report_job_transcript_has_college",
            ),
            models.CheckConstraint(
                condition=models.Q(source_job__isnull=True)
                | models.Q(kind="transcript_credit", marks_sent=False, only_new=False),
                name="report_job_rerun_is_plain_transcript",
            ),
            models.CheckConstraint(
                condition=models.Q(requested_by__isnull=False)
                | models.Q(nightly_key__isnull=False)
                | models.Q(origin="command"),
                name="report_job_has_requester_or_is_sers",
            ),
            models.CheckConstraint(
                condition=~models.Q(origin="command")
                | models.Q(requested_by__isnull=True, nightly_key__isnull=True),
                name="report_job_command_is_sers",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(finished_at__isnull=False, row_count__isnull=False),
                name="report_job_done_has_result",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_by", "created_at"]),
            models.Index(fields=["college", "kind", "created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def is_nightly(self) -> bool:
        return self.nightly_key is not None

    @property
    def is_by_command(self) -> bool:
        return self.origin == self.Origin.COMMAND


class TranscriptReportRow(models.Model):
    """An enrollment included in a transcript-credit report: the report's stored row set.

    A re-run reads exactly these rows back. The rows of a report that marks its rows as
    sent (and did not fail) are what "already sent to the registrar" means; the
    enrollment's own status is left to the enrollment services.
    """

    job = models.ForeignKey(ReportJob, on_delete=models.CASCADE, related_name="transcript_rows")
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", on_delete=models.PROTECT, related_name="transcript_report_rows"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "enrollment"], name="transcript_row_unique")
        ]
        indexes = [models.Index(fields=["enrollment", "job"])]

    def __str__(self) -> str:
        return f"{self.job_id} · {self.enrollment_id}"


class DashboardAggregate(models.Model):
    """The reports dashboard's numbers, precomputed (reports/aggregates.py) for one scope,
    one school year (null: every year) and one group of one breakdown.

    What is stored is each table's result per scope, not a finest grain to add up: the
    number of distinct students cannot be summed across groups (a student in two colleges,
    or with a class in two years, is one student of the state but one of each college), so
    every number of students is counted by the database for exactly the scope, year and
    group shown. The scopes are the ones a reporting role covers: the state, a
    consortium, a district, a high school; a user who covers several of them at once is
    counted live (reports/selectors/aggregated.py). Rows of `dimension`:

    - "" (the total of the scope and year: the breakdown's total row and the funnel);
    - a breakdown dimension (reports/selectors/dashboard.py DIMENSIONS), one row a group;
    - "year_cluster": enrollments per career cluster (group_key, its name) and school year
      (group_label, its code), every year (academic_year null).

    Counts are not suppressed here: small cells are hidden when a table is shown. Every
    row of a rebuild has the same `refreshed_at`, the moment the data it counts was read:
    the page's "as of".
    """

    # The `dimension` of the year-by-cluster grid's rows.
    YEAR_CLUSTER = "year_cluster"
    # The numbers a breakdown's group row holds (the total row holds every number).
    BREAKDOWN_NUMBERS = (
        "students",
        "enrollments",
        "graded",
        "attained",
        "transcribed",
        "credits_attempted",
        "credits_attained",
        "fees_paid",
        "fees_waived",
    )

    class ScopeKind(models.TextChoices):
        STATE = "state", _("Statewide")
        CONSORTIUM = "consortium", _("Consortium")
        DISTRICT = "district", _("District")
        HIGH_SCHOOL = "high_school", _("High school")

    refreshed_at = models.DateTimeField()
    scope_kind = models.CharField(max_length=20, choices=ScopeKind.choices)
    scope_id = models.PositiveIntegerField()  # 0 for the state
    academic_year = models.ForeignKey(
        "organisations.AcademicYear", on_delete=models.CASCADE, null=True, related_name="+"
    )
    dimension = models.CharField(max_length=20, blank=True)
    group_key = models.TextField(null=True)
    group_label = models.TextField(null=True)
    students = models.PositiveIntegerField(default=0)
    enrollments = models.PositiveIntegerField(default=0)
    graded = models.PositiveIntegerField(default=0)  # a final grade: attained or not
    attained = models.PositiveIntegerField(default=0)
    transcribed = models.PositiveIntegerField(default=0)
    credits_attempted = models.DecimalField(max_digits=14, decimal_places=1, default=0)
    credits_attained = models.DecimalField(max_digits=14, decimal_places=1, default=0)
    fees_paid = models.PositiveIntegerField(default=0)  # students
    fees_waived = models.PositiveIntegerField(default=0)  # students
    # The funnel's steps that the breakdown does not count, and the students of each.
    confirmed = models.PositiveIntegerField(default=0)
    confirmed_students = models.PositiveIntegerField(default=0)
    graded_any = models.PositiveIntegerField(default=0)  # graded, final or not
    graded_any_students = models.PositiveIntegerField(default=0)
    attained_students = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0)
    ready_students = models.PositiveIntegerField(default=0)
    transcribed_students = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["scope_kind", "scope_id", "dimension", "academic_year"],
                name="dashboard_aggregate_lookup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope_kind} {self.scope_id} · {self.dimension or 'total'} · {self.group_key}"
