"""College registrars: the transcription queue, marking transcribed, undoing it."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from enrollment.models import Enrollment, EnrollmentStatusChange
from enrollment.services import transcription
from tests.factories import SectionFactory
from tests.world import TODAY, S, advance, enroll, settle_fee

pytestmark = pytest.mark.django_db


def queue_url(**params):
    from urllib.parse import urlencode

    return reverse("enrollment:registrar_queue") + ("?" + urlencode(params) if params else "")


@pytest.fixture
def ready(here):
    """Two eligible credits (attained, fee settled, email verified)."""
    for e in here.enrollments[:2]:
        advance(e, S.ATTAINED)
        settle_fee(e)
    return here.enrollments[:2]


def test_the_queue_lists_eligible_credits_only(client, here, ready):
    advance(here.enrollments[2], S.ATTAINED)  # fee unpaid: not ready
    client.force_login(here.registrar)
    response = client.get(queue_url())
    assert sorted(e.pk for e, _id in response.context["rows"]) == sorted(e.pk for e in ready)


def test_waiting_shows_what_blocks_each_enrollment(client, here, year):
    registered, graded, unpaid = here.enrollments
    advance(graded, S.GRADED)
    advance(unpaid, S.ATTAINED)
    unverified = enroll(here, year)
    advance(unverified, S.ATTAINED)
    settle_fee(unverified)
    unverified.student.user.email_verified_at = None
    unverified.student.user.save()
    client.force_login(here.registrar)
    response = client.get(queue_url(view="waiting"))
    rows = {row.record.pk: row for row in response.context["table"].rows}
    assert set(rows) == {registered.pk, graded.pk, unpaid.pk, unverified.pk}
    html = response.content.decode()
    assert "Missing grade" in html
    assert "Class not marked complete" in html
    assert "Fee unpaid" in html
    assert "Email not verified" in html


def test_filters_by_term_school_and_course(client, here, ready, year):
    other_school_section = SectionFactory(
        articulation=here.articulation, academic_year=year, term="spring"
    )
    other = enroll(here, year)
    Enrollment.objects.filter(pk=other.pk).update(section=other_school_section)
    advance(other, S.ATTAINED)
    settle_fee(other)
    client.force_login(here.registrar)
    everything = client.get(queue_url())
    assert len(everything.context["rows"]) == 3
    spring = client.get(queue_url(term="spring"))
    assert [e.pk for e, _ in spring.context["rows"]] == [other.pk]
    school = client.get(queue_url(high_school=here.school.pk))
    assert len(school.context["rows"]) == 2
    course = client.get(queue_url(course=here.course.pk, year="2026-27"))
    assert len(course.context["rows"]) == 3
    fragment = client.get(queue_url(term="spring"), headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<section id="queue-results"')


def test_mark_the_ticked_credits_transcribed(
    client, here, ready, django_capture_on_commit_callbacks
):
    first, second = ready
    client.force_login(here.registrar)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("enrollment:registrar_transcribe"),
            {
                "transcribed_on": "2026-11-30",
                "enrollment": [first.pk, second.pk],
                f"college_id_{first.pk}": "ctc-0001",
                f"college_id_{second.pk}": "ctc-0002",
            },
        )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.college_student_id, first.transcribed_on) == (
        S.TRANSCRIBED,
        "ctc-0001",
        datetime.date(2026, 11, 30),
    )
    assert Enrollment.objects.get(pk=second.pk).status == S.TRANSCRIBED
    assert sum("on your" in m.subject for m in mail.outbox) == 2


def test_bulk_transcription_is_all_or_nothing(client, here, ready):
    first, second = ready
    unpaid = advance(here.enrollments[2], S.ATTAINED)
    client.force_login(here.registrar)
    response = client.post(
        reverse("enrollment:registrar_transcribe"),
        {
            "transcribed_on": "2026-11-30",
            "enrollment": [first.pk, second.pk, unpaid.pk],
            f"college_id_{first.pk}": "1",
            f"college_id_{second.pk}": "2",
            f"college_id_{unpaid.pk}": "3",
        },
        follow=True,
    )
    assert "Nothing was marked" in response.content.decode()
    assert Enrollment.objects.filter(status=S.TRANSCRIBED).count() == 0
    # A missing college student id or a future date is refused too.
    client.post(
        reverse("enrollment:registrar_transcribe"),
        {"transcribed_on": "2026-11-30", "enrollment": [first.pk], f"college_id_{first.pk}": ""},
    )
    client.post(
        reverse("enrollment:registrar_transcribe"),
        {"transcribed_on": "2027-01-30", "enrollment": [first.pk], f"college_id_{first.pk}": "1"},
    )
    assert Enrollment.objects.filter(status=S.TRANSCRIBED).count() == 0


def test_one_credit_at_a_time(client, here, ready):
    enrollment = ready[0]
    client.force_login(here.registrar)
    url = reverse("enrollment:registrar_transcribe_one", args=[enrollment.pk])
    client.post(url, {"college_student_id": "X9", "transcribed_on": "2026-11-20"})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.college_student_id) == (S.TRANSCRIBED, "X9")
    again = client.post(url, {"college_student_id": "X9", "transcribed_on": "2026-11-20"})
    assert again.status_code == 400  # not in the queue any more


def test_undo_with_a_reason_within_the_allowed_days(client, here, ready):
    enrollment = ready[0]
    transcription.enrollments_transcribe(
        actor=here.registrar, college_student_ids={enrollment.pk: "C1"}, transcribed_on=TODAY
    )
    client.force_login(here.registrar)
    url = reverse("enrollment:registrar_undo", args=[enrollment.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    client.post(url, {"reason": "Posted to the wrong student"})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.transcribed_on) == (S.ATTAINED, None)
    last = EnrollmentStatusChange.objects.filter(enrollment=enrollment).last()
    assert (last.from_status, last.to_status, last.reason) == (
        S.TRANSCRIBED,
        S.ATTAINED,
        "Posted to the wrong student",
    )


def test_a_known_college_student_id_is_filled_in(client, here, ready, year):
    first = ready[0]
    transcription.enrollments_transcribe(
        actor=here.registrar, college_student_ids={first.pk: "KNOWN-7"}, transcribed_on=TODAY
    )
    second_class = SectionFactory(articulation=here.articulation, academic_year=year)
    again = Enrollment.objects.create(student=first.student, section=second_class)
    advance(again, S.ATTAINED)
    client.force_login(here.registrar)
    rows = dict(client.get(queue_url()).context["rows"])
    assert rows[again] == "KNOWN-7"


@pytest.mark.parametrize("view", ["ready", "waiting", "transcribed"])
def test_queue_query_count_does_not_grow_with_the_queue(
    client, here, year, view, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            e = enroll(here, year)
            if view != "waiting":
                advance(e, S.TRANSCRIBED if view == "transcribed" else S.ATTAINED)
                settle_fee(e)

    add(2)
    client.force_login(here.registrar)
    with django_assert_max_num_queries(25) as few:
        assert client.get(queue_url(view=view)).status_code == 200
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(queue_url(view=view))
    assert response.status_code == 200
