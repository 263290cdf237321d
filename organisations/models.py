"""Organisations (consortia, colleges, districts, high schools), school years, each
consortium's policy per year and the career clusters.

The tables keep the names they had when these models lived in the accounts app
(label ``consortia``): ``Meta.db_table`` below, and migration 0001 moved them in state only.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .grades import GradeScale


class AcademicYear(models.Model):
    """A school year, e.g. 2025-26 (July 1 to June 30)."""

    code = models.CharField(max_length=7, unique=True, help_text=_("For example 2025-26."))
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        db_table = "consortia_academicyear"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="academic_year_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{4}-[0-9]{2}$"), name="academic_year_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def code_for_start(cls, start_year: int) -> str:
        return f"{start_year}-{(start_year + 1) % 100:02d}"


class Consortium(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    payment_instructions = models.TextField(
        blank=True, help_text=_("Shown to students: how and where to pay the annual fee.")
    )
    payment_instructions_es = models.TextField(
        blank=True,
        help_text=_(
            "The same instructions in Spanish, for students reading SERS in Spanish. "
            "Without them, those students see the English text."
        ),
    )
    show_teacher_names_publicly = models.BooleanField(
        default=False, help_text=_("Show teacher names on the public articulation search.")
    )

    class Meta:
        db_table = "consortia_consortium"
        ordering = ["name"]
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.name

    def payment_instructions_in(self, language: str | None) -> tuple[str, str]:
        """The fee instructions to show a reader of `language`, and the language they are
        written in (for the page's lang attribute): the Spanish version where there is one,
        the English otherwise."""
        if (language or "").startswith("es") and self.payment_instructions_es.strip():
            return self.payment_instructions_es, "es"
        return self.payment_instructions, "en"

    @property
    def payment_instructions_current(self) -> str:
        """The fee instructions in the active language (emails render in the student's)."""
        return self.payment_instructions_in(get_language())[0]

    @property
    def contact_text(self) -> str:
        """Whom to contact at the consortium, in one line ("" when nobody is given)."""
        return " · ".join(
            part for part in (self.contact_name, self.contact_email, self.contact_phone) if part
        )


class ConsortiumPolicy(models.Model):
    """A consortium's rules for one academic year. Never hard-code these numbers."""

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="policies")
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="policies"
    )
    registration_opens = models.DateField()
    registration_closes = models.DateField()
    payment_deadline = models.DateField()
    grading_deadline = models.DateField()
    annual_fee = models.DecimalField(
        max_digits=7, decimal_places=2, default=0, help_text=_("Per student per school year.")
    )
    payment_url = models.URLField(
        blank=True,
        max_length=500,
        help_text=_(
            "The consortium's or college's page where students pay the fee online. "
            "Students see a link to it under “How to pay”."
        ),
    )
    waiver_reasons = models.TextField(
        blank=True,
        default="Free or reduced-price lunch\nFinancial hardship\nFoster youth",
        help_text=_("One reason per line."),
    )
    grade_scale = models.CharField(
        max_length=10, choices=GradeScale.choices, default=GradeScale.LETTER
    )
    default_minimum_grade = models.CharField(max_length=5, default="B")
    school_email_domains = models.TextField(
        blank=True,
        help_text=_("School email domains to warn students about, one per line (k12.wa.us)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    # The rules a consortium admin sets per school year: the policy page's form, the service
    # that saves it, the admin form and the demo data all use this one list.
    EDITABLE_FIELDS = (
        "registration_opens",
        "registration_closes",
        "payment_deadline",
        "grading_deadline",
        "annual_fee",
        "payment_url",
        "waiver_reasons",
        "grade_scale",
        "default_minimum_grade",
        "school_email_domains",
    )

    class Meta:
        db_table = "consortia_consortiumpolicy"
        ordering = ["consortium__name", "-academic_year__start_date"]
        verbose_name_plural = _("consortium policies")
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "academic_year"], name="one_policy_per_consortium_year"
            ),
            models.CheckConstraint(
                condition=Q(registration_closes__gte=F("registration_opens")),
                name="policy_registration_window_ordered",
            ),
            models.CheckConstraint(condition=Q(annual_fee__gte=0), name="policy_fee_not_negative"),
            models.CheckConstraint(
                condition=GradeScale.value_check("grade_scale", "default_minimum_grade"),
                name="policy_minimum_grade_fits_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.academic_year}"

    @property
    def waiver_reason_list(self) -> list[str]:
        return [line.strip() for line in self.waiver_reasons.splitlines() if line.strip()]

    @property
    def school_email_domain_list(self) -> list[str]:
        return [line.strip().lower() for line in self.school_email_domains.splitlines() if line]

    def registration_open_on(self, day) -> bool:
        return self.registration_opens <= day <= self.registration_closes


class College(models.Model):
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="colleges")
    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=12, unique=True)
    registrar_email = models.EmailField(blank=True)
    website = models.URLField(blank=True)

    class Meta:
        db_table = "consortia_college"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=12, unique=True, help_text=_("State district code."))

    class Meta:
        db_table = "consortia_district"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "name"], name="district_name_unique_in_consortium"
            )
        ]

    def __str__(self) -> str:
        return self.name


class HighSchool(models.Model):
    class Kind(models.TextChoices):
        HIGH_SCHOOL = "high_school", _("High school")
        SKILLS_CENTER = "skills_center", _("Skills center")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="high_schools")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=12, unique=True, help_text=_("State building code."))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HIGH_SCHOOL)
    served_districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="skills_centers",
        help_text=_("For a skills center: the districts whose students it serves."),
    )
    city = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "consortia_highschool"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"], name="high_school_name_unique_in_district"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_skills_center(self) -> bool:
        return self.kind == self.Kind.SKILLS_CENTER


class CareerCluster(models.Model):
    class Framework(models.TextChoices):
        NATIONAL_16 = "2008", _("16 national career clusters")
        NATIONAL_2024 = "2024", _("Modernized framework (2024)")

    framework = models.CharField(
        max_length=4, choices=Framework.choices, default=Framework.NATIONAL_16
    )
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "consortia_careercluster"
        ordering = ["framework", "name"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="cluster_code_unique"),
            models.UniqueConstraint(fields=["framework", "name"], name="cluster_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
