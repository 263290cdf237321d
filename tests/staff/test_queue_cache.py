"""The registrar's queue is kept in the cache per college (enrollment/pagecache.py):
served again without the queue's queries, every view still logged, and never stale after
a change that moves a credit in or out of it."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from accesslog.models import AccessLogEntry
from tests.world import S, advance, enroll, settle_fee

pytestmark = pytest.mark.django_db


def queue_url(view="ready", **params):
    from urllib.parse import urlencode

    return reverse("enrollment:registrar_queue") + "?" + urlencode({"view": view, **params})


def ready_ids(client, **params) -> set[int]:
    """The enrollments the ready tab offers to tick."""
    html = client.get(queue_url(**params)).content.decode()
    return {int(part.split('"')[0]) for part in html.split('id="pick-')[1:]}


@pytest.fixture
def attained(here):
    """Two attained credits: ready once the fee is settled."""
    return [advance(e, S.ATTAINED) for e in here.enrollments[:2]]


def test_the_queue_is_served_again_without_its_queries(
    client, here, attained, django_assert_max_num_queries
):
    settle_fee(attained[0])
    client.force_login(here.registrar)
    client.get(queue_url())
    cache.clear()
    with django_assert_max_num_queries(40) as built:
        client.get(queue_url())
    with django_assert_max_num_queries(len(built.captured_queries) - 3) as served:
        response = client.get(queue_url())
    assert not any('FROM "enrollment_enrollment"' in q["sql"] for q in served.captured_queries)
    assert f'id="pick-{attained[0].pk}"' in response.content.decode()


def test_every_view_is_logged_even_when_served_from_the_cache(client, here, attained):
    for enrollment in attained:
        settle_fee(enrollment)
    client.force_login(here.registrar)
    for _ in range(3):
        client.get(queue_url())
    entries = AccessLogEntry.objects.filter(actor=here.registrar, what__contains="ready")
    assert entries.count() == 3
    assert all(entry.students.count() == 2 for entry in entries)


def test_a_settled_fee_and_a_confirmed_email_make_a_credit_ready(client, here, attained):
    first, second = attained
    client.force_login(here.registrar)
    assert ready_ids(client) == set()
    settle_fee(first)
    assert ready_ids(client) == {first.pk}
    user = second.student.user
    user.email_verified_at = None
    user.save(update_fields=["email_verified_at"])
    settle_fee(second)
    assert ready_ids(client) == {first.pk}
    assert "Email not verified" in client.get(queue_url("waiting")).content.decode()
    user.email_verified_at = first.student.user.email_verified_at
    user.save(update_fields=["email_verified_at"])
    assert ready_ids(client) == {first.pk, second.pk}


def test_a_fee_free_year_makes_every_attained_credit_ready(client, here, attained):
    client.force_login(here.registrar)
    assert ready_ids(client) == set()
    here.policy.annual_fee = 0
    here.policy.save()
    assert ready_ids(client) == {e.pk for e in attained}


def test_grades_and_marks_move_credits_between_the_tabs(client, here, year):
    newcomer = enroll(here, year)
    settle_fee(newcomer)
    client.force_login(here.registrar)
    waiting = client.get(queue_url("waiting")).content.decode()
    assert newcomer.student.sers_id in waiting
    advance(newcomer, S.ATTAINED)
    assert newcomer.student.sers_id not in client.get(queue_url("waiting")).content.decode()
    assert ready_ids(client) == {newcomer.pk}
    response = client.post(
        reverse("enrollment:registrar_transcribe"),
        {
            "transcribed_on": "2026-11-30",
            "enrollment": [newcomer.pk],
            f"college_id_{newcomer.pk}": "ctc-0009",
        },
    )
    assert response.status_code == 302
    assert ready_ids(client) == set()
    assert newcomer.student.sers_id in client.get(queue_url("transcribed")).content.decode()


def test_a_corrected_name_shows_in_the_queue(client, here, attained):
    settle_fee(attained[0])
    client.force_login(here.registrar)
    student = attained[0].student
    assert student.legal_last_name in client.get(queue_url()).content.decode()
    student.legal_last_name = "Okonkwo-Reyes"
    student.save()
    assert "Okonkwo-Reyes" in client.get(queue_url()).content.decode()


def test_filters_and_tabs_are_kept_apart(client, here, attained):
    settle_fee(attained[0])
    client.force_login(here.registrar)
    assert ready_ids(client) == {attained[0].pk}
    assert ready_ids(client, term="spring") == set()
    assert ready_ids(client) == {attained[0].pk}
    fragment = client.get(queue_url(), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="queue-results"')
    page = client.get(queue_url()).content.decode()
    assert "<html" in page
    assert 'role="search"' in page


def test_another_colleges_registrar_never_gets_this_queue(client, here, there, attained):
    settle_fee(attained[0])
    client.force_login(here.registrar)
    assert ready_ids(client) == {attained[0].pk}
    client.force_login(there.registrar)
    assert ready_ids(client) == set()
    assert here.students[0].legal_last_name not in client.get(queue_url()).content.decode()
