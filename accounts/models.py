"""Accounts: the user model, roles and role memberships, and the emails sent to users.

The app's label stays ``consortia`` (see apps.py), so the user model is still
``consortia.User`` and no table was renamed.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        # No address is longer than 254 characters; and SQLite refuses a LIKE pattern over
        # 50,000 bytes, so a pasted novel at the sign-in must not reach the query.
        if len(username) > 254:
            raise self.model.DoesNotExist
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

    @property
    def account_state(self) -> "AccountState":
        return AccountState.of(self)


class AccountState(models.TextChoices):
    """The one vocabulary for the state of an account, wherever a page names it.

    Invited: created by an invitation and not activated yet (no password chosen).
    Deactivated: closed by staff (it had a password). Either way the account cannot sign
    in, and a teacher's classes take no registrations.
    """

    ACTIVE = "active", _("Active")
    INVITED = "invited", _("Invited, not yet active")
    DEACTIVATED = "deactivated", _("Deactivated")

    @classmethod
    def of(cls, user) -> "AccountState":
        if user.is_active:
            return cls.ACTIVE
        return cls.DEACTIVATED if user.has_usable_password() else cls.INVITED


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
        "organisations.Consortium",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    college = models.ForeignKey(
        "organisations.College",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    district = models.ForeignKey(
        "organisations.District",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    high_school = models.ForeignKey(
        "organisations.HighSchool",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
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


class EmailFailure(models.Model):
    """An email the mail server refused or never took: its kind, when, and the error's
    class (never its message, which can hold the address). Counted on the operations
    page; the user is kept so staff can tell one person's repeated failures apart."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="email_failures"
    )
    kind = models.CharField(max_length=50)
    error = models.CharField(max_length=100)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.kind} failed ({self.error})"


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


# --- enrollment's student models, seen from accounts ------------------------------------
#
# accounts sits below enrollment in the layers (pyproject.toml, [tool.importlinter]) and
# does not import it. The few places here that query students' rows (the Access query and
# the student scope in permissions.py, the account-type filter in admin.py) reach those
# models through the relations enrollment declares towards the user model. Called at run
# time, once the app registry is ready; the SQL is the same as with the classes imported.


def student_profile_model() -> type[models.Model]:
    """enrollment.StudentProfile: the model behind the user's ``student_profile`` one-to-one."""
    return User._meta.get_field("student_profile").related_model


def enrollment_model() -> type[models.Model]:
    """enrollment.Enrollment: the model behind a student profile's ``enrollments``."""
    return student_profile_model()._meta.get_field("enrollments").related_model
