"""Django admin for accounts, role memberships and sent emails.

Written for state staff: plain column names, search boxes that find people by name
or email, and forms that explain what is wrong instead of failing on a database rule.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from sers.text import TextLineField

from .models import (
    ROLE_SCOPE_FIELDS,
    SCOPE_FIELDS,
    EmailFailure,
    Role,
    RoleMembership,
    SentEmail,
    User,
    student_profile_model,
)

SCOPE_LABELS = {
    "consortium": _("a consortium"),
    "college": _("a college"),
    "district": _("a district"),
    "high_school": _("a high school"),
}


def _email_taken(email: str, *, exclude_pk=None) -> bool:
    others = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


class UserCreationForm(auth_forms.AdminUserCreationForm):
    """Create an account from an email address (there is no username)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")
        field_classes = {"first_name": TextLineField, "last_name": TextLineField}

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if _email_taken(email):
            raise forms.ValidationError(
                _("An account with this email address already exists."), code="unique"
            )
        return email


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"first_name": TextLineField, "last_name": TextLineField}

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError(
                _("Another account already uses this email address."), code="unique"
            )
        return email


class RoleMembershipForm(forms.ModelForm):
    """Explains which scope each role needs, instead of a bare constraint error."""

    class Meta:
        model = RoleMembership
        fields = ("role", *SCOPE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role not in ROLE_SCOPE_FIELDS:
            return cleaned
        allowed = ROLE_SCOPE_FIELDS[role]
        filled = [f for f in SCOPE_FIELDS if cleaned.get(f)]
        label = Role(role).label
        if not allowed and filled:
            raise forms.ValidationError(
                _(
                    "%(role)s works statewide: leave consortium, college, district and high "
                    "school empty."
                )
                % {"role": label},
                code="scope",
            )
        if allowed and (len(filled) != 1 or filled[0] not in allowed):
            choices = " or ".join(str(SCOPE_LABELS[f]) for f in allowed)
            raise forms.ValidationError(
                _("%(role)s needs exactly one scope: %(choices)s, and nothing else.")
                % {"role": label, "choices": choices},
                code="scope",
            )
        return cleaned


class RoleMembershipInline(admin.TabularInline):
    model = RoleMembership
    form = RoleMembershipForm
    fk_name = "user"
    extra = 0
    fields = ("role", *SCOPE_FIELDS, "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = SCOPE_FIELDS
    verbose_name = _("role")
    verbose_name_plural = _("roles (what this person may do, and where)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*SCOPE_FIELDS)


class AccountTypeFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [
            ("student", _("Student")),
            *Role.choices,
            ("none", _("No role and no student record")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        has_profile = Exists(student_profile_model().objects.filter(user=OuterRef("pk")))
        if value == "student":
            return queryset.filter(has_profile)
        memberships = RoleMembership.objects.filter(user=OuterRef("pk"))
        if value == "none":
            return queryset.exclude(has_profile).exclude(Exists(memberships))
        return queryset.filter(Exists(memberships.filter(role=value)))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    inlines = [RoleMembershipInline]
    list_display = ("email", "first_name", "last_name", "roles", "is_active", "last_login")
    list_filter = (AccountTypeFilter, "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name", "student_profile__sers_id")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    show_full_result_count = False
    readonly_fields = ("student_record", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Account"),
            {
                "fields": (
                    "is_active",
                    "email_verified_at",
                    "student_record",
                    "date_joined",
                    "last_login",
                )
            },
        ),
        (
            _("Django admin access"),
            {
                "classes": ("collapse",),
                "description": _(
                    "Only for staff who maintain SERS itself. Everyday access comes from "
                    "the roles below."
                ),
                "fields": ("is_staff", "is_superuser", "groups", "user_permissions"),
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("student_profile")
            .prefetch_related(
                Prefetch("memberships", queryset=RoleMembership.objects.only("user_id", "role"))
            )
        )

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        labels = sorted({m.get_role_display() for m in obj.memberships.all()})
        if hasattr(obj, "student_profile"):
            labels.insert(0, str(_("Student")))
        return ", ".join(str(label) for label in labels) or "—"

    @admin.display(description=_("student record"))
    def student_record(self, obj: User):
        profile = getattr(obj, "student_profile", None)
        if profile is None:
            return "—"
        url = reverse("admin:enrollment_studentprofile_change", args=[profile.pk])
        return format_html('<a href="{}">{}</a>', url, profile)


@admin.register(RoleMembership)
class RoleMembershipAdmin(admin.ModelAdmin):
    form = RoleMembershipForm
    list_display = ("user", "role", "scope_display", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", *SCOPE_FIELDS)
    search_fields = ("user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user", *SCOPE_FIELDS)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("user", "role")}),
        (
            _("Where (exactly one, none for state staff)"),
            {
                "description": _(
                    "Teacher: a high school. Career specialist: a district or one high school. "
                    "Registrar and college faculty/dean: a college. Consortium admin: a "
                    "consortium. State staff: none."
                ),
                "fields": SCOPE_FIELDS,
            },
        ),
        (_("Record"), {"fields": ("created_at",)}),
    )

    @admin.display(description=_("where"))
    def scope_display(self, obj: RoleMembership):
        return obj.scope or _("Statewide")


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept for the audit trail: it may be looked at, never added, edited or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """History shown on its parent's page: read only, no adding, no deleting."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EmailFailure)
class EmailFailureAdmin(ReadOnlyAdmin):
    list_display = ("failed_at", "kind", "error", "user")
    list_filter = ("kind", "error")
    list_select_related = ("user",)
    date_hierarchy = "failed_at"
    fields = ("user", "kind", "error", "failed_at")
    readonly_fields = fields


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "user")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("user__email", "dedupe_key")
    date_hierarchy = "sent_at"
    fields = ("user", "kind", "dedupe_key", "sent_at")
    readonly_fields = fields
