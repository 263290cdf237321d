"""The site's URLs: each app's pages under its namespace, plus the home page, the
liveness check (healthz) and the readiness check (readyz, operations/health.py). This
module and sers.views sit at the top of the layers (README)."""

from django.contrib import admin
from django.urls import include, path

from api.endpoints import api as api_v1
from operations.health import readyz
from operations.metrics_view import metrics_view

from . import views

admin.site.site_header = "SERS administration"
admin.site.site_title = "SERS admin"
admin.site.index_title = "Records and settings"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # the footer's pages
    path("help/", views.help_page, name="help"),
    path("help/report-a-problem/", views.report_problem, name="report_problem"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("cookies/", views.cookies, name="cookies"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, with a token (README: Metrics)
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("", include("organisations.urls")),
    path("", include("reports.urls")),
    path("operations/", include("operations.urls")),
    path("articulations/", include("articulations.urls")),
    # The API for college systems (api/endpoints.py; OpenAPI at /api/v1/openapi.json).
    path("api/v1/", api_v1.urls),
    path("", include("api.urls")),
    path("", include("enrollment.urls")),
]
