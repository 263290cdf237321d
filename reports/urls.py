from django.urls import path

from . import views, views_access

app_name = "reports"

urlpatterns = [
    path("reports/jobs/", views.report_jobs, name="report_jobs"),
    path("reports/jobs/<int:job_id>/", views.report_job_detail, name="report_job_detail"),
    path(
        "reports/jobs/<int:job_id>/download/",
        views.report_job_download,
        name="report_job_download",
    ),
    path("reports/jobs/<int:job_id>/retry/", views.report_job_retry, name="report_job_retry"),
    path("reports/jobs/<int:job_id>/rerun/", views.report_job_rerun, name="report_job_rerun"),
    path("reports/transcript-credit/", views.report_transcript_new, name="report_transcript_new"),
    path("reports/dashboard/", views.report_dashboard, name="report_dashboard"),
    path(
        "reports/dashboard/export/",
        views.report_dashboard_export,
        name="report_dashboard_export",
    ),
    path(
        "reports/dashboard/enrollments/",
        views.report_enrollments_export,
        name="report_enrollments_export",
    ),
    # The student-record access log (FERPA): review pages and a student's own page.
    path("reports/access-log/", views_access.access_log, name="access_log"),
    path(
        "reports/access-log/students/<int:pk>/",
        views_access.access_log_student,
        name="access_log_student",
    ),
    path(
        "reports/access-log/staff/<int:user_id>/",
        views_access.access_log_staff,
        name="access_log_staff",
    ),
    path("student/record-views/", views_access.record_views, name="record_views"),
]
