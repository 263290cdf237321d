from django.urls import path

from . import views

app_name = "operations"

urlpatterns = [
    path("", views.operations_home, name="home"),
    path("report-jobs/<int:job_id>/retry/", views.report_job_retry, name="report_job_retry"),
]
