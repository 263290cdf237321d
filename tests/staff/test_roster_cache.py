"""The teacher's roster is kept in the cache (enrollment/pagecache.py): served again
without the roster query, every view still logged, never stale after a change it shows."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accesslog.models import AccessLogEntry
from enrollment.models import EnrollmentStatus as S
from tests.factories import StudentProfileFactory
from tests.world import advance, enroll

pytestmark = pytest.mark.django_db


def roster_url(place):
    return reverse("enrollment:teacher_roster", args=[place.section.pk])


def test_the_roster_is_served_again_without_its_queries(
    client, here, django_assert_max_num_queries
):
    client.force_login(here.teacher)
    client.get(roster_url(here))
    cache.clear()
    with django_assert_max_num_queries(40) as built:
        client.get(roster_url(here))
    with django_assert_max_num_queries(len(built.captured_queries) - 1) as served:
        response = client.get(roster_url(here))
    assert not any("enrollment_enrollment" in q["sql"] for q in served.captured_queries)
    for student in here.students:
        assert student.legal_last_name in response.content.decode()


def test_every_view_is_logged_even_when_served_from_the_cache(client, here):
    client.force_login(here.teacher)
    for _ in range(3):
        client.get(roster_url(here))
    entries = AccessLogEntry.objects.filter(actor=here.teacher, what="class roster")
    assert entries.count() == 3
    assert all(entry.students.count() == len(here.students) for entry in entries)


def test_a_new_student_and_a_new_name_show_on_the_roster(client, here, year):
    client.force_login(here.teacher)
    client.get(roster_url(here))
    newcomer = enroll(here, year, legal_last_name="Okonkwo-Reyes").student
    assert "Okonkwo-Reyes" in client.get(roster_url(here)).content.decode()
    newcomer.legal_last_name = "Okonkwo"
    newcomer.save()
    page = client.get(roster_url(here)).content.decode()
    assert "Okonkwo-Reyes" not in page
    assert "Okonkwo" in page


def test_confirming_and_grading_show_on_the_roster(client, here):
    client.force_login(here.teacher)
    assert "Registered" in client.get(roster_url(here)).content.decode()
    client.post(reverse("enrollment:teacher_roster_confirm", args=[here.section.pk]), {"all": "1"})
    page = client.get(roster_url(here)).content.decode()
    assert "Confirmed" in page
    assert ">Registered<" not in page
    advance(here.enrollments[0], S.GRADED, grade="B-")
    assert "B-" in client.get(roster_url(here)).content.decode()


def test_another_teachers_class_is_never_served_from_the_cache(client, here, there):
    client.force_login(here.teacher)
    client.get(roster_url(here))
    client.force_login(there.teacher)
    assert client.get(roster_url(here)).status_code == 404


def test_a_teacher_deactivated_and_reactivated_shows_on_the_students_class_list(client, here):
    """The admin's deactivation writes with an UPDATE (no signal): the class list of a
    student of that school must still show it at once."""
    student = StudentProfileFactory(high_school=here.school)  # not in the class yet
    student_client = Client()
    student_client.force_login(student.user)
    refusal = "account is deactivated"
    register = reverse("enrollment:register")
    assert refusal not in student_client.get(register).content.decode()
    client.force_login(here.admin)
    response = client.post(
        reverse("organisations:consortium_teacher_deactivate", args=[here.teacher.pk]),
        {"reason": "Left the district"},
    )
    assert response.status_code == 302
    assert refusal in student_client.get(register).content.decode()
    client.post(reverse("organisations:consortium_teacher_activate", args=[here.teacher.pk]))
    assert refusal not in student_client.get(register).content.decode()


def test_a_merge_shows_on_the_surviving_students_dashboard(here, twin_records):
    """The merge moves enrollments with an UPDATE (no signal)."""
    from enrollment.services import merging

    kept, copy, moved = twin_records
    student_client = Client()
    student_client.force_login(kept.user)
    dashboard = reverse("enrollment:dashboard")
    assert f'id="enrollment-{moved.pk}"' not in student_client.get(dashboard).content.decode()
    merging.students_merge(actor=here.admin, survivor_id=kept.pk, merged_id=copy.pk, reason="x")
    assert f'id="enrollment-{moved.pk}"' in student_client.get(dashboard).content.decode()
