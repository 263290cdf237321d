"""GET /api/v1/credits/ready and GET /api/v1/credits/{id}: what the college's registrar
sees, with cursor pages, `updated_since`, clear 400s for bad input, 404 for another
college's credit, an access-log entry per answer that shows students, and a fixed
number of queries per page."""

import datetime

import pytest
from django.utils import timezone

from accesslog.models import AccessLogEntry
from api import cursors
from api.selectors import CREDITS_CURSOR
from enrollment.models import Enrollment, EnrollmentStatus, Fee, StudentProfile
from tests.api.conftest import bearer, make_ready
from tests.world import advance, enroll, settle_fee

pytestmark = pytest.mark.django_db

S = EnrollmentStatus
READY = "/api/v1/credits/ready"


def credit_url(enrollment) -> str:
    return f"/api/v1/credits/{enrollment.pk}"


def test_the_ready_credits_with_everything_to_post_them(client, here, ready, auth):
    response = client.get(READY, headers=auth)

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    (credit,) = body["results"]  # the others are not ready
    student = ready.student
    assert credit["id"] == ready.pk
    assert credit["status"] == "attained"
    assert credit["ready"] is True
    assert credit["not_ready_reasons"] == []
    assert credit["student"] == {
        "sers_id": student.sers_id,
        "legal_first_name": student.legal_first_name,
        "legal_middle_name": student.legal_middle_name,
        "legal_last_name": student.legal_last_name,
        "birth_date": student.birth_date.isoformat(),  # registrars see it
        "college_student_id": "",
    }
    assert credit["high_school"] == {"name": here.school.name, "code": here.school.code}
    assert credit["school_year"] == "2026-27"
    assert credit["teacher"] == "Terry Cascade"
    assert credit["grade"] == {"as_entered": "A", "scale": "letter", "letter": "A", "points": 4.0}
    assert credit["agreement"]["id"] == here.articulation.pk
    assert credit["agreement"]["number"] == here.articulation.agreement_number
    assert credit["courses"] == [
        {
            "prefix": "CS",
            "number": "110",
            "title": here.course.title,
            "credits": float(here.course.credits),
        }
    ]
    assert credit["transcribed_on"] is None
    assert "student_id" not in credit


def test_the_list_is_the_registrars_ready_list_and_nothing_else(client, here, there, auth):
    make_ready(here.enrollments[1])
    theirs = make_ready(there.enrollments[0])
    ids = {c["id"] for c in client.get(READY, headers=auth).json()["results"]}
    assert ids == {here.enrollments[1].pk}
    assert theirs.pk not in ids


def test_pages_follow_the_cursor_to_the_end(client, here, auth):
    for enrollment in here.enrollments:
        make_ready(enrollment)
    for _ in range(2):
        make_ready(enroll(here))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = client.get(READY, params, headers=auth).json()
        seen += [credit["id"] for credit in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(e.pk for e in here.enrollments)
    assert len(seen) == len(set(seen)) == 5


def test_updated_since_leaves_out_what_did_not_change(client, here, ready, auth):
    later = make_ready(here.enrollments[1])
    # The first credit last changed a day ago; the second now.
    day_ago = timezone.now() - datetime.timedelta(days=1)
    Enrollment.objects.filter(pk=ready.pk).update(status_changed_at=day_ago)
    StudentProfile.objects.filter(pk=ready.student_id).update(updated_at=day_ago)
    Fee.objects.filter(student_id=ready.student_id).update(updated_at=day_ago)
    since = (timezone.now() - datetime.timedelta(hours=1)).isoformat()

    body = client.get(READY, {"updated_since": since}, headers=auth).json()

    assert [c["id"] for c in body["results"]] == [later.pk]
    everything = client.get(READY, headers=auth).json()["results"]
    assert [c["id"] for c in everything] == [ready.pk, later.pk]  # oldest change first


def test_a_credit_made_ready_by_a_paid_fee_counts_as_updated(client, here, auth):
    enrollment = advance(here.enrollments[0], S.ATTAINED)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=30)
    )
    since = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    assert client.get(READY, {"updated_since": since}, headers=auth).json()["results"] == []
    settle_fee(enrollment)  # the fee is waived now
    body = client.get(READY, {"updated_since": since}, headers=auth).json()
    assert [c["id"] for c in body["results"]] == [enrollment.pk]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"cursor": "not-a-cursor"}, "cursor is not valid"),
        ({"cursor": cursors.encode("agreements-active", 5)}, "cursor is not valid"),
        ({"cursor": "x" * 600}, "cursor is not valid"),
        ({"limit": 501}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"updated_since": "yesterday"}, "query.updated_since"),
        ({"updated_since": "2026-12-01T00:00:00"}, "query.updated_since"),  # no time zone
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "out of range"),  # year 0 in UTC
        ({"updated_since": "1700000000"}, "query.updated_since"),  # not seconds since 1970
        ({"page": 2}, "Unknown query parameter(s): page"),
        ({"limit": [5, 6]}, "Query parameter(s) given more than once: limit. Give each once."),
        ({"limit": [5, 5]}, "given more than once: limit."),
        ({"limit": 5, "cursor": ["", ""]}, "given more than once: cursor."),
        ({"cursor": "a\x00b"}, "NUL character"),
    ],
)
def test_bad_input_is_a_clear_400(client, ready, auth, params, words):
    response = client.get(READY, params, headers=auth)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert words in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/credits/ready", "/api/v1/agreements"])
def test_a_query_parameter_given_twice_is_refused(client, ready, auth, path):
    """Only one of the values would count, without a word."""
    response = client.get(f"{path}?limit=5&limit=6", headers=auth)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Query parameter(s) given more than once: limit. Give each once."
    }
    assert not AccessLogEntry.objects.exists()


def test_a_tampered_cursor_is_refused(client, here, auth):
    for enrollment in here.enrollments:
        make_ready(enrollment)
    cursor = client.get(READY, {"limit": 1}, headers=auth).json()["next_cursor"]
    assert client.get(READY, {"cursor": cursor}, headers=auth).status_code == 200
    forged = cursors.encode(CREDITS_CURSOR, timezone.now(), 1)[:-2] + "zz"
    assert client.get(READY, {"cursor": forged}, headers=auth).status_code == 400


def test_answers_with_students_are_in_the_access_log(client, here, ready, token, auth):
    client.get(READY, headers=auth)
    entry = AccessLogEntry.objects.get()
    assert entry.actor == here.registrar  # the token's creator
    assert entry.role == "registrar"
    assert entry.action == "view"
    assert entry.what == f"API token {token[0].prefix}…: credits ready for the transcript"
    assert list(entry.students.values_list("student_id", flat=True)) == [ready.student_id]
    assert entry.ip_address == "127.0.0.1"

    client.get(credit_url(ready), headers=auth)
    assert AccessLogEntry.objects.count() == 2
    assert AccessLogEntry.objects.latest("pk").what.endswith(": credit")


def test_an_empty_page_writes_no_access_log(client, here, auth):
    assert client.get(READY, headers=auth).json()["results"] == []
    assert not AccessLogEntry.objects.exists()


def test_the_list_answers_in_a_fixed_number_of_queries(
    client, here, auth, django_assert_max_num_queries
):
    make_ready(here.enrollments[0])
    client.get(READY, headers=auth)  # last_used_at written once
    with django_assert_max_num_queries(12) as few:
        assert client.get(READY, headers=auth).status_code == 200
    for enrollment in here.enrollments[1:]:
        make_ready(enrollment)
    for _ in range(6):
        make_ready(enroll(here))
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(READY, headers=auth).json()
    assert len(body["results"]) == 9


def test_one_credit_in_any_status_with_its_reasons(client, here, auth):
    waiting = here.enrollments[1]  # registered, fee unpaid
    body = client.get(credit_url(waiting), headers=auth).json()
    assert body["id"] == waiting.pk
    assert body["status"] == "registered"
    assert body["ready"] is False
    assert [r["code"] for r in body["not_ready_reasons"]] == ["grade_missing", "fee_unpaid"]


def test_one_ready_credit(client, ready, auth):
    body = client.get(credit_url(ready), headers=auth).json()
    assert body["ready"] is True
    assert body["not_ready_reasons"] == []


def test_another_colleges_credit_is_a_404(client, there, auth):
    theirs = make_ready(there.enrollments[0])
    response = client.get(credit_url(theirs), headers=auth)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found: no such credit at your college."}
    missing = client.get("/api/v1/credits/999999999", headers=auth)
    assert missing.json() == response.json()
    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize("value", ["abc", "0", "-1", "99999999999999999999999", "1.5"])
def test_a_credit_id_that_is_not_one_is_a_400(client, ready, auth, value):
    response = client.get(f"/api/v1/credits/{value}", headers=auth)
    assert response.status_code == 400
    assert "path.credit_id" in response.json()["detail"]


def test_the_credit_endpoints_need_a_token(client, ready, token):
    assert client.get(credit_url(ready)).status_code == 401
    assert client.get(credit_url(ready), headers=bearer("sers_nope")).status_code == 401
    assert not AccessLogEntry.objects.exists()
