"""Organisations (consortia, colleges, districts, schools), the school calendar and people.

The user model lives here because every account belongs to the organisational
structure: a role membership ties a user to the consortium, college, district or
high school whose records they may work with.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articulations.grades import GradeScale


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Students sign in with a personal email; staff with their work email."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("Django admin access"),
        default=False,
        help_text=_("May sign in to the Django admin site."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class AcademicYear(models.Model):
    """A school year, e.g. 2025-26 (July 1 to June 30)."""

    code = models.CharField(max_length=7, unique=True, help_text=_("For example 2025-26."))
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
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
    show_teacher_names_publicly = models.BooleanField(
        default=False, help_text=_("Show teacher names on the public articulation search.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.name


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

    class Meta:
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
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=12, unique=True, help_text=_("State district code."))

    class Meta:
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
        ordering = ["framework", "name"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="cluster_code_unique"),
            models.UniqueConstraint(fields=["framework", "name"], name="cluster_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    TEACHER = "teacher", _("Teacher")
    CAREER_SPECIALIST = "career_specialist", _("Career specialist / district staff")
    REGISTRAR = "registrar", _("College registrar")
    COLLEGE_APPROVER = "college_approver", _("College faculty / dean")
    CONSORTIUM_ADMIN = "consortium_admin", _("Consortium admin")
    STATE_STAFF = "state_staff", _("State staff")


# Which scope column each role uses; the check constraint below enforces it.
ROLE_SCOPE_FIELDS: dict[str, tuple[str, ...]] = {
    Role.TEACHER: ("high_school",),
    Role.CAREER_SPECIALIST: ("district", "high_school"),
    Role.REGISTRAR: ("college",),
    Role.COLLEGE_APPROVER: ("college",),
    Role.CONSORTIUM_ADMIN: ("consortium",),
    Role.STATE_STAFF: (),
}
SCOPE_FIELDS = ("consortium", "college", "district", "high_school")


def _scope_check() -> Q:
    """Exactly one allowed scope column is set for each role (none for state staff)."""
    condition = Q()
    for role, allowed in ROLE_SCOPE_FIELDS.items():
        if not allowed:
            condition |= Q(role=role, **{f"{f}__isnull": True for f in SCOPE_FIELDS})
            continue
        for field in allowed:
            filled = {f"{field}__isnull": False}
            empty = {f"{f}__isnull": True for f in SCOPE_FIELDS if f != field}
            condition |= Q(role=role, **filled, **empty)
    return condition


class RoleMembership(models.Model):
    """A user holds a role within a scope. A user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    consortium = models.ForeignKey(
        Consortium, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    college = models.ForeignKey(
        College, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    high_school = models.ForeignKey(
        HighSchool, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "role"]
        constraints = [
            models.CheckConstraint(condition=_scope_check(), name="membership_scope_fits_role"),
            *(
                models.UniqueConstraint(
                    fields=["user", "role", field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"membership_unique_{field}",
                )
                for field in SCOPE_FIELDS
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(role=Role.STATE_STAFF),
                name="membership_unique_state",
            ),
        ]

    def __str__(self) -> str:
        scope = self.scope
        return f"{self.get_role_display()} · {scope}" if scope else self.get_role_display()

    @property
    def scope(self):
        for field in SCOPE_FIELDS:
            value = getattr(self, field)
            if value is not None:
                return value
        return None


class SentEmail(models.Model):
    """A record of each notification sent, so a re-run job never sends the same one twice.

    Holds no message body: the recipient's address stays on the user record.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sent_emails")
    kind = models.CharField(max_length=50)
    dedupe_key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} → user {self.user_id}"
