from django.urls import path

from .views import (
    consortium,
    helpdesk,
    oneroster,
    records,
    registrar,
    student,
    student_signup,
    teacher,
)

app_name = "enrollment"

urlpatterns = [
    # account
    path("signup/", student_signup.sign_up, name="sign_up"),
    path("signup/check-email/", student_signup.sign_up_email_check, name="sign_up_email_check"),
    path("signup/forgot-email/", student_signup.forgot_email, name="forgot_email"),
    path("signup/recover/", student_signup.account_recovery_send, name="account_recovery_send"),
    path("signup/recover/sent/", student_signup.recovery_sent, name="recovery_sent"),
    path("verify/sent/", student_signup.verify_sent, name="verify_sent"),
    path("verify/resend/", student_signup.verify_resend, name="verify_resend"),
    path("verify/<str:token>/", student_signup.verify_email, name="verify_email"),
    # the student's pages
    path("student/dashboard/", student.dashboard, name="dashboard"),
    path("student/register/", student.register, name="register"),
    path("student/register/review/", student.register_review, name="register_review"),
    path("student/register/confirm/", student.register_confirm, name="register_confirm"),
    path("student/registrations/confirmation/", student.confirmation, name="confirmation"),
    path("student/registrations/<int:pk>/withdraw/", student.withdraw, name="withdraw"),
    path("student/credits/", student.credits, name="credits"),
    path("student/profile/", student.profile, name="profile"),
    path("student/profile/legal-identity/", student.identity_change, name="identity_change"),
    path(
        "student/profile/legal-identity/<int:pk>/cancel/",
        student.identity_change_cancel,
        name="identity_change_cancel",
    ),
    # teachers
    path("teacher/classes/", teacher.teacher_classes, name="teacher_classes"),
    path("teacher/classes/request/", teacher.teacher_class_request, name="teacher_class_request"),
    path(
        "teacher/classes/requests/<int:pk>/cancel/",
        teacher.teacher_class_request_cancel,
        name="teacher_class_request_cancel",
    ),
    path("teacher/classes/<int:pk>/", teacher.teacher_roster, name="teacher_roster"),
    path(
        "teacher/classes/<int:pk>/confirm/",
        teacher.teacher_roster_confirm,
        name="teacher_roster_confirm",
    ),
    path("teacher/classes/<int:pk>/grades/", teacher.teacher_grades, name="teacher_grades"),
    path(
        "teacher/classes/<int:pk>/grades/check/",
        teacher.teacher_grade_check,
        name="teacher_grade_check",
    ),
    path(
        "teacher/classes/<int:pk>/grades/<int:enrollment_pk>/",
        teacher.teacher_grade_row,
        name="teacher_grade_row",
    ),
    path("teacher/classes/<int:pk>/complete/", teacher.teacher_complete, name="teacher_complete"),
    path("teacher/classes/<int:pk>/upload/", teacher.teacher_upload, name="teacher_upload"),
    path("teacher/enrollments/<int:pk>/remove/", teacher.teacher_remove, name="teacher_remove"),
    # the schools' class lists (OneRoster exports): career specialists and teachers
    path("class-lists/", oneroster.sis_imports, name="sis_imports"),
    path("class-lists/<int:pk>/", oneroster.sis_mapping, name="sis_mapping"),
    # any staff in scope
    path("staff/enrollments/<int:pk>/", records.staff_enrollment, name="staff_enrollment"),
    path("staff/students/", helpdesk.staff_lookup, name="staff_lookup"),
    path("staff/students/<int:pk>/", helpdesk.staff_student, name="staff_student"),
    path(
        "staff/students/<int:pk>/reveal-email/",
        helpdesk.staff_reveal_email,
        name="staff_reveal_email",
    ),
    path(
        "staff/students/<int:pk>/resend-verification/",
        helpdesk.staff_resend_verification,
        name="staff_resend_verification",
    ),
    path(
        "staff/students/<int:pk>/password-reset/",
        helpdesk.staff_password_reset,
        name="staff_password_reset",
    ),
    path("staff/students/<int:pk>/register/", helpdesk.staff_register, name="staff_register"),
    # consortium admins
    path("consortium/", consortium.consortium_home, name="consortium_home"),
    path("consortium/fees/", consortium.fee_list, name="fee_list"),
    path("consortium/fees/upload/", consortium.fee_upload, name="fee_upload"),
    path("consortium/fees/<int:pk>/", consortium.fee_detail, name="fee_detail"),
    path("consortium/duplicates/", consortium.duplicate_list, name="duplicate_list"),
    path("consortium/duplicates/check/", consortium.duplicate_scan, name="duplicate_scan"),
    path("consortium/duplicates/<int:pk>/", consortium.duplicate_review, name="duplicate_review"),
    path(
        "consortium/duplicates/<int:pk>/different/",
        consortium.duplicate_dismiss,
        name="duplicate_dismiss",
    ),
    path("consortium/students/<int:pk>/merge/", consortium.merge_start, name="merge_start"),
    path(
        "consortium/merge/<int:keep>/<int:merge>/", consortium.student_merge, name="student_merge"
    ),
    path("consortium/class-requests/", consortium.section_requests, name="section_requests"),
    path(
        "consortium/class-requests/<int:pk>/decide/",
        consortium.section_request_decide,
        name="section_request_decide",
    ),
    path(
        "consortium/enrollments/<int:pk>/override-grade/",
        records.grade_override,
        name="grade_override",
    ),
    # college registrars
    path("registrar/queue/", registrar.registrar_queue, name="registrar_queue"),
    path(
        "registrar/queue/transcribe/", registrar.registrar_transcribe, name="registrar_transcribe"
    ),
    path(
        "registrar/enrollments/<int:pk>/transcribe/",
        registrar.registrar_transcribe_one,
        name="registrar_transcribe_one",
    ),
    path("registrar/enrollments/<int:pk>/undo/", registrar.registrar_undo, name="registrar_undo"),
    path("registrar/upload/", registrar.registrar_upload, name="registrar_upload"),
]
