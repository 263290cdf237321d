"""Articulation agreements: a high-school CTE course accepted as college course(s)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from organisations.grades import GradeScale
from organisations.models import AcademicYear, CareerCluster, College, Consortium, HighSchool


class CollegeCourse(models.Model):
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="courses")
    prefix = models.CharField(max_length=8, help_text=_("For example ACCT."))
    number = models.CharField(max_length=8, help_text=_("For example 101."))
    title = models.CharField(max_length=200)
    credits = models.DecimalField(max_digits=4, decimal_places=1)
    is_active = models.BooleanField(
        _("offered"),
        default=True,
        db_default=True,  # bulk loaders (COPY) that leave the column out get True too
        help_text=_("Clear when the college retires the course; its agreements then lapse."),
    )

    class Meta:
        ordering = ["prefix", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["college", "prefix", "number"], name="college_course_unique"
            ),
            models.CheckConstraint(condition=Q(credits__gt=0), name="college_course_credits_pos"),
            models.CheckConstraint(
                condition=Q(prefix__regex=r"^[A-Z&]{2,8}$"), name="college_course_prefix_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"{self.prefix} {self.number}"


class HighSchoolCourse(models.Model):
    """A CTE course as the high schools of a consortium teach it."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="high_school_courses"
    )
    title = models.CharField(max_length=200)
    local_code = models.CharField(
        max_length=20, blank=True, help_text=_("The district's own course code, if any.")
    )
    cip_code = models.CharField(
        _("CIP code"), max_length=7, help_text=_("Six-digit CIP code, written xx.xxxx.")
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "title", "cip_code"], name="hs_course_unique_in_consortium"
            ),
            models.CheckConstraint(
                condition=Q(cip_code__regex=r"^[0-9]{2}\.[0-9]{4}$"), name="hs_course_cip_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.cip_code})"


class Articulation(models.Model):
    """One version of an agreement. A revision is a new row with the next version number."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        RETIRED = "retired", _("Retired")

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="articulations"
    )
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="articulations")
    agreement_number = models.CharField(
        max_length=20, help_text=_("Shared by every version of the same agreement.")
    )
    version = models.PositiveSmallIntegerField(default=1)
    previous_version = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    high_school_course = models.ForeignKey(
        HighSchoolCourse, on_delete=models.PROTECT, related_name="articulations"
    )
    high_schools = models.ManyToManyField(
        HighSchool, related_name="articulations", help_text=_("Schools that teach the course.")
    )
    college_courses = models.ManyToManyField(CollegeCourse, related_name="articulations")
    cluster = models.ForeignKey(
        CareerCluster, on_delete=models.PROTECT, related_name="articulations"
    )
    minimum_grade_scale = models.CharField(
        max_length=10, choices=GradeScale.choices, default=GradeScale.LETTER
    )
    minimum_grade = models.CharField(max_length=5, help_text=_("For example B, 3.0 or 85."))
    competencies = models.TextField(blank=True, help_text=_("One competency per line."))
    valid_years = models.ManyToManyField(AcademicYear, related_name="articulations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    renew_each_year = models.BooleanField(
        _("renew each year"),
        default=True,
        db_default=True,  # bulk loaders (COPY) that leave the column out get True too
        help_text=_("Include this agreement in the annual roll-over to the next school year."),
    )
    qualified_teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeacherQualification",
        related_name="qualified_articulations",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agreement_number", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement_number", "version"], name="articulation_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="articulation_version_pos"),
            models.CheckConstraint(
                condition=GradeScale.value_check("minimum_grade_scale", "minimum_grade"),
                name="articulation_minimum_grade_fits_scale",
            ),
            # Activating a revision retires the version it replaces in the same transaction.
            models.UniqueConstraint(
                fields=["agreement_number"],
                condition=Q(status="active"),
                name="one_active_version_per_agreement",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["draft", "submitted", "approved", "active", "expired", "retired"]
                ),
                name="articulation_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "consortium"])]

    def __str__(self) -> str:
        return f"{self.agreement_number} v{self.version}: {self.high_school_course.title}"

    @property
    def competency_list(self) -> list[str]:
        return [line.strip() for line in self.competencies.splitlines() if line.strip()]

    @property
    def minimum_grade_display(self) -> str:
        """The minimum grade as people write it: B, 3.0 grade points, 85%."""
        if self.minimum_grade_scale == GradeScale.PERCENT:
            return f"{self.minimum_grade}%"
        if self.minimum_grade_scale == GradeScale.POINTS:
            return _("%(grade)s grade points") % {"grade": self.minimum_grade}
        return self.minimum_grade

    @property
    def is_editable(self) -> bool:
        """Only drafts change in place; anything further along is revised as a new version."""
        return self.status == self.Status.DRAFT

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.EXPIRED, self.Status.RETIRED)


class ArticulationStatusChange(models.Model):
    articulation = models.ForeignKey(
        Articulation, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10, choices=Articulation.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Articulation.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["articulation_id", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="articulation_change_changes"
            )
        ]

    def __str__(self) -> str:
        return f"{self.articulation_id}: {self.from_status or '-'} → {self.to_status}"


class TeacherQualification(models.Model):
    """A teacher qualified to teach the course under an agreement."""

    articulation = models.ForeignKey(
        Articulation, on_delete=models.CASCADE, related_name="qualifications"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qualifications"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["articulation", "teacher"], name="qualification_unique")
        ]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.articulation_id}"


class RolloverRun(models.Model):
    """One run of a consortium's annual roll-over, with what it did.

    The roll-over itself is idempotent (see services.rollover.rollover_apply); this row
    records who asked for it, when, and the counts, so a second run is visible as
    "0 renewed".
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, related_name="rollover_runs"
    )
    from_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    to_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    renewed_count = models.PositiveIntegerField(default=0)
    already_renewed_count = models.PositiveIntegerField(default=0)
    lapsed_count = models.PositiveIntegerField(default=0)
    expired_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="rollover_run_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(from_year=F("to_year")), name="rollover_run_moves_forward"
            ),
        ]
        indexes = [models.Index(fields=["consortium", "requested_at"])]

    def __str__(self) -> str:
        return f"Roll-over {self.from_year_id}→{self.to_year_id} ({self.status})"
