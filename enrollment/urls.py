from django.urls import path

from . import views

app_name = "enrollment"

urlpatterns = [
    # account
    path("signup/", views.sign_up, name="sign_up"),
    path("signup/check-email/", views.sign_up_email_check, name="sign_up_email_check"),
    path("signup/forgot-email/", views.forgot_email, name="forgot_email"),
    path("signup/recover/", views.account_recovery_send, name="account_recovery_send"),
    path("signup/recover/sent/", views.recovery_sent, name="recovery_sent"),
    path("verify/sent/", views.verify_sent, name="verify_sent"),
    path("verify/resend/", views.verify_resend, name="verify_resend"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    # the student's pages
    path("student/dashboard/", views.dashboard, name="dashboard"),
    path("student/register/", views.register, name="register"),
    path("student/register/review/", views.register_review, name="register_review"),
    path("student/register/confirm/", views.register_confirm, name="register_confirm"),
    path("student/registrations/confirmation/", views.confirmation, name="confirmation"),
    path("student/registrations/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("student/credits/", views.credits, name="credits"),
    path("student/profile/", views.profile, name="profile"),
    path("student/profile/legal-identity/", views.identity_change, name="identity_change"),
    path(
        "student/profile/legal-identity/<int:pk>/cancel/",
        views.identity_change_cancel,
        name="identity_change_cancel",
    ),
]
