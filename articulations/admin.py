"""Django admin for courses and articulation agreements."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from organisations.grades import GradeError, normalize
from sers.text import TextBlockField, TextLineField

from .models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    RolloverRun,
    TeacherQualification,
)


@admin.register(CollegeCourse)
class CollegeCourseAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "credits", "college", "is_active")
    list_filter = ("is_active", "college__consortium", "college")
    list_select_related = ("college",)
    search_fields = ("prefix", "number", "title", "college__name")
    autocomplete_fields = ("college",)
    fields = ("college", ("prefix", "number"), "title", "credits", "is_active")

    @admin.display(description=_("course"), ordering="prefix")
    def code(self, obj: CollegeCourse) -> str:
        return obj.code


@admin.register(HighSchoolCourse)
class HighSchoolCourseAdmin(admin.ModelAdmin):
    list_display = ("title", "cip_code", "local_code", "consortium")
    list_filter = ("consortium",)
    list_select_related = ("consortium",)
    search_fields = ("title", "cip_code", "local_code")
    fields = ("consortium", "title", "cip_code", "local_code")


class ArticulationForm(forms.ModelForm):
    class Meta:
        model = Articulation
        fields = (
            "consortium",
            "college",
            "agreement_number",
            "version",
            "status",
            "high_school_course",
            "college_courses",
            "cluster",
            "competencies",
            "high_schools",
            "valid_years",
            "renew_each_year",
            "minimum_grade_scale",
            "minimum_grade",
            "previous_version",
        )
        field_classes = {
            "agreement_number": TextLineField,
            "minimum_grade": TextLineField,
            "competencies": TextBlockField,
        }

    def clean(self):
        cleaned = super().clean()
        scale, minimum = cleaned.get("minimum_grade_scale"), cleaned.get("minimum_grade")
        if scale and minimum:
            try:
                cleaned["minimum_grade"] = normalize(scale, minimum)
            except GradeError as error:
                self.add_error("minimum_grade", str(error.args[0]))
        return cleaned


class TeacherQualificationInline(admin.TabularInline):
    model = TeacherQualification
    extra = 0
    fields = ("teacher", "added_at")
    readonly_fields = ("added_at",)
    autocomplete_fields = ("teacher",)
    verbose_name = _("qualified teacher")
    verbose_name_plural = _("qualified teachers")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("teacher")


class ArticulationStatusChangeInline(ReadOnlyTabularInline):
    model = ArticulationStatusChange
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    verbose_name_plural = _("status history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Articulation)
class ArticulationAdmin(admin.ModelAdmin):
    form = ArticulationForm
    list_display = (
        "agreement_number",
        "version",
        "course",
        "college",
        "cluster",
        "minimum",
        "status",
        "consortium",
    )
    list_display_links = ("agreement_number", "version")
    list_filter = ("status", "consortium", "cluster", "valid_years")
    list_select_related = ("consortium", "college", "high_school_course", "cluster")
    search_fields = (
        "agreement_number",
        "high_school_course__title",
        "high_school_course__cip_code",
        "college__name",
        "college_courses__prefix",
        "college_courses__number",
    )
    autocomplete_fields = (
        "college",
        "high_school_course",
        "previous_version",
        "high_schools",
        "college_courses",
    )
    filter_horizontal = ("valid_years",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [TeacherQualificationInline, ArticulationStatusChangeInline]
    fieldsets = (
        (
            None,
            {"fields": ("consortium", "college", ("agreement_number", "version"), "status")},
        ),
        (
            _("What is articulated"),
            {"fields": ("high_school_course", "college_courses", "cluster", "competencies")},
        ),
        (_("Where and when"), {"fields": ("high_schools", "valid_years", "renew_each_year")}),
        (_("Minimum grade"), {"fields": ("minimum_grade_scale", "minimum_grade")}),
        (
            _("Record"),
            {"fields": ("previous_version", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )

    @admin.display(description=_("high-school course"), ordering="high_school_course__title")
    def course(self, obj: Articulation) -> str:
        return str(obj.high_school_course)

    @admin.display(description=_("minimum grade"))
    def minimum(self, obj: Articulation) -> str:
        return obj.minimum_grade

    def save_model(self, request, obj, form, change):
        # Every status change is recorded, also when it is made here.
        previous = form.initial.get("status", "") if change else ""
        super().save_model(request, obj, form, change)
        if obj.status != previous:
            ArticulationStatusChange.objects.create(
                articulation=obj,
                from_status=previous,
                to_status=obj.status,
                changed_by=request.user,
                note=str(_("Changed in the admin site.")),
            )


@admin.register(ArticulationStatusChange)
class ArticulationStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "articulation", "from_status", "to_status", "changed_by")
    list_filter = ("to_status", "articulation__consortium")
    list_select_related = ("articulation__high_school_course", "changed_by")
    search_fields = ("articulation__agreement_number", "changed_by__email", "note")
    date_hierarchy = "changed_at"
    fields = ("articulation", "from_status", "to_status", "changed_by", "changed_at", "note")
    readonly_fields = fields


@admin.register(TeacherQualification)
class TeacherQualificationAdmin(admin.ModelAdmin):
    list_display = ("teacher", "articulation", "added_at")
    list_filter = ("articulation__consortium",)
    list_select_related = ("teacher", "articulation__high_school_course")
    search_fields = (
        "teacher__email",
        "teacher__first_name",
        "teacher__last_name",
        "articulation__agreement_number",
    )
    autocomplete_fields = ("teacher", "articulation")
    date_hierarchy = "added_at"
    fields = ("articulation", "teacher", "added_at")
    readonly_fields = ("added_at",)


@admin.register(RolloverRun)
class RolloverRunAdmin(ReadOnlyAdmin):
    """Runs of the annual roll-over: started from the consortium pages, only looked at here."""

    list_display = (
        "requested_at",
        "consortium",
        "from_year",
        "to_year",
        "status",
        "renewed_count",
        "already_renewed_count",
        "lapsed_count",
        "expired_count",
        "requested_by",
    )
    list_filter = ("status", "consortium", "to_year")
    list_select_related = ("consortium", "from_year", "to_year", "requested_by")
    search_fields = ("consortium__name", "requested_by__email", "error")
    date_hierarchy = "requested_at"
    fields = (
        "consortium",
        ("from_year", "to_year"),
        "status",
        ("requested_by", "requested_at", "finished_at"),
        ("renewed_count", "already_renewed_count", "lapsed_count", "expired_count"),
        "error",
    )
    readonly_fields = (
        "consortium",
        "from_year",
        "to_year",
        "status",
        "requested_by",
        "requested_at",
        "finished_at",
        "renewed_count",
        "already_renewed_count",
        "lapsed_count",
        "expired_count",
        "error",
    )
