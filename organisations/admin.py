"""Django admin for organisations, the school calendar and accounts.

Written for state staff: plain column names, search boxes that find people by name
or email, and forms that explain what is wrong instead of failing on a database rule.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sers.text import TextBlockField, TextLineField, refuse_control_characters

from .grades import GradeError, normalize
from .models import (
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)


@admin.register(AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    list_display = ("code", "start_date", "end_date")
    search_fields = ("code",)
    ordering = ("-start_date",)


class ConsortiumPolicyForm(forms.ModelForm):
    class Meta:
        model = ConsortiumPolicy
        fields = ("consortium", "academic_year", *ConsortiumPolicy.EDITABLE_FIELDS)
        field_classes = {
            "waiver_reasons": TextBlockField,
            "default_minimum_grade": TextLineField,
            "school_email_domains": TextBlockField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "payment_url" in self.fields:  # Django's URLField lets control characters through
            self.fields["payment_url"].validators.append(refuse_control_characters)

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
        (_("Annual student fee"), {"fields": ("annual_fee", "payment_url", "waiver_reasons")}),
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
            {
                "fields": (
                    "payment_instructions",
                    "payment_instructions_es",
                    "show_teacher_names_publicly",
                )
            },
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
