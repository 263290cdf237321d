"""Every change of a student's record writes an access-log entry: who, role, what, which
students, when and from where; inside the change's own transaction.

Fixtures: `here` from tests/world.py (one consortium, a class of three students and a
member of staff for every role). The entries the services write when called directly
are tested with each service, in tests/enrollment/.
"""

import pytest
from django.urls import reverse

from accesslog.models import AccessLogEntry
from enrollment.services import grading, transcription
from tests.world import S, advance, settle_fee

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


def changes():
    return list(
        AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE)
        .order_by("id")
        .prefetch_related("students")
    )


def students_of(entry):
    return {link.student_id for link in entry.students.all()}


def test_grades_saved_through_the_page_write_one_entry_for_the_class(client, here):
    first, second, third = here.enrollments
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_grades", args=[here.section.pk]),
        {f"grade_{first.pk}": "A", f"grade_{second.pk}": "C", f"grade_{third.pk}": ""},
        REMOTE_ADDR=CLIENT_IP,
    )
    assert response.status_code == 302
    (entry,) = changes()
    assert entry.actor == here.teacher
    assert entry.role == "teacher"
    assert entry.what == "grades saved"
    assert str(entry.ip_address) == CLIENT_IP
    assert entry.student_count == 2
    assert students_of(entry) == {first.student_id, second.student_id}


def test_refused_grades_write_no_entry(client, here):
    first = here.enrollments[0]
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_grades", args=[here.section.pk]), {f"grade_{first.pk}": "87"}
    )
    assert response.status_code == 400
    assert changes() == []


def test_registrar_transcription_and_undo_are_logged(client, here):
    first, second = here.enrollments[:2]
    for enrollment in (first, second):
        advance(enrollment, S.ATTAINED)
        settle_fee(enrollment)
    client.force_login(here.registrar)
    response = client.post(
        reverse("enrollment:registrar_transcribe"),
        {
            "transcribed_on": "2026-11-30",
            "enrollment": [first.pk, second.pk],
            f"college_id_{first.pk}": "ctc-0001",
            f"college_id_{second.pk}": "ctc-0002",
        },
        REMOTE_ADDR=CLIENT_IP,
    )
    assert response.status_code == 302
    transcription.enrollment_transcription_undo(
        actor=here.registrar, enrollment_id=first.pk, reason="Posted to the wrong term"
    )
    transcribed, undone = changes()
    assert (transcribed.what, transcribed.role) == ("credit transcribed", "registrar")
    assert students_of(transcribed) == {first.student_id, second.student_id}
    assert str(transcribed.ip_address) == CLIENT_IP
    assert (undone.what, students_of(undone)) == ("transcription undone", {first.student_id})


def test_fee_waiver_and_grade_override_by_the_consortium_are_logged(client, here):
    enrollment = here.enrollments[0]
    fee = enrollment.student.fees.get()
    client.force_login(here.admin)
    client.post(
        reverse("enrollment:fee_detail", args=[fee.pk]),
        {"status": "waived", "waiver_reason": "Foster youth"},
    )
    advance(enrollment, S.GRADED, grade="C")
    grading.grade_override(
        actor=here.admin, enrollment_id=enrollment.pk, grade="B", reason="Grade keyed wrong"
    )
    fee_entry, override = changes()
    assert (fee_entry.what, fee_entry.role) == ("fee recorded", "consortium_admin")
    assert students_of(fee_entry) == {enrollment.student_id}
    assert override.what == "grade override"
