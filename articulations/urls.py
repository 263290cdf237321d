from django.urls import path
from django.views.generic import RedirectView

from .views import manage, public, yearly

app_name = "articulations"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="articulations:search"), name="index"),
    # Public: no login.
    path("classes/", public.search, name="search"),
    path("classes/export.csv", public.search_csv, name="search_csv"),
    path("classes/<int:pk>/", public.detail, name="detail"),
    path("classes/school/<int:pk>/", public.catalog, name="catalog"),
    # Staff.
    path("manage/", manage.manage_list, name="manage_list"),
    path("manage/new/", manage.manage_create, name="manage_create"),
    path("manage/<int:pk>/", manage.manage_detail, name="manage_detail"),
    path("manage/<int:pk>/edit/", manage.manage_edit, name="manage_edit"),
    path("manage/<int:pk>/status/", manage.manage_status, name="manage_status"),
    path("manage/<int:pk>/revise/", manage.manage_revise, name="manage_revise"),
    path("manage/<int:pk>/discard/", manage.manage_discard, name="manage_discard"),
    path("manage/<int:pk>/teachers/", manage.manage_teachers, name="manage_teachers"),
    path(
        "manage/<int:pk>/teachers/<int:teacher_id>/remove/",
        manage.manage_teacher_remove,
        name="manage_teacher_remove",
    ),
    path("manage/courses/", manage.manage_courses, name="manage_courses"),
    path(
        "manage/courses/<int:pk>/offered/",
        manage.manage_course_offered,
        name="manage_course_offered",
    ),
    path("manage/rollover/", yearly.rollover, name="rollover"),
    path("manage/rollover/runs/", yearly.rollover_runs_fragment, name="rollover_runs"),
    path("manage/import/", yearly.import_agreements, name="import"),
    path(
        "manage/import/template.csv",
        yearly.import_template,
        {"fmt": "csv"},
        name="import_template_csv",
    ),
    path(
        "manage/import/template.xlsx",
        yearly.import_template,
        {"fmt": "xlsx"},
        name="import_template_xlsx",
    ),
]
