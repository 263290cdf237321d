"""Inviting a teacher: an inactive account until they open an expiring link and set a password."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Role, RoleMembership, User
from accounts.permissions import access_for
from organisations import services
from tests.factories import StudentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(world, email="new.teacher@example.org", school=None, actor=None):
    return services.teacher_invite(
        actor=actor or world.admin,
        email=email,
        first_name="Nia",
        last_name="New",
        high_school_id=(school or world.school).pk,
    )


def activation_path() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://[^/]+(/accounts/activate/\S+/)", body).group(1)


def test_invitation_creates_an_inactive_teacher_and_sends_a_link(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teacher = invite(world, email="  New.Teacher@Example.org ")
    assert teacher.email == "new.teacher@example.org"
    assert not teacher.is_active
    assert not teacher.has_usable_password()
    assert RoleMembership.objects.filter(
        user=teacher, role=Role.TEACHER, high_school=world.school
    ).exists()
    assert access_for(teacher).roles == frozenset()  # inactive: no access at all
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.teacher@example.org"]
    assert "North High" in mail.outbox[0].body
    assert "14 days" in mail.outbox[0].body


def test_activation_sets_the_password_and_turns_the_account_active(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teacher = invite(world)
    path = activation_path()
    response = client.get(path)
    assert response.status_code == 200
    assert response.context["validlink"]
    response = client.post(
        path,
        {
            "new_password1": "a-long-teacher-passphrase",
            "new_password2": "a-long-teacher-passphrase",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    teacher.refresh_from_db()
    assert teacher.is_active
    assert teacher.check_password("a-long-teacher-passphrase")
    assert teacher.email_verified_at is not None
    # The link works once.
    assert not client.get(path).context["validlink"]
    assert client.login(username=teacher.email, password="a-long-teacher-passphrase")


def test_a_weak_password_is_refused_and_the_account_stays_inactive(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        teacher = invite(world)
    response = client.post(activation_path(), {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors
    teacher.refresh_from_db()
    assert not teacher.is_active


def test_the_link_expires(client, world, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(world)
    path = activation_path()
    later = datetime.datetime.now() + datetime.timedelta(days=services.TEACHER_INVITATION_DAYS + 1)
    monkeypatch.setattr(services.teacher_activation_token, "_now", lambda: later)
    response = client.get(path)
    assert not response.context["validlink"]
    assert b"expired" in response.content


def test_a_tampered_link_is_refused(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(world)
    path = activation_path()
    assert not client.get(path[:-3] + "xx/").context["validlink"]
    assert not client.get("/accounts/activate/bm90LWFuLWlk/abc-def/").context["validlink"]


def test_resending_gives_a_new_link(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        teacher = invite(world)
    client.force_login(world.admin)
    target = reverse("organisations:teacher_invitation_resend", args=[teacher.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(target, {"next": "/articulations/manage/"})
    assert response.url == "/articulations/manage/"
    assert len(mail.outbox) == 2


def test_resend_access(client, world, outsider_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        teacher = invite(world)
    target = reverse("organisations:teacher_invitation_resend", args=[teacher.pk])
    assert client.post(target).status_code == 302  # to the login page
    client.force_login(world.approver)
    assert client.post(target).status_code == 403
    client.force_login(outsider_admin)
    assert client.post(target).status_code == 404
    client.force_login(world.admin)
    response = client.post(
        reverse("organisations:teacher_invitation_resend", args=[world.teacher.pk]), follow=True
    )
    assert b"already active" in response.content
    assert len(mail.outbox) == 1


def test_a_deactivated_account_is_not_an_invitation(world):
    world.teacher.is_active = False
    world.teacher.save()
    with pytest.raises(ValidationError):
        services.teacher_invitation_resend(actor=world.admin, user_id=world.teacher.pk)
    assert services.teacher_send_invitation_email(user_id=world.teacher.pk, stamp=1) is False


def test_inviting_an_existing_teacher_of_the_consortium_adds_the_school(world):
    teacher = invite(world, email=world.teacher.email.upper(), school=world.other_school)
    assert teacher == world.teacher
    assert set(
        teacher.memberships.filter(role=Role.TEACHER).values_list("high_school", flat=True)
    ) == {world.school.pk, world.other_school.pk}
    assert mail.outbox == []


def test_an_existing_account_that_is_not_a_teacher_here_is_refused(world):
    student = StudentProfileFactory().user
    for email in (student.email, world.approver.email):
        with pytest.raises(ValidationError) as error:
            invite(world, email=email)
        assert "email" in error.value.message_dict
    assert not RoleMembership.objects.filter(user=student, role=Role.TEACHER).exists()


def test_only_a_consortium_admin_invites_and_only_to_their_schools(world, outsider_admin):
    with pytest.raises(PermissionDenied):
        invite(world, actor=world.approver)
    with pytest.raises(ValidationError):
        invite(world, actor=outsider_admin)
    assert not User.objects.filter(email="new.teacher@example.org").exists()


def test_the_invitation_email_goes_once_per_invitation(world):
    teacher = UserFactory(is_active=False)
    teacher.set_unusable_password()
    teacher.save()
    assert services.teacher_send_invitation_email(user_id=teacher.pk, stamp=42)
    assert not services.teacher_send_invitation_email(user_id=teacher.pk, stamp=42)
    assert services.teacher_send_invitation_email(user_id=teacher.pk, stamp=43)
    assert len(mail.outbox) == 2
