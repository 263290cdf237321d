from django.urls import path

from . import views, views_state

app_name = "organisations"

urlpatterns = [
    path("accounts/activate/<uidb64>/<token>/", views.teacher_activate, name="teacher_activate"),
    path(
        "accounts/teachers/<int:user_id>/resend-invitation/",
        views.teacher_invitation_resend,
        name="teacher_invitation_resend",
    ),
    path(
        "consortia/<int:pk>/public-settings/",
        views.consortium_public_settings,
        name="consortium_public_settings",
    ),
    # consortium admins: policy per school year, and teachers
    path("consortium/policies/", views.consortium_policies, name="consortium_policies"),
    path(
        "consortium/policies/<int:consortium_id>/<str:year>/",
        views.consortium_policy_edit,
        name="consortium_policy_edit",
    ),
    path(
        "consortium/fee-instructions/<int:consortium_id>/",
        views.consortium_payment_instructions,
        name="consortium_payment_instructions",
    ),
    path("consortium/teachers/", views.consortium_teachers, name="consortium_teachers"),
    path(
        "consortium/teachers/invite/",
        views.consortium_teacher_invite,
        name="consortium_teacher_invite",
    ),
    path(
        "consortium/teachers/<int:user_id>/",
        views.consortium_teacher,
        name="consortium_teacher",
    ),
    path(
        "consortium/teachers/<int:user_id>/deactivate/",
        views.consortium_teacher_deactivate,
        name="consortium_teacher_deactivate",
    ),
    path(
        "consortium/teachers/<int:user_id>/activate/",
        views.consortium_teacher_activate,
        name="consortium_teacher_activate",
    ),
    path(
        "consortium/teachers/<int:user_id>/schools/",
        views.consortium_teacher_school_add,
        name="consortium_teacher_school_add",
    ),
    path(
        "consortium/teachers/<int:user_id>/schools/<int:school_id>/remove/",
        views.consortium_teacher_school_remove,
        name="consortium_teacher_school_remove",
    ),
    # state staff: the organisations
    path(
        "state/organisations/",
        views_state.state_organisations,
        name="state_organisations_home",
    ),
    path(
        "state/organisations/<slug:kind>/",
        views_state.state_organisations,
        name="state_organisations",
    ),
    path(
        "state/organisations/<slug:kind>/new/",
        views_state.state_organisation_new,
        name="state_organisation_new",
    ),
    path(
        "state/organisations/<slug:kind>/<int:pk>/",
        views_state.state_organisation,
        name="state_organisation",
    ),
]
