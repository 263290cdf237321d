"""GET /api/v1/agreements: the college's active agreements, page by page."""

import pytest

from accesslog.models import AccessLogEntry
from articulations.models import Articulation
from tests.world import add_agreement

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/agreements"


def test_the_colleges_active_agreements(client, here, there, auth):
    draft = add_agreement(
        here.consortium, here.college, [here.year], status=Articulation.Status.DRAFT
    )

    body = client.get(AGREEMENTS, headers=auth).json()

    (agreement,) = body["results"]
    assert body["next_cursor"] is None
    assert agreement["id"] == here.articulation.pk
    assert agreement["status"] == "active"
    assert agreement["minimum_grade"] == "B"
    assert agreement["minimum_grade_scale"] == "letter"
    assert agreement["school_years"] == ["2026-27"]
    assert agreement["high_schools"] == [{"name": here.school.name, "code": here.school.code}]
    assert agreement["high_school_course"]["title"] == "Cascade Web Design"
    assert [c["number"] for c in agreement["courses"]] == ["110"]
    assert agreement["credits"] == float(here.course.credits)
    ids = {a["id"] for a in body["results"]}
    assert draft.pk not in ids
    assert there.articulation.pk not in ids
    assert not AccessLogEntry.objects.exists()  # no student in it


def test_pages_of_agreements(client, here, auth, django_assert_max_num_queries):
    for _ in range(4):
        add_agreement(here.consortium, here.college, [here.year], schools=[here.school])
    client.get(AGREEMENTS, headers=auth)  # last_used_at written once
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        with django_assert_max_num_queries(9):
            body = client.get(AGREEMENTS, params, headers=auth).json()
        seen += [a["id"] for a in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


def test_agreements_need_a_token_and_good_input(client, auth):
    assert client.get(AGREEMENTS).status_code == 401
    assert client.get(AGREEMENTS, {"limit": 100000}, headers=auth).status_code == 400
    assert client.get(AGREEMENTS, {"cursor": "abc"}, headers=auth).status_code == 400
    assert client.get(AGREEMENTS, {"updated_since": "x"}, headers=auth).status_code == 400
