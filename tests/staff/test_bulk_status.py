"""The grade page saves a whole class with a constant number of queries, whatever its
size. (The bulk status writer and the grade save themselves: tests/enrollment/
test_transitions.py and tests/enrollment/test_grading.py.)"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accesslog.models import AccessLogEntry
from tests.world import build_place

pytestmark = pytest.mark.django_db

GRADES = ["A", "B+", "C", "D", "F", "A-"]


def grades_for(place) -> dict[int, str]:
    return {e.pk: GRADES[i % len(GRADES)] for i, e in enumerate(place.enrollments)}


def post_queries(client, place, grades) -> int:
    client.force_login(place.teacher)
    url = reverse("enrollment:teacher_grades", args=[place.section.pk])
    data = {f"grade_{pk}": grade for pk, grade in grades.items()}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 302
    return len(captured.captured_queries)


@pytest.fixture
def small(year, today):
    return build_place(year, name="Small", students=5)


@pytest.fixture
def large(year, today):
    return build_place(year, name="Large", students=30)


def test_the_grade_page_post_costs_the_same_queries_for_5_and_30_students(client, small, large):
    five = post_queries(client, small, grades_for(small))
    thirty = post_queries(client, large, grades_for(large))
    assert five == thirty
    (entry,) = AccessLogEntry.objects.filter(what="grades saved", student_count=30)
    assert entry.actor == large.teacher
