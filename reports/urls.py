from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
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
]
