"""Django admin for reporting records: look, never touch.

The access log is evidence of who saw which student records, so nobody edits or
deletes it here; report jobs are managed from the jobs page, where permissions and
file downloads are checked and logged.
"""

from django.contrib import admin

from consortia.admin import ReadOnlyAdmin

from .models import AccessLogEntry, AccessLogStudent, ReportJob, TranscriptReportRow


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "role", "action", "what", "student_count", "ip_address"]
    list_filter = ["action", "role", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor__email", "what"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False  # the log grows large; counting it all is slow


@admin.register(AccessLogStudent)
class AccessLogStudentAdmin(ReadOnlyAdmin):
    list_display = ["entry", "student"]
    search_fields = ["student__sers_id"]
    list_select_related = ["entry", "student"]
    show_full_result_count = False


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "kind",
        "file_format",
        "requested_by",
        "college",
        "academic_year",
        "status",
        "progress",
        "row_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "file_format"]
    search_fields = ["requested_by__email", "college__name"]
    list_select_related = ["requested_by", "college", "academic_year"]
    date_hierarchy = "created_at"


@admin.register(TranscriptReportRow)
class TranscriptReportRowAdmin(ReadOnlyAdmin):
    list_display = ["job", "enrollment"]
    search_fields = ["enrollment__student__sers_id"]
    list_select_related = ["job", "enrollment"]
    show_full_result_count = False
