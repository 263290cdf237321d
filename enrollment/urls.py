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
    # teachers
    path("teacher/classes/", views.teacher_classes, name="teacher_classes"),
    path("teacher/classes/request/", views.teacher_class_request, name="teacher_class_request"),
    path(
        "teacher/classes/requests/<int:pk>/cancel/",
        views.teacher_class_request_cancel,
        name="teacher_class_request_cancel",
    ),
    path("teacher/classes/<int:pk>/", views.teacher_roster, name="teacher_roster"),
    path(
        "teacher/classes/<int:pk>/confirm/",
        views.teacher_roster_confirm,
        name="teacher_roster_confirm",
    ),
    path("teacher/classes/<int:pk>/grades/", views.teacher_grades, name="teacher_grades"),
    path(
        "teacher/classes/<int:pk>/grades/check/",
        views.teacher_grade_check,
        name="teacher_grade_check",
    ),
    path(
        "teacher/classes/<int:pk>/grades/<int:enrollment_pk>/",
        views.teacher_grade_row,
        name="teacher_grade_row",
    ),
    path("teacher/classes/<int:pk>/complete/", views.teacher_complete, name="teacher_complete"),
    path("teacher/classes/<int:pk>/upload/", views.teacher_upload, name="teacher_upload"),
    path("teacher/enrollments/<int:pk>/remove/", views.teacher_remove, name="teacher_remove"),
    # any staff in scope
    path("staff/enrollments/<int:pk>/", views.staff_enrollment, name="staff_enrollment"),
    path("staff/students/", views.staff_lookup, name="staff_lookup"),
    path("staff/students/<int:pk>/", views.staff_student, name="staff_student"),
    path(
        "staff/students/<int:pk>/reveal-email/",
        views.staff_reveal_email,
        name="staff_reveal_email",
    ),
    path(
        "staff/students/<int:pk>/resend-verification/",
        views.staff_resend_verification,
        name="staff_resend_verification",
    ),
    path(
        "staff/students/<int:pk>/password-reset/",
        views.staff_password_reset,
        name="staff_password_reset",
    ),
    path("staff/students/<int:pk>/register/", views.staff_register, name="staff_register"),
    # consortium admins
    path("consortium/", views.consortium_home, name="consortium_home"),
    path("consortium/fees/", views.fee_list, name="fee_list"),
    path("consortium/fees/upload/", views.fee_upload, name="fee_upload"),
    path("consortium/fees/<int:pk>/", views.fee_detail, name="fee_detail"),
    path("consortium/duplicates/", views.duplicate_list, name="duplicate_list"),
    path("consortium/duplicates/check/", views.duplicate_scan, name="duplicate_scan"),
    path("consortium/duplicates/<int:pk>/", views.duplicate_review, name="duplicate_review"),
    path(
        "consortium/duplicates/<int:pk>/different/",
        views.duplicate_dismiss,
        name="duplicate_dismiss",
    ),
    path("consortium/students/<int:pk>/merge/", views.merge_start, name="merge_start"),
    path("consortium/merge/<int:keep>/<int:merge>/", views.student_merge, name="student_merge"),
    path("consortium/class-requests/", views.section_requests, name="section_requests"),
    path(
        "consortium/class-requests/<int:pk>/decide/",
        views.section_request_decide,
        name="section_request_decide",
    ),
    path(
        "consortium/enrollments/<int:pk>/override-grade/",
        views.grade_override,
        name="grade_override",
    ),
    # college registrars
    path("registrar/queue/", views.registrar_queue, name="registrar_queue"),
    path("registrar/queue/transcribe/", views.registrar_transcribe, name="registrar_transcribe"),
    path(
        "registrar/enrollments/<int:pk>/transcribe/",
        views.registrar_transcribe_one,
        name="registrar_transcribe_one",
    ),
    path("registrar/enrollments/<int:pk>/undo/", views.registrar_undo, name="registrar_undo"),
    path("registrar/upload/", views.registrar_upload, name="registrar_upload"),
]
