"""Career specialists: student lookup and the help desk."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from accesslog.models import AccessLogEntry, AccessLogStudent
from enrollment.models import Enrollment, EnrollmentStatusChange
from tests.factories import StudentProfileFactory
from tests.world import S

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(here):
    return StudentProfileFactory(
        high_school=here.school,
        legal_first_name="María José",
        legal_last_name="García López",
        birth_date=datetime.date(2007, 4, 12),  # outside the factories range (2008-2010)
        user__email="maria.garcia@gmail.com",
    )


def lookup(client, **params):
    return client.get(reverse("enrollment:staff_lookup"), params)


@pytest.mark.parametrize(
    "params",
    [
        {"sers_id": "SERS"},
        {"name": "garcía maría"},
        {"birth_date": "2007-04-12"},
        {"email": "Maria.Garcia@gmail.com"},
        {"name": "lopez", "birth_date": "2007-04-12"},
    ],
)
def test_lookup_by_each_criterion(client, here, maria, params):
    if params.get("sers_id") == "SERS":
        params = {"sers_id": maria.sers_id}
    client.force_login(here.specialist)
    response = lookup(client, **params)
    assert response.status_code == 200
    assert response.context["results"] == [maria]
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what) == ("view", "student lookup")
    assert list(AccessLogStudent.objects.values_list("student_id", flat=True)) == [maria.pk]


def test_lookup_needs_a_criterion_and_a_well_formed_id(client, here):
    client.force_login(here.specialist)
    empty = lookup(client, name="")
    assert "Fill in at least one box" in empty.content.decode()
    assert empty.context["results"] is None
    bad = lookup(client, sers_id="12ab")
    assert "nine digits" in bad.content.decode()
    assert not AccessLogEntry.objects.exists()


def test_lookup_stays_inside_the_district(client, here, there, maria):
    client.force_login(there.specialist)
    assert lookup(client, sers_id=maria.sers_id).context["results"] == []
    client.force_login(here.specialist)
    assert lookup(client, sers_id=there.students[0].sers_id).context["results"] == []


def test_lookup_answers_htmx_with_the_results_only(client, here, maria):
    client.force_login(here.specialist)
    response = client.get(
        reverse("enrollment:staff_lookup"), {"name": "garcia"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith('<section id="lookup-results"')


def test_the_student_page_masks_the_email_until_revealed(client, here, maria):
    client.force_login(here.specialist)
    page = client.get(reverse("enrollment:staff_student", args=[maria.pk])).content.decode()
    assert "maria.garcia@gmail.com" not in page
    assert "m•••@g•••.com" in page
    assert AccessLogEntry.objects.get().action == "view"

    revealed = client.post(
        reverse("enrollment:staff_reveal_email", args=[maria.pk]), headers={"HX-Request": "true"}
    )
    assert "maria.garcia@gmail.com" in revealed.content.decode()
    reveal = AccessLogEntry.objects.get(action="reveal")
    assert reveal.actor == here.specialist
    assert list(reveal.students.values_list("student_id", flat=True)) == [maria.pk]
    # Without JavaScript: the whole page, with the address shown, and logged again.
    full = client.post(reverse("enrollment:staff_reveal_email", args=[maria.pk]))
    assert full.status_code == 200
    assert "maria.garcia@gmail.com" in full.content.decode()
    assert AccessLogEntry.objects.filter(action="reveal").count() == 2


def test_resend_verification(client, here, maria, django_capture_on_commit_callbacks):
    client.force_login(here.specialist)
    url = reverse("enrollment:staff_resend_verification", args=[maria.pk])
    response = client.post(url, follow=True)
    assert "confirmed already" in response.content.decode()
    maria.user.email_verified_at = None
    maria.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    (email,) = mail.outbox
    assert email.to == ["maria.garcia@gmail.com"]
    assert "/verify/" in email.body


def test_send_a_password_reset_link(client, here, maria, django_capture_on_commit_callbacks):
    client.force_login(here.specialist)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("enrollment:staff_password_reset", args=[maria.pk]))
    (email,) = mail.outbox
    assert email.to == ["maria.garcia@gmail.com"]
    assert "/accounts/password/reset/" in email.body


def test_register_a_student_on_their_behalf(
    client, here, maria, django_capture_on_commit_callbacks
):
    client.force_login(here.specialist)
    url = reverse("enrollment:staff_register", args=[maria.pk])
    page = client.get(url)
    assert "override_reason" not in page.context["form"].fields
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"section": here.section.pk})
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(student=maria)
    assert enrollment.registered_by == here.specialist
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert (change.changed_by, change.reason, change.kind) == (
        here.specialist,
        "Registered by staff for the student.",
        "change",
    )
    assert maria.fees.get().amount == 50
    assert [m.to for m in mail.outbox] == [["maria.garcia@gmail.com"]]


def test_after_the_window_only_a_consortium_admin_registers_with_a_reason(client, here, maria):
    here.policy.registration_closes = datetime.date(2026, 11, 15)
    here.policy.save()
    url = reverse("enrollment:staff_register", args=[maria.pk])
    client.force_login(here.specialist)
    refused = client.post(url, {"section": here.section.pk})
    assert "closed on" in refused.content.decode()
    assert not Enrollment.objects.filter(student=maria).exists()

    client.force_login(here.admin)
    client.post(url, {"section": here.section.pk, "override_reason": ""})
    assert not Enrollment.objects.filter(student=maria).exists()
    client.post(url, {"section": here.section.pk, "override_reason": "Moved in from Oregon"})
    enrollment = Enrollment.objects.get(student=maria)
    change = EnrollmentStatusChange.objects.get(enrollment=enrollment)
    assert change.kind == "override"
    assert change.reason == "Late registration after the window: Moved in from Oregon"
    assert enrollment.registered_by == here.admin
    history = client.get(reverse("enrollment:staff_enrollment", args=[enrollment.pk]))
    assert "Moved in from Oregon" in history.content.decode()


def test_student_page_query_count_does_not_grow(
    client, here, maria, year, django_assert_max_num_queries
):
    from tests.factories import EnrollmentFactory, SectionFactory

    client.force_login(here.specialist)
    url = reverse("enrollment:staff_student", args=[maria.pk])
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    for _ in range(5):
        EnrollmentFactory(
            student=maria,
            section=SectionFactory(
                articulation=here.articulation, high_school=here.school, academic_year=year
            ),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
    assert S.REGISTERED


@pytest.mark.parametrize(
    ("typed", "legal"),
    [("obrien", "O'Brien"), ("anamaria", "Ana-María"), ("nunez", "Núñez"), ("MÜLLER", "Muller")],
)
def test_names_match_without_accents_or_punctuation(client, here, typed, legal):
    student = StudentProfileFactory(high_school=here.school, legal_last_name=legal)
    client.force_login(here.specialist)
    assert lookup(client, name=typed).context["results"] == [student]
