"""Django admin for organisations, the school calendar and accounts.

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

from articulations.grades import GradeError, normalize
from enrollment.models import StudentProfile

from .models import (
    ROLE_SCOPE_FIELDS,
    SCOPE_FIELDS,
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
    Role,
    RoleMembership,
    SentEmail,
    User,
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


# --- the student-record access log (FERPA) ---------------------------------------------


class StudentRecordAccessLogMixin:
    """Logs each admin page that shows student records, like every other view in SERS.

    A change page logs its student(s); a list logs the students on the page shown.
    Subclasses say which students an object concerns in `logged_student_ids`.
    """

    access_log_what = ""

    def logged_student_ids(self, obj) -> list[int]:
        raise NotImplementedError

    def _log_access(self, request, objects, what: str) -> None:
        from reports.models import AccessLogEntry
        from reports.services import access_log_record

        student_ids = {sid for obj in objects for sid in self.logged_student_ids(obj) if sid}
        if not student_ids:
            return
        access_log_record(
            actor=request.user,
            action=AccessLogEntry.Action.VIEW,
            what=what,
            student_ids=student_ids,
            role="admin_site",
            request=request,
        )

    def _what(self) -> str:
        return self.access_log_what or f"admin: {self.model._meta.verbose_name}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and original is not None:
            self._log_access(request, [original], self._what())
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            self._log_access(request, changelist.result_list, f"{self._what()} (list)")
        return response


# --- accounts ---------------------------------------------------------------------------


class UserCreationForm(auth_forms.AdminUserCreationForm):
    """Create an account from an email address (there is no username)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

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
        has_profile = Exists(StudentProfile.objects.filter(user=OuterRef("pk")))
        if value == "student":
            return queryset.filter(has_profile)
        memberships = RoleMembership.objects.filter(user=OuterRef("pk"))
        if value == "none":
            return queryset.exclude(has_profile).exclude(Exists(memberships))
        return queryset.filter(Exists(memberships.filter(role=value)))


@admin.register(User)
class UserAdmin(StudentRecordAccessLogMixin, DjangoUserAdmin):
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

    def logged_student_ids(self, obj: User) -> list[int]:
        profile = getattr(obj, "student_profile", None)
        return [profile.pk] if profile else []

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


# --- calendar and organisations -----------------------------------------------------------


@admin.register(AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    list_display = ("code", "start_date", "end_date")
    search_fields = ("code",)
    ordering = ("-start_date",)


class ConsortiumPolicyForm(forms.ModelForm):
    class Meta:
        model = ConsortiumPolicy
        fields = (
            "consortium",
            "academic_year",
            "registration_opens",
            "registration_closes",
            "payment_deadline",
            "grading_deadline",
            "annual_fee",
            "waiver_reasons",
            "grade_scale",
            "default_minimum_grade",
            "school_email_domains",
        )

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("registration_opens"), cleaned.get("registration_closes")
        if opens and closes and closes < opens:
            self.add_error("registration_closes", _("Registration cannot close before it opens."))
        scale, minimum = cleaned.get("grade_scale"), cleaned.get("default_minimum_grade")
        if scale and minimum:
            try:
                cleaned["default_minimum_grade"] = normalize(scale, minimum)
            except GradeError as error:
                self.add_error("default_minimum_grade", str(error.args[0]))
        return cleaned


@admin.register(ConsortiumPolicy)
class ConsortiumPolicyAdmin(admin.ModelAdmin):
    form = ConsortiumPolicyForm
    list_display = (
        "consortium",
        "academic_year",
        "registration_opens",
        "registration_closes",
        "payment_deadline",
        "grading_deadline",
        "annual_fee",
        "default_minimum_grade",
    )
    list_filter = ("academic_year", "consortium", "grade_scale")
    list_select_related = ("consortium", "academic_year")
    search_fields = ("consortium__name", "academic_year__code")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("consortium", "academic_year")}),
        (
            _("Registration window and deadlines"),
            {
                "fields": (
                    ("registration_opens", "registration_closes"),
                    "payment_deadline",
                    "grading_deadline",
                )
            },
        ),
        (_("Annual student fee"), {"fields": ("annual_fee", "waiver_reasons")}),
        (_("Minimum grade for credit"), {"fields": ("grade_scale", "default_minimum_grade")}),
        (_("Student email"), {"fields": ("school_email_domains",)}),
        (_("Record"), {"fields": ("updated_at",)}),
    )


class ConsortiumPolicyInline(admin.TabularInline):
    model = ConsortiumPolicy
    form = ConsortiumPolicyForm
    extra = 0
    fields = (
        "academic_year",
        "registration_opens",
        "registration_closes",
        "payment_deadline",
        "grading_deadline",
        "annual_fee",
        "grade_scale",
        "default_minimum_grade",
    )
    show_change_link = True
    verbose_name_plural = _("policies by school year (open one for fees and waivers)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("academic_year")


@admin.register(Consortium)
class ConsortiumAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_name", "contact_email", "contact_phone", "website")
    list_filter = ("show_teacher_names_publicly",)
    search_fields = ("name", "slug", "contact_name", "contact_email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ConsortiumPolicyInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "website")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (
            _("Shown to students and the public"),
            {"fields": ("payment_instructions", "show_teacher_names_publicly")},
        ),
    )


@admin.register(College)
class CollegeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "consortium", "registrar_email")
    list_filter = ("consortium",)
    list_select_related = ("consortium",)
    search_fields = ("name", "code")
    fieldsets = (
        (None, {"fields": ("name", "code", "consortium")}),
        (_("Contact"), {"fields": ("registrar_email", "website")}),
    )


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "consortium")
    list_filter = ("consortium",)
    list_select_related = ("consortium",)
    search_fields = ("name", "code")
    fields = ("name", "code", "consortium")


@admin.register(HighSchool)
class HighSchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "district", "consortium", "city")
    list_filter = ("kind", "district__consortium")
    list_select_related = ("district__consortium",)
    search_fields = ("name", "code", "city", "district__name")
    autocomplete_fields = ("district", "served_districts")
    fieldsets = (
        (None, {"fields": ("name", "code", "kind", "district", "city")}),
        (_("Skills center"), {"fields": ("served_districts",)}),
    )

    @admin.display(description=_("consortium"), ordering="district__consortium__name")
    def consortium(self, obj: HighSchool):
        return obj.district.consortium


@admin.register(CareerCluster)
class CareerClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "framework", "is_active")
    list_filter = ("framework", "is_active")
    search_fields = ("name", "code")
    fields = ("framework", "code", "name", "is_active")


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


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "user")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("user__email", "dedupe_key")
    date_hierarchy = "sent_at"
    fields = ("user", "kind", "dedupe_key", "sent_at")
    readonly_fields = fields
