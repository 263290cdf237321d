"""Django admin for reporting records: look, never touch.

Report jobs are managed from the jobs page, where permissions and
file downloads are checked and logged.
"""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import DashboardAggregate, ReportJob, TranscriptReportRow


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "kind",
        "file_format",
        "origin",
        "requested_by",
        "college",
        "academic_year",
        "status",
        "progress",
        "row_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "file_format", "origin"]
    search_fields = ["requested_by__email", "college__name"]
    list_select_related = ["requested_by", "college", "academic_year"]
    date_hierarchy = "created_at"


@admin.register(TranscriptReportRow)
class TranscriptReportRowAdmin(ReadOnlyAdmin):
    list_display = ["job", "enrollment"]
    search_fields = ["enrollment__student__sers_id"]
    list_select_related = ["job", "enrollment"]
    show_full_result_count = False


@admin.register(DashboardAggregate)
class DashboardAggregateAdmin(ReadOnlyAdmin):
    """The dashboard's precomputed numbers (reports/aggregates.py rebuilds them)."""

    list_display = [
        "refreshed_at",
        "scope_kind",
        "scope_id",
        "academic_year",
        "dimension",
        "group_label",
        "students",
        "enrollments",
    ]
    list_filter = ["scope_kind", "dimension"]
    list_select_related = ["academic_year"]
    show_full_result_count = False
