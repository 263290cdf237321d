"""POST /api/v1/credits/acknowledgements: credits the college posted are marked
transcribed through the registrar's own service (history, access log); the same
acknowledgement twice changes nothing; each credit that cannot be marked is refused on
its own, with its reasons; bad input is a 400 that changes nothing."""

import datetime

import pytest

from accesslog.models import AccessLogEntry
from api import selectors
from api.schemas import MAX_ACKNOWLEDGEMENT_ITEMS
from api.services import api_token_revoke
from enrollment.models import Enrollment, EnrollmentStatus, EnrollmentStatusChange, Section
from tests.api.conftest import bearer, make_ready
from tests.world import TODAY, advance

pytestmark = pytest.mark.django_db

S = EnrollmentStatus
ACK = "/api/v1/credits/acknowledgements"


def acknowledge(client, auth, *items, raw=None, **extra):
    body = raw if raw is not None else {"items": list(items)}
    return client.post(ACK, body, content_type="application/json", headers=auth, **extra)


def item(enrollment, college_id="C-1001", **extra) -> dict:
    return {"id": enrollment.pk, "college_student_id": college_id, **extra}


def snapshot():
    return sorted(
        Enrollment.objects.values_list("pk", "status", "college_student_id", "transcribed_on")
    )


def test_posted_credits_are_marked_transcribed(client, here, ready, token, auth):
    response = acknowledge(client, auth, item(ready, transcribed_on="2026-11-30"))

    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"transcribed": 1, "already_transcribed": 0, "refused": 0}
    assert body["results"] == [
        {
            "id": ready.pk,
            "outcome": "transcribed",
            "reasons": [],
            "college_student_id": "C-1001",
            "transcribed_on": "2026-11-30",
        }
    ]
    ready.refresh_from_db()
    assert ready.status == S.TRANSCRIBED
    assert ready.college_student_id == "C-1001"
    assert ready.transcribed_on == datetime.date(2026, 11, 30)
    # The history says who (the token's creator) and through which token.
    change = EnrollmentStatusChange.objects.filter(enrollment=ready).latest("changed_at", "id")
    assert change.to_status == S.TRANSCRIBED
    assert change.changed_by == here.registrar
    assert token[0].prefix in change.reason
    # The change is in the access log, as when the registrar marks it in SERS.
    entry = AccessLogEntry.objects.get(what="credit transcribed")
    assert entry.actor == here.registrar
    assert entry.action == "change"
    # ...and the credit is no longer in the ready list.
    assert client.get("/api/v1/credits/ready", headers=auth).json()["results"] == []


def test_the_posting_date_defaults_to_today(client, ready, auth):
    body = acknowledge(client, auth, item(ready)).json()
    assert body["results"][0]["transcribed_on"] == TODAY.isoformat()


def test_the_same_acknowledgement_twice_changes_nothing(client, ready, auth):
    first = acknowledge(client, auth, item(ready))
    before = snapshot()
    history = EnrollmentStatusChange.objects.count()

    second = acknowledge(client, auth, item(ready))
    # Even with another id or date: already transcribed, left as it is.
    third = acknowledge(client, auth, item(ready, "C-9999", transcribed_on="2026-10-01"))

    assert first.json()["counts"]["transcribed"] == 1
    for again in (second, third):
        assert again.status_code == 200
        (result,) = again.json()["results"]
        assert result["outcome"] == "already_transcribed"
        assert result["college_student_id"] == "C-1001"
        assert result["transcribed_on"] == TODAY.isoformat()
        assert again.json()["counts"] == {"transcribed": 0, "already_transcribed": 1, "refused": 0}
    assert snapshot() == before
    assert EnrollmentStatusChange.objects.count() == history


def test_credits_that_are_not_ready_are_refused_one_by_one(client, here, there, ready, auth):
    registered = here.enrollments[1]  # no grade, fee unpaid
    not_attained = advance(here.enrollments[2], S.NOT_ATTAINED, grade="D")
    theirs = make_ready(there.enrollments[0])

    response = acknowledge(
        client,
        auth,
        item(registered),
        item(ready),
        item(not_attained),
        item(theirs),
        {"id": 999999999, "college_student_id": "C-1"},
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [
        registered.pk,
        ready.pk,
        not_attained.pk,
        theirs.pk,
        999999999,
    ]
    assert [r["outcome"] for r in results] == [
        "refused",
        "transcribed",
        "refused",
        "refused",
        "refused",
    ]
    assert [x["code"] for x in results[0]["reasons"]] == ["grade_missing", "fee_unpaid"]
    assert results[0]["reasons"][0]["message"] == "Missing grade"
    assert [x["code"] for x in results[2]["reasons"]] == ["not_attained"]
    # Another college's credit reads as one that does not exist.
    assert results[3]["reasons"] == results[4]["reasons"]
    assert results[3]["reasons"][0]["code"] == "not_found"
    assert response.json()["counts"] == {"transcribed": 1, "already_transcribed": 0, "refused": 4}
    registered.refresh_from_db()
    theirs.refresh_from_db()
    assert registered.status == S.REGISTERED
    assert theirs.status == S.ATTAINED


def test_a_posting_date_in_the_future_is_refused(client, ready, auth):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    (result,) = acknowledge(client, auth, item(ready, transcribed_on=tomorrow)).json()["results"]
    assert result["outcome"] == "refused"
    assert result["reasons"][0]["code"] == "date_in_future"
    ready.refresh_from_db()
    assert ready.status == S.ATTAINED


@pytest.mark.parametrize(
    ("completed_at", "posted_on", "earliest"),
    [
        # Its class not marked complete in SERS: not before its school year (from 1 July).
        (None, "0001-01-01", "2026-07-01"),
        (None, "2026-06-30", "2026-07-01"),
        # Attained when its class was marked complete, on 20 November (site time).
        ("2026-11-20T20:00:00+00:00", "2026-11-19", "2026-11-20"),
    ],
)
def test_a_posting_date_before_the_credit_was_attained_is_refused(
    client, here, ready, auth, completed_at, posted_on, earliest
):
    if completed_at:
        Section.objects.filter(pk=ready.section_id).update(
            completed_at=datetime.datetime.fromisoformat(completed_at),
            completed_by=here.section.teacher,
        )
    other = make_ready(here.enrollments[1])

    body = acknowledge(
        client, auth, item(ready, transcribed_on=posted_on), item(other, "C-2")
    ).json()

    first, second = body["results"]
    assert first["outcome"] == "refused"
    assert first["reasons"] == [
        {
            "code": "date_before_attained",
            "message": "The posting date cannot be before the day the credit was attained: "
            f"give {earliest} or later.",
        }
    ]
    assert second["outcome"] == "transcribed"  # the others still go through
    ready.refresh_from_db()
    assert (ready.status, ready.transcribed_on) == (S.ATTAINED, None)
    # The first day it could be posted is a good one.
    (again,) = acknowledge(client, auth, item(ready, transcribed_on=earliest)).json()["results"]
    assert (again["outcome"], again["transcribed_on"]) == ("transcribed", earliest)


def test_every_student_in_the_answer_is_in_the_access_log(client, here, there, ready, token, auth):
    """The answer shows students: the ones marked, already transcribed (their college id
    and date) and refused (why); one entry names them all, as the GET calls do, with the
    token and the calling address. A credit not found shows no one."""
    transcribed = advance(here.enrollments[1], S.TRANSCRIBED)
    registered = here.enrollments[2]  # refused: no grade, fee unpaid
    theirs = make_ready(there.enrollments[0])  # not found
    AccessLogEntry.objects.all().delete()

    body = acknowledge(
        client,
        auth,
        item(ready),
        item(transcribed),
        item(registered),
        item(theirs),
        {"id": 999999999, "college_student_id": "C-1"},
        REMOTE_ADDR="10.1.2.3",
    ).json()

    assert [r["outcome"] for r in body["results"]] == [
        "transcribed",
        "already_transcribed",
        "refused",
        "refused",
        "refused",
    ]
    entry = AccessLogEntry.objects.get(action="view")
    assert entry.actor == here.registrar
    assert entry.role == "registrar"
    assert entry.what == f"API token {token[0].prefix}…: credits acknowledged"
    assert entry.ip_address == "10.1.2.3"
    assert set(entry.students.values_list("student_id", flat=True)) == {
        ready.student_id,
        transcribed.student_id,
        registered.student_id,
    }
    # The change itself is logged as any registrar's (the service's entry).
    change = AccessLogEntry.objects.get(action="change")
    assert list(change.students.values_list("student_id", flat=True)) == [ready.student_id]


@pytest.mark.parametrize("outcome", ["already_transcribed", "refused"])
def test_an_answer_without_a_change_is_in_the_access_log_too(client, here, token, auth, outcome):
    enrollment = (
        advance(here.enrollments[0], S.TRANSCRIBED)
        if outcome == "already_transcribed"
        else advance(here.enrollments[0], S.NOT_ATTAINED, grade="D")
    )
    AccessLogEntry.objects.all().delete()

    (result,) = acknowledge(client, auth, item(enrollment)).json()["results"]

    assert result["outcome"] == outcome
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.what) == (
        "view",
        f"API token {token[0].prefix}…: credits acknowledged",
    )
    assert list(entry.students.values_list("student_id", flat=True)) == [enrollment.student_id]


def test_credits_not_found_write_no_access_log(client, there, auth):
    theirs = make_ready(there.enrollments[0])
    AccessLogEntry.objects.all().delete()
    body = acknowledge(client, auth, item(theirs), {"id": 999999999, "college_student_id": "C"})
    assert body.json()["counts"]["refused"] == 2
    assert not AccessLogEntry.objects.exists()


def test_a_credit_that_stops_being_ready_midway_is_refused_alone(
    client, here, ready, auth, monkeypatch
):
    """Between the check and the change another request (the registrar in SERS) undoes
    readiness: the service refuses the batch, and the credits are retried one by one."""
    other = make_ready(here.enrollments[1])
    real = selectors.credit_states
    calls = []

    def stale(**kwargs):
        states = real(**kwargs)
        if not calls:  # the first look: both ready; then the fee of `other` is unpaid again
            calls.append(1)
            fee = other.student.fees.get()
            fee.status = "unpaid"
            fee.save()
        return states

    monkeypatch.setattr(selectors, "credit_states", stale)

    body = acknowledge(client, auth, item(ready), item(other, "C-2")).json()

    assert [r["outcome"] for r in body["results"]] == ["transcribed", "refused"]
    assert body["results"][1]["reasons"] == [{"code": "fee_unpaid", "message": "Fee unpaid"}]
    other.refresh_from_db()
    assert other.status == S.ATTAINED


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({}, "body.acknowledgement.items"),
        ({"items": []}, "at least 1"),
        ({"items": [{"id": 1, "college_student_id": "C"}], "extra": 1}, "Extra inputs"),
        ({"items": [{"id": 1, "college_student_id": "C", "grade": "A"}]}, "Extra inputs"),
        ({"items": [{"id": "one", "college_student_id": "C"}]}, "items.0.id"),
        # A JSON integer (JSON Schema counts 7.0 as one): not 1.5, "1" or true.
        ({"items": [{"id": 1.5, "college_student_id": "C"}]}, "items.0.id"),
        ({"items": [{"id": "1", "college_student_id": "C"}]}, "items.0.id"),
        ({"items": [{"id": True, "college_student_id": "C"}]}, "items.0.id"),
        ({"items": [{"id": 1}]}, "college_student_id"),
        ({"items": [{"id": 1, "college_student_id": "   "}]}, "college_student_id"),
        ({"items": [{"id": 1, "college_student_id": "C\x00"}]}, "college_student_id"),
        ({"items": [{"id": 1, "college_student_id": "C" * 31}]}, "college_student_id"),
        (
            {"items": [{"id": 1, "college_student_id": "C", "transcribed_on": "soon"}]},
            "transcribed_on",
        ),
        ({"items": [{"id": 2**70, "college_student_id": "C"}]}, "items.0.id"),
        ({"items": "all"}, "items"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(client, ready, auth, raw, words):
    before = snapshot()
    response = acknowledge(client, auth, raw=raw)
    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert snapshot() == before


def test_an_id_written_as_a_whole_float_is_that_credit(client, ready, auth):
    """JSON Schema, and so the OpenAPI document, counts 7.0 as the integer 7: a client
    library that writes numbers as floats is understood, not refused."""
    body = acknowledge(client, auth, raw={"items": [item(ready) | {"id": float(ready.pk)}]})
    assert body.status_code == 200
    assert body.json()["results"][0]["id"] == ready.pk


def test_the_openapi_document_says_an_id_is_an_integer(client):
    document = client.get("/api/v1/openapi.json").json()
    id_schema = document["components"]["schemas"]["AcknowledgementItem"]["properties"]["id"]
    assert id_schema["type"] == "integer"
    assert (id_schema["minimum"], id_schema["maximum"]) == (1, 2**63 - 1)


def test_a_credit_listed_twice_is_marked_once_by_its_first_listing(client, here, ready, auth):
    registered = here.enrollments[1]
    body = acknowledge(
        client, auth, item(ready), item(registered), item(ready, "C-2"), item(registered)
    ).json()
    assert [r["outcome"] for r in body["results"]] == [
        "transcribed",
        "refused",
        "already_transcribed",
        "refused",
    ]
    assert body["results"][2]["college_student_id"] == "C-1001"
    assert body["results"][3]["reasons"] == body["results"][1]["reasons"]
    ready.refresh_from_db()
    assert ready.college_student_id == "C-1001"
    assert (
        EnrollmentStatusChange.objects.filter(enrollment=ready, to_status=S.TRANSCRIBED).count()
        == 1
    )


def test_too_many_items_is_a_400(client, ready, auth):
    items = [{"id": n, "college_student_id": "C"} for n in range(1, MAX_ACKNOWLEDGEMENT_ITEMS + 2)]
    response = acknowledge(client, auth, *items)
    assert response.status_code == 400
    assert "at most 500" in response.json()["detail"]


def test_a_body_that_is_not_json_is_a_400(client, ready, auth):
    response = client.post(ACK, "{not json", content_type="application/json", headers=auth)
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid JSON."}


def test_a_body_over_the_size_limit_is_a_400(client, ready, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    items = [{"id": n, "college_student_id": "C" * 30} for n in range(1, 100)]
    response = acknowledge(client, auth, *items)
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is too large."}


def test_acknowledging_needs_a_valid_token(client, here, ready, token, auth):
    assert acknowledge(client, {}, item(ready)).status_code == 401
    api_token_revoke(actor=here.registrar, token_id=token[0].pk)
    assert acknowledge(client, auth, item(ready)).status_code == 401
    assert acknowledge(client, bearer("sers_x"), item(ready)).status_code == 401
    ready.refresh_from_db()
    assert ready.status == S.ATTAINED
