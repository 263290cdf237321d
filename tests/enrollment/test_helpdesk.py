"""Tests of enrollment.services.helpdesk: staff help a student with their account."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accesslog.models import AccessLogEntry
from accounts.models import User
from enrollment.models import Enrollment, EnrollmentStatusChange, StudentProfile
from enrollment.services import helpdesk, registration
from tests.factories import StudentProfileFactory

pytestmark = pytest.mark.django_db

EMAIL = "maria.garcia@gmail.com"


@pytest.fixture
def maria(here):
    return StudentProfileFactory(
        high_school=here.school,
        legal_first_name="María José",
        legal_last_name="García López",
        birth_date=datetime.date(2009, 4, 12),
        user__email=EMAIL,
    )


def unverify(student):
    User.objects.filter(pk=student.user_id).update(email_verified_at=None)


def rows() -> list:
    """The enrollments and their history, and the access log: to show nothing moved."""
    return [
        sorted(Enrollment.objects.values_list("pk", "student", "section", "status")),
        EnrollmentStatusChange.objects.count(),
        AccessLogEntry.objects.count(),
    ]


# --- the confirmation link and the password reset -------------------------------------------


def test_a_fresh_confirmation_link_is_sent_and_logged(
    here, maria, django_capture_on_commit_callbacks
):
    unverify(maria)
    with django_capture_on_commit_callbacks(execute=True):
        helpdesk.helpdesk_resend_verification(actor=here.specialist, student_id=maria.pk)
    (email,) = mail.outbox
    assert email.to == [EMAIL]
    assert "/verify/" in email.body
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what, entry.actor) == (
        "change",
        "confirmation email resent",
        here.specialist,
    )


def test_a_password_reset_link_goes_to_the_address_on_file(
    here, maria, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        helpdesk.helpdesk_password_reset(actor=here.admin, student_id=maria.pk)
    (email,) = mail.outbox
    assert email.to == [EMAIL]
    assert "/accounts/password/reset/" in email.body
    assert AccessLogEntry.objects.get().what == "password reset sent"


@pytest.mark.parametrize(
    ("case", "service", "message"),
    [
        (
            "confirmed",
            helpdesk.helpdesk_resend_verification,
            "This student's email address is confirmed already.",
        ),
        ("inactive", helpdesk.helpdesk_resend_verification, "This account is not active."),
        ("inactive", helpdesk.helpdesk_password_reset, "This account is not active."),
    ],
)
def test_nothing_is_sent_when_it_cannot_help(
    here, maria, case, service, message, django_capture_on_commit_callbacks
):
    if case == "inactive":
        unverify(maria)
        User.objects.filter(pk=maria.user_id).update(is_active=False)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        service(actor=here.specialist, student_id=maria.pk)
    assert refused.value.messages == [message]
    assert mail.outbox == []
    assert not AccessLogEntry.objects.exists()


# --- revealing the email --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "role"), [("specialist", "career_specialist"), ("admin", "consortium_admin")]
)
def test_the_email_is_revealed_and_logged(here, maria, who, role):
    actor = getattr(here, who)
    assert helpdesk.helpdesk_reveal_email(actor=actor, student_id=maria.pk) == EMAIL
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what, entry.actor, entry.role) == (
        "reveal",
        "student login email",
        actor,
        role,
    )
    assert list(entry.students.values_list("student_id", flat=True)) == [maria.pk]


# --- who may help whom ----------------------------------------------------------------------

SERVICES = {
    "resend": lambda actor, student: helpdesk.helpdesk_resend_verification(
        actor=actor, student_id=student.pk
    ),
    "reset": lambda actor, student: helpdesk.helpdesk_password_reset(
        actor=actor, student_id=student.pk
    ),
    "reveal": lambda actor, student: helpdesk.helpdesk_reveal_email(
        actor=actor, student_id=student.pk
    ),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("teacher", PermissionDenied),
        ("registrar", PermissionDenied),
        ("specialist there", Http404),
        ("admin there", Http404),
    ],
)
def test_only_staff_who_help_the_students_school_help(
    here, there, maria, service, who, refusal, django_capture_on_commit_callbacks
):
    unverify(maria)
    actor = {
        "teacher": here.teacher,
        "registrar": here.registrar,
        "specialist there": there.specialist,
        "admin there": there.admin,
    }[who]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(refusal):
        SERVICES[service](actor, maria)
    assert mail.outbox == []
    assert not AccessLogEntry.objects.exists()


# --- registering on a student's behalf ------------------------------------------------------


def test_staff_register_a_student_on_their_behalf(here, maria, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = helpdesk.enrollment_register_on_behalf(
            actor=here.specialist, student_id=maria.pk, section_id=here.section.pk
        )
    assert (enrollment.student, enrollment.section, enrollment.registered_by) == (
        maria,
        here.section,
        here.specialist,
    )
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert (change.changed_by, change.reason, change.kind) == (
        here.specialist,
        "Registered by staff for the student.",
        "change",
    )
    assert maria.fees.get().amount == 50
    (email,) = mail.outbox
    assert email.to == [EMAIL]
    assert email.subject == f"You are registered: CTE Dual Credit {here.year.code}"


def test_a_late_registration_by_the_consortium_admin(here, maria):
    here.policy.registration_closes = datetime.date(2026, 11, 15)
    here.policy.save()
    before = rows()
    with pytest.raises(registration.RegistrationRefused) as refused:
        helpdesk.enrollment_register_on_behalf(
            actor=here.admin, student_id=maria.pk, section_id=here.section.pk
        )
    assert refused.value.code == "window_closed"
    assert rows() == before
    enrollment = helpdesk.enrollment_register_on_behalf(
        actor=here.admin,
        student_id=maria.pk,
        section_id=here.section.pk,
        override_reason=" Moved in from Oregon ",
    )
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert (change.kind, change.reason) == (
        "override",
        "Late registration after the window: Moved in from Oregon",
    )


def test_a_registration_inside_the_window_is_not_recorded_as_late(here, maria):
    """A reason typed in the late-registration box while the window is open sets nothing
    aside: the registration is an ordinary one on the student's behalf."""
    assert here.policy.registration_open_on(datetime.date(2026, 12, 1))
    enrollment = helpdesk.enrollment_register_on_behalf(
        actor=here.admin,
        student_id=maria.pk,
        section_id=here.section.pk,
        override_reason="Counselor asked",
    )
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert "Late" not in change.reason
    assert "after the window" not in change.reason
    assert (change.kind, change.reason) == (
        "change",
        "Registered by staff for the student, inside the window: Counselor asked",
    )


def test_a_registration_before_the_window_opens_says_so(here, maria):
    here.policy.registration_opens = datetime.date(2026, 12, 15)
    here.policy.save()
    enrollment = helpdesk.enrollment_register_on_behalf(
        actor=here.admin,
        student_id=maria.pk,
        section_id=here.section.pk,
        override_reason="Program starts early",
    )
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert (change.kind, change.reason) == (
        "override",
        "Registration before the window opened: Program starts early",
    )


def test_an_override_does_not_skip_the_other_rules(here, maria):
    here.policy.registration_closes = datetime.date(2026, 11, 15)
    here.policy.save()
    here.teacher.is_active = False
    here.teacher.save()
    with pytest.raises(registration.RegistrationRefused) as refused:
        helpdesk.enrollment_register_on_behalf(
            actor=here.admin,
            student_id=maria.pk,
            section_id=here.section.pk,
            override_reason="Late",
        )
    assert refused.value.code == "teacher_inactive"


def test_the_specialist_cannot_override(here, maria):
    with pytest.raises(PermissionDenied):
        helpdesk.enrollment_register_on_behalf(
            actor=here.specialist,
            student_id=maria.pk,
            section_id=here.section.pk,
            override_reason="Please",
        )


def test_an_admin_overrides_only_for_a_class_of_their_consortium(here, there, maria):
    before = rows()
    with pytest.raises(PermissionDenied):
        helpdesk.enrollment_register_on_behalf(
            actor=here.admin,
            student_id=maria.pk,
            section_id=there.section.pk,
            override_reason="Late",
        )
    assert rows() == before


def test_a_merged_record_is_not_registered(here, maria):
    StudentProfile.objects.filter(pk=maria.pk).update(merged_into=here.students[0])
    before = rows()
    with pytest.raises(ValidationError) as refused:
        helpdesk.enrollment_register_on_behalf(
            actor=here.specialist, student_id=maria.pk, section_id=here.section.pk
        )
    assert refused.value.messages == ["This record was merged into another student: use that one."]
    assert rows() == before


def test_a_student_outside_the_scope_is_not_registered(here, there):
    before = rows()
    with pytest.raises(Http404):
        helpdesk.enrollment_register_on_behalf(
            actor=here.specialist, student_id=there.students[0].pk, section_id=here.section.pk
        )
    assert rows() == before
