"""Django admin for the class lists schools upload (OneRoster): read only, for support.

The lists change only through an upload (enrollment.services.oneroster), which replaces a
school's current import as a whole; the admin shows what was loaded and when.
"""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from ..models import SisClass, SisClassMapping, SisEnrollment, SisImport, SisStudent


@admin.register(SisImport)
class SisImportAdmin(ReadOnlyAdmin):
    list_display = (
        "imported_at",
        "high_school",
        "teacher",
        "is_current",
        "classes_count",
        "students_count",
        "enrollments_count",
    )
    list_filter = ("is_current",)
    list_select_related = ("high_school", "teacher")
    search_fields = ("high_school__name",)
    fields = (
        ("high_school", "teacher"),
        ("imported_by", "imported_at"),
        ("source_system", "is_current"),
        ("classes_count", "students_count", "enrollments_count"),
    )
    readonly_fields = (
        "high_school",
        "teacher",
        "imported_by",
        "imported_at",
        "source_system",
        "is_current",
        "classes_count",
        "students_count",
        "enrollments_count",
    )


@admin.register(SisClass)
class SisClassAdmin(ReadOnlyAdmin):
    list_display = ("title", "class_code", "course_code", "periods", "terms", "sis_import")
    list_select_related = ("sis_import",)
    search_fields = ("title", "class_code", "course_code", "sourced_id")
    fields = (
        "sis_import",
        ("sourced_id", "title"),
        ("class_code", "course_title", "course_code"),
        ("periods", "location"),
        ("terms", "term_types", "starts_on", "ends_on"),
        ("teachers", "teacher_emails"),
    )
    readonly_fields = (
        "sis_import",
        "sourced_id",
        "title",
        "class_code",
        "course_title",
        "course_code",
        "periods",
        "location",
        "terms",
        "term_types",
        "starts_on",
        "ends_on",
        "teachers",
        "teacher_emails",
    )


@admin.register(SisStudent)
class SisStudentAdmin(ReadOnlyAdmin):
    list_display = ("family_name", "given_name", "identifier", "sis_import")
    list_select_related = ("sis_import",)
    search_fields = ("family_name", "given_name", "identifier", "sourced_id")
    fields = (
        "sis_import",
        ("sourced_id", "identifier"),
        ("given_name", "middle_name", "family_name", "preferred_given_name"),
        "email",
    )
    readonly_fields = (
        "sis_import",
        "sourced_id",
        "identifier",
        "given_name",
        "middle_name",
        "family_name",
        "preferred_given_name",
        "email",
    )


@admin.register(SisEnrollment)
class SisEnrollmentAdmin(ReadOnlyAdmin):
    list_display = ("sis_class", "sis_student")
    list_select_related = ("sis_class", "sis_student")
    fields = ("sis_class", "sis_student")
    readonly_fields = fields


@admin.register(SisClassMapping)
class SisClassMappingAdmin(ReadOnlyAdmin):
    list_display = ("high_school", "class_sourced_id", "section", "decided_by", "decided_at")
    list_select_related = (
        "high_school",
        "section__articulation__high_school_course",
        "section__high_school",
        "section__academic_year",
        "decided_by",
    )
    search_fields = ("class_sourced_id", "high_school__name")
    fields = (("high_school", "class_sourced_id"), "section", ("decided_by", "decided_at"))
    readonly_fields = ("high_school", "class_sourced_id", "section", "decided_by", "decided_at")
