"""A consortium's fee instructions, in English and in Spanish: consortium admins write
them, students read them in their language on the dashboard and in payment reminders."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse

from enrollment.services import notifications
from tests.world import TODAY

pytestmark = pytest.mark.django_db

ENGLISH = "Pay at the Cascade College cashier with your SERS ID."
SPANISH = "Paga en la caja de Cascade College con tu SERS ID."


def url(place):
    return reverse("organisations:consortium_payment_instructions", args=[place.consortium.pk])


def dashboard(client, student, language):
    client.force_login(student.user)
    client.cookies["django_language"] = language
    return client.get(reverse("enrollment:dashboard")).content.decode()


def test_the_admin_writes_both_versions_and_the_change_is_recorded(client, here):
    client.force_login(here.admin)
    assert client.get(url(here)).status_code == 200
    response = client.post(url(here), {"english": ENGLISH, "spanish": SPANISH})
    assert response.status_code == 302
    here.consortium.refresh_from_db()
    assert here.consortium.payment_instructions == ENGLISH
    assert here.consortium.payment_instructions_es == SPANISH
    entry = LogEntry.objects.get(object_id=str(here.consortium.pk))
    assert entry.user == here.admin
    assert "fee instructions (English), fee instructions (Spanish)" in entry.change_message
    page = client.get(url(here)).content.decode()
    assert SPANISH in page
    assert "fee instructions (Spanish)" in page


def test_each_student_reads_the_instructions_in_their_language(client, here):
    here.consortium.payment_instructions = ENGLISH
    here.consortium.payment_instructions_es = SPANISH
    here.consortium.save()
    student = here.students[0]
    assert ENGLISH in dashboard(client, student, "en")
    spanish = dashboard(client, student, "es")
    assert f'<div class="mb-0" lang="es"><p>{SPANISH}</p></div>' in spanish
    assert ENGLISH not in spanish


def test_without_a_spanish_version_a_spanish_reader_sees_the_english_marked_as_english(
    client, here
):
    here.consortium.payment_instructions = ENGLISH
    here.consortium.payment_instructions_es = ""
    here.consortium.save()
    page = dashboard(client, here.students[0], "es")
    assert f'<div class="mb-0" lang="en"><p>{ENGLISH}</p></div>' in page


def test_the_payment_reminder_carries_the_spanish_instructions(here):
    here.consortium.payment_instructions = ENGLISH
    here.consortium.payment_instructions_es = SPANISH
    here.consortium.save()
    here.policy.payment_deadline = TODAY + datetime.timedelta(days=7)
    here.policy.save()
    student = here.students[0]
    student.language = "es"
    student.save()
    notifications.deadline_reminders_send(today=TODAY)
    by_address = {m.to[0]: m.body for m in mail.outbox}
    assert SPANISH in by_address[student.user.email]
    assert ENGLISH in by_address[here.students[1].user.email]


@pytest.mark.parametrize("field", ["english", "spanish"])
def test_a_control_character_is_refused_on_the_page_and_nothing_changes(client, here, field):
    before = (here.consortium.payment_instructions, here.consortium.payment_instructions_es)
    client.force_login(here.admin)
    data = {"english": ENGLISH, "spanish": SPANISH, field: "Pay\x1b here"}
    response = client.post(url(here), data)
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.content.decode()
    here.consortium.refresh_from_db()
    assert (here.consortium.payment_instructions, here.consortium.payment_instructions_es) == before
    assert not LogEntry.objects.exists()


def test_overlong_instructions_are_refused(client, here):
    client.force_login(here.admin)
    response = client.post(url(here), {"english": "x" * 4001, "spanish": ""})
    assert response.status_code == 400
    assert "4000" in response.content.decode().replace(",", "")
    assert not LogEntry.objects.exists()


def test_saving_the_same_text_records_nothing(client, here):
    here.consortium.payment_instructions = ENGLISH
    here.consortium.save()
    client.force_login(here.admin)
    response = client.post(url(here), {"english": ENGLISH, "spanish": ""}, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not LogEntry.objects.exists()


def test_who_may_open_the_page(client, here, there):
    assert client.get(url(here)).status_code == 302  # anonymous: to the sign-in page
    client.force_login(here.teacher)
    assert client.get(url(here)).status_code == 403
    client.force_login(there.admin)
    assert client.get(url(here)).status_code == 404
    assert client.post(url(here), {"english": "Mine now", "spanish": ""}).status_code == 404


def test_the_policies_page_links_to_the_instructions(client, here):
    client.force_login(here.admin)
    page = client.get(reverse("organisations:consortium_policies")).content.decode()
    assert url(here) in page
