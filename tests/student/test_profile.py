"""The profile: contact details, and legal name / birth date changes with their reason."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from enrollment.models import EnrollmentStatus as S
from enrollment.models import IdentityChange, PossibleDuplicate
from enrollment.services.registration import enrollment_register
from enrollment.services.transitions import enrollment_change_status
from tests.factories import TEST_PASSWORD, StudentProfileFactory, UserFactory
from tests.world import TODAY

pytestmark = pytest.mark.django_db


def contact(student, **overrides):
    data = {
        "email": student.user.email,
        "phone": "(509) 555-0100",
        "high_school": student.high_school_id,
        "graduation_year": 2027,
        "language": "es",
        "gender": "",
        "race_ethnicity": "hispanic",
        "current_password": "",
    }
    data.update(overrides)
    return data


def identity(**overrides):
    data = {
        "identity-legal_first_name": "María",
        "identity-legal_middle_name": "Elena",
        "identity-legal_last_name": "Lopez",
        "identity-birth_date": "2009-04-12",
        "identity-reason": "My name was missing its accent and middle name.",
    }
    data.update(overrides)
    return data


def give_attained_credit(student, world):
    enrollment = enrollment_register(
        student=student, section=world.sections[0], actor=student.user, today=TODAY
    )
    teacher = world.sections[0].teacher
    for status, extra in [(S.CONFIRMED, {}), (S.GRADED, {"grade": "A"}), (S.ATTAINED, {})]:
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=teacher, **extra
        )


def test_the_profile_page(student_client, student):
    page = student_client.get(reverse("enrollment:profile")).content.decode()
    assert student.sers_id in page
    assert student.legal_name in page
    assert "Correct my legal name or birth date" in page


def test_contact_details_are_saved(student_client, student):
    response = student_client.post(reverse("enrollment:profile"), contact(student))
    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.phone, student.language, student.race_ethnicity) == (
        "(509) 555-0100",
        "es",
        "hispanic",
    )
    assert student.user.email_verified


def test_changing_the_email_needs_the_password_and_a_new_confirmation(
    student_client, student, django_capture_on_commit_callbacks
):
    response = student_client.post(
        reverse("enrollment:profile"), contact(student, email="maria.new@gmail.com")
    )
    assert response.status_code == 200
    assert "current password" in " ".join(
        response.context["contact_form"].errors["current_password"]
    )
    student.user.refresh_from_db()
    assert student.user.email == "maria.lopez@gmail.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = student_client.post(
            reverse("enrollment:profile"),
            contact(student, email="maria.new@gmail.com", current_password=TEST_PASSWORD),
        )
    assert response.url == reverse("enrollment:verify_sent")
    student.user.refresh_from_db()
    assert student.user.email == "maria.new@gmail.com"
    assert student.user.email_verified_at is None
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["maria.lopez@gmail.com", "maria.new@gmail.com"]
    notice = next(m for m in mail.outbox if m.to == ["maria.lopez@gmail.com"])
    assert "maria.new@gmail.com" not in notice.body  # the old inbox does not learn the new one


def test_an_email_of_another_account_is_refused(student_client, student):
    UserFactory(email="taken@gmail.com")
    response = student_client.post(
        reverse("enrollment:profile"),
        contact(student, email="taken@gmail.com", current_password=TEST_PASSWORD),
    )
    assert "Another account" in " ".join(response.context["contact_form"].errors["email"])


def test_before_any_credit_the_student_corrects_their_identity_directly(student_client, student):
    response = student_client.post(reverse("enrollment:identity_change"), identity())
    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.legal_first_name, student.legal_middle_name) == ("María", "Elena")
    change = IdentityChange.objects.get()
    assert change.status == IdentityChange.Status.APPLIED
    assert (change.old_first_name, change.new_first_name) == ("Maria", "María")
    assert change.reason.startswith("My name was missing")
    assert change.requested_by == student.user
    student.user.refresh_from_db()
    assert student.user.first_name == "María"


def test_after_a_credit_the_change_waits_for_staff(student_client, student, world):
    give_attained_credit(student, world)
    page = student_client.get(reverse("enrollment:profile")).content.decode()
    assert "must be approved by consortium staff" in page
    response = student_client.post(
        reverse("enrollment:identity_change"), identity(**{"identity-birth_date": "2009-05-12"})
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.legal_first_name == "Maria"  # unchanged until approved
    assert student.birth_date == datetime.date(2009, 4, 12)
    change = IdentityChange.objects.get()
    assert change.status == IdentityChange.Status.PENDING
    assert change.new_birth_date == datetime.date(2009, 5, 12)
    page = student_client.get(reverse("enrollment:profile")).content.decode()
    assert "Your request is waiting for consortium staff" in page
    # One waiting request at a time (the service, and a constraint behind it).
    from django.core.exceptions import ValidationError

    from enrollment.services.signup import student_identity_change

    with pytest.raises(ValidationError):
        student_identity_change(
            student=student,
            actor=student.user,
            legal_first_name="Mara",
            legal_middle_name="",
            legal_last_name="Lopez",
            birth_date=student.birth_date,
            reason="again",
        )
    # The student may cancel it.
    cancel = reverse("enrollment:identity_change_cancel", kwargs={"pk": change.pk})
    student_client.post(cancel)
    change.refresh_from_db()
    assert change.status == IdentityChange.Status.CANCELLED
    response = student_client.post(cancel, follow=True)
    assert b"no longer waiting" in response.content


def test_an_identity_change_needs_a_reason_and_a_change(student_client, student):
    response = student_client.post(
        reverse("enrollment:identity_change"), identity(**{"identity-reason": " "})
    )
    assert response.context["identity_form"].errors["reason"]
    response = student_client.post(
        reverse("enrollment:identity_change"),
        identity(
            **{
                "identity-legal_first_name": "Maria",
                "identity-legal_middle_name": "",
            }
        ),
    )
    assert b"Nothing changed" in response.content
    assert not IdentityChange.objects.exists()


def test_a_correction_that_resembles_another_student_is_kept_for_review(
    student_client, student, world
):
    other = StudentProfileFactory(
        legal_first_name="Marie", legal_last_name="Lopes", birth_date=datetime.date(2009, 5, 12)
    )
    student_client.post(
        reverse("enrollment:identity_change"),
        identity(
            **{
                "identity-legal_first_name": "Marie",
                "identity-legal_middle_name": "",
                "identity-legal_last_name": "Lopes",
                "identity-birth_date": "2009-05-12",
            }
        ),
    )
    record = PossibleDuplicate.objects.get()
    assert (record.student, record.existing_student, record.source) == (
        student,
        other,
        PossibleDuplicate.Source.IDENTITY_CHANGE,
    )
