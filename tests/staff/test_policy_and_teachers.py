"""Consortium admins: the policy of each school year, and the consortium's teachers."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import Role, RoleMembership
from enrollment.services import class_requests, registration
from organisations import services as organisation_services
from organisations.models import ConsortiumPolicy
from tests.factories import (
    AcademicYearFactory,
    HighSchoolFactory,
    StudentProfileFactory,
    UserFactory,
    make_staff,
)

pytestmark = pytest.mark.django_db


def policy_url(place, year="2026-27"):
    return reverse("organisations:consortium_policy_edit", args=[place.consortium.pk, year])


def policy_data(**changes):
    data = {
        "registration_opens": "2026-09-01",
        "registration_closes": "2027-03-15",
        "payment_deadline": "2027-06-20",
        "grading_deadline": "2027-06-25",
        "annual_fee": "50.00",
        "waiver_reasons": "Foster youth\nFinancial hardship",
        "grade_scale": "letter",
        "default_minimum_grade": "B",
        "school_email_domains": "k12.example.us",
    }
    data.update(changes)
    return data


def test_policy_changes_apply_at_once_and_are_recorded(client, here, password):
    student = StudentProfileFactory(high_school=here.school)
    client.force_login(here.admin)
    response = client.post(policy_url(here), policy_data(registration_closes="2026-11-30"))
    assert response.status_code == 302
    here.policy.refresh_from_db()
    assert here.policy.registration_closes == datetime.date(2026, 11, 30)
    entry = LogEntry.objects.get()
    assert entry.user == here.admin
    assert "registration_closes: 2027-03-15 → 2026-11-30" in entry.change_message
    assert "2026-11-30" in client.get(policy_url(here)).content.decode()
    # Registration closed yesterday (today is 2026-12-01 in these tests).
    with pytest.raises(registration.RegistrationRefused) as refused:
        registration.enrollment_register(student=student, section=here.section, actor=student.user)
    assert refused.value.code == "window_closed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"registration_closes": "2026-08-01"}, "registration_closes"),
        ({"default_minimum_grade": "85"}, "default_minimum_grade"),
        ({"school_email_domains": "not a domain"}, "school_email_domains"),
        ({"grading_deadline": "2031-01-01"}, "grading_deadline"),
        ({"annual_fee": "-5"}, "annual_fee"),
    ],
)
def test_policy_mistakes_are_explained_and_change_nothing(client, here, change, field):
    client.force_login(here.admin)
    response = client.post(policy_url(here), policy_data(**change))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    here.policy.refresh_from_db()
    assert here.policy.registration_closes == datetime.date(2027, 3, 15)
    assert not LogEntry.objects.exists()


def test_a_new_year_starts_from_last_years_policy(client, here):
    AcademicYearFactory(start_year=2027)
    client.force_login(here.admin)
    form = client.get(policy_url(here, "2027-28")).context["form"]
    assert form.initial["registration_closes"] == datetime.date(2028, 3, 15)
    assert form.initial["annual_fee"] == here.policy.annual_fee
    client.post(
        policy_url(here, "2027-28"),
        policy_data(
            registration_opens="2027-09-01",
            registration_closes="2028-03-15",
            payment_deadline="2028-06-20",
            grading_deadline="2028-06-25",
            default_minimum_grade="c+",
        ),
    )
    new = ConsortiumPolicy.objects.get(academic_year__code="2027-28")
    assert new.default_minimum_grade == "C+"
    listing = client.get(reverse("organisations:consortium_policies"))
    assert "2027-28" in listing.content.decode()


def test_the_teacher_list_is_the_consortiums(client, here, there):
    client.force_login(here.admin)
    response = client.get(reverse("organisations:consortium_teachers"))
    users = [row["user"] for row in response.context["rows"]]
    assert here.teacher in users
    assert there.teacher not in users


def test_deactivation_signs_the_teacher_out_and_closes_their_classes(
    client, here, password, django_capture_on_commit_callbacks
):
    teacher_client = Client()
    assert teacher_client.login(username=here.teacher.email, password=password)
    assert Session.objects.count() == 1
    client.force_login(here.admin)
    url = reverse("organisations:consortium_teacher_deactivate", args=[here.teacher.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Left the district"})
    here.teacher.refresh_from_db()
    assert here.teacher.is_active is False
    assert Session.objects.filter(session_key=teacher_client.session.session_key).count() == 0
    assert teacher_client.get(reverse("enrollment:teacher_classes")).status_code == 302
    assert "Deactivated: Left the district" in LogEntry.objects.get().change_message
    student = StudentProfileFactory(high_school=here.school)
    with pytest.raises(registration.RegistrationRefused) as refused:
        registration.enrollment_register(student=student, section=here.section, actor=student.user)
    assert refused.value.code == "teacher_inactive"

    client.post(reverse("organisations:consortium_teacher_activate", args=[here.teacher.pk]))
    here.teacher.refresh_from_db()
    assert here.teacher.is_active is True


def test_accounts_with_other_roles_are_not_deactivated_here(here):
    RoleMembership.objects.create(
        user=here.teacher, role=Role.CAREER_SPECIALIST, district=here.district
    )
    with pytest.raises(class_requests.ValidationError):
        organisation_services.teacher_deactivate(
            actor=here.admin, user_id=here.teacher.pk, reason="Left"
        )
    here.teacher.refresh_from_db()
    assert here.teacher.is_active


def test_assign_a_teacher_to_schools(client, here, there):
    second = HighSchoolFactory(district=here.district, name="North High")
    client.force_login(here.admin)
    add = reverse("organisations:consortium_teacher_school_add", args=[here.teacher.pk])
    client.post(add, {"high_school": second.pk})
    assert RoleMembership.objects.filter(user=here.teacher, high_school=second).exists()
    # A school of another consortium is not offered.
    assert client.post(add, {"high_school": there.school.pk}).status_code == 400
    # A school where they teach a class this year stays; the other can go.
    remove = "organisations:consortium_teacher_school_remove"
    client.post(reverse(remove, args=[here.teacher.pk, here.school.pk]))
    assert RoleMembership.objects.filter(user=here.teacher, high_school=here.school).exists()
    client.post(reverse(remove, args=[here.teacher.pk, second.pk]))
    assert not RoleMembership.objects.filter(user=here.teacher, high_school=second).exists()


def test_the_last_school_cannot_be_removed(here):
    lone = make_staff(Role.TEACHER, here.school)
    with pytest.raises(class_requests.ValidationError):
        organisation_services.teacher_school_remove(
            actor=here.admin, user_id=lone.pk, high_school_id=here.school.pk
        )


def test_invite_a_teacher_from_the_list(client, here, django_capture_on_commit_callbacks):
    client.force_login(here.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organisations:consortium_teacher_invite"),
            {
                "email": "new.teacher@school.example.org",
                "first_name": "Nia",
                "last_name": "Park",
                "high_school": here.school.pk,
            },
        )
    assert response.status_code == 302
    invited = UserFactory._meta.model.objects.get(email="new.teacher@school.example.org")
    assert invited.is_active is False
    page = client.get(reverse("organisations:consortium_teacher", args=[invited.pk]))
    assert "Send the invitation again" in page.content.decode()


def test_a_refused_invitation_says_what_is_wrong_beside_each_box(client, here):
    client.force_login(here.admin)
    users = UserFactory._meta.model.objects.count()
    response = client.post(
        reverse("organisations:consortium_teacher_invite"),
        {
            "email": "new.teacher@school.example.org",
            "first_name": "Nia",
            "last_name": "P" * 151,
            "high_school": here.school.pk,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "every box is needed" not in html
    form = response.context["invite_form"]
    assert list(form.errors) == ["last_name"]
    assert "at most 150 characters" in form.errors["last_name"][0]
    assert "at most 150 characters" in html
    # What was typed stays in the boxes.
    assert 'value="new.teacher@school.example.org"' in html
    assert UserFactory._meta.model.objects.count() == users


def test_an_invitation_refused_by_the_service_shows_its_message_on_the_field(client, here, there):
    client.force_login(here.admin)
    response = client.post(
        reverse("organisations:consortium_teacher_invite"),
        {
            "email": there.registrar.email,
            "first_name": "Nia",
            "last_name": "Park",
            "high_school": here.school.pk,
        },
    )
    assert response.status_code == 400
    form = response.context["invite_form"]
    assert "not a teacher in your consortium" in form.errors["email"][0]
