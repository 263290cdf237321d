"""The site's URLs: each app's pages under its namespace, plus the home page and the
liveness check. This module and sers.views sit at the top of the layers (README)."""

from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "SERS administration"
admin.site.site_title = "SERS admin"
admin.site.index_title = "Records and settings"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("", include("organisations.urls")),
    path("", include("reports.urls")),
    path("articulations/", include("articulations.urls")),
    path("", include("enrollment.urls")),
]
