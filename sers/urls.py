from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "SERS administration"
admin.site.site_title = "SERS admin"
admin.site.index_title = "Records and settings"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("consortia.urls")),
    path("", include("consortia.twofactor")),
    path("", include("reports.urls")),
    path("articulations/", include("articulations.urls")),
    path("", include("enrollment.urls")),
]
