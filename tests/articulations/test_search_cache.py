"""The public search's rendered results are cached, and every change to the catalog is seen
at once (articulations/cache.py)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articulations.cache import VERSION_KEY, catalog_version
from articulations.models import Articulation
from articulations.services.rollover import rollover_apply
from tests.factories import AcademicYearFactory, CollegeCourseFactory

pytestmark = pytest.mark.django_db
S = Articulation.Status
SEARCH = reverse("articulations:search")


def queries(client, path=SEARCH, data=None, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, data or {}, headers=headers)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_the_same_search_again_is_served_from_the_cache(client, world):
    first, page = queries(client, data={"q": "Accounting"})
    again, same = queries(client, data={"q": "Accounting"})
    assert "Accounting 1" in page
    assert "Accounting 1" in same
    assert again == 0 < first  # anonymous: no session, no query at all
    # Another search, the fragment and the full page are each their own entry.
    other, _ = queries(client, data={"q": "Welding"})
    assert other > 0
    fragment, html = queries(client, data={"q": "Accounting"}, HX_Request="true")
    assert fragment > 0
    assert "<html" not in html
    assert "Accounting 1" in html


def test_every_response_has_its_own_nonce_and_menu(client, world):
    _, one = queries(client)
    _, two = queries(client)
    nonce = 'nonce="'
    assert one.count(nonce)
    assert one.split(nonce)[1][:20] != two.split(nonce)[1][:20]
    client.force_login(world.teacher)
    _, signed_in = queries(client)
    assert "Accounting 1" in signed_in
    assert reverse("accounts:logout") in signed_in
    assert reverse("accounts:logout") not in one


def test_a_new_active_agreement_shows_at_once(client, world):
    _, before = queries(client)
    assert "Welding 2" not in before
    added = world.articulation()
    added.high_school_course.title = "Welding 2"
    added.high_school_course.save()
    _, after = queries(client)
    assert "Welding 2" in after


def test_retiring_an_agreement_removes_it_at_once(client, world):
    assert "Accounting 1" in queries(client)[1]
    world.active.status = S.RETIRED
    world.active.save(update_fields=["status"])
    assert "Accounting 1" not in queries(client)[1]


def test_schools_courses_and_names_changed_show_at_once(client, world):
    assert "South High</a>" not in queries(client)[1]
    world.active.high_schools.add(world.other_school)  # m2m
    assert "South High</a>" in queries(client)[1]
    world.other_school.name = "South Valley High"
    world.other_school.save()
    page = queries(client)[1]
    assert "South Valley High</a>" in page
    assert ">South Valley High</option>" in page
    world.active.college_courses.add(
        CollegeCourseFactory(college=world.college, prefix="BUS", number="110")
    )
    assert "BUS 110" in queries(client)[1]
    world.active.high_schools.remove(world.other_school)
    assert "South Valley High</a>" not in queries(client)[1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_cache_is_renewed_again_when_the_change_commits(client, world):
    """A request that read the old rows before the commit may have cached them under the
    version set at the change; the commit replaces the version once more."""
    with transaction.atomic():
        world.active.status = S.RETIRED
        world.active.save(update_fields=["status"])
        during = catalog_version()
    assert catalog_version() != during


def test_a_roll_over_adds_the_year_in_bulk_and_the_search_sees_it(client, world):
    next_year = AcademicYearFactory(start_year=2027)
    url_data = {"year": next_year.code}
    assert "Accounting 1" not in queries(client, data=url_data)[1]
    version = catalog_version()
    rollover_apply(
        actor=world.admin,
        consortium_id=world.consortium.pk,
        from_year_id=world.year.pk,
        to_year_id=next_year.pk,
    )
    assert catalog_version() != version
    assert "Accounting 1" in queries(client, data=url_data)[1]


def test_unknown_parameters_are_not_cached(client, world):
    first, _ = queries(client, data={"utm": "x"})
    again, _ = queries(client, data={"utm": "x"})
    assert first > 0
    assert again > 0


def test_a_lost_version_key_only_means_a_fresh_render(client, world):
    from django.core.cache import cache

    queries(client)
    cache.delete(VERSION_KEY)
    assert queries(client)[0] > 0


def test_the_fast_select_renders_groups_like_django(world):
    """FastSelect (the search's filters, the class list's schools) with grouped choices
    gives the same options, groups and selection as Django's own Select."""
    import re

    from django import forms

    from articulations.forms import FastSelect

    choices = [
        ("Your high school", [(1, "North <High>")]),
        ("Other schools", [(2, "South High"), (3, "Tri-County")]),
    ]
    fast = FastSelect(choices=choices).render("school", 2, attrs={"id": "id_school"})
    slow = forms.Select(choices=choices).render("school", 2, attrs={"id": "id_school"})

    def normal(html):
        return re.sub(r">\s+<", "><", html).strip()

    assert normal(fast).replace('id="id_school" name="school"', 'name="school" id="id_school"') == (
        normal(slow)
    )
    assert "North &lt;High&gt;" in fast


def test_the_search_and_agreement_saves_work_while_the_cache_is_down(client, world, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "set", "add"):
        monkeypatch.setattr(cache, method, down)
    assert "Accounting 1" in queries(client)[1]
    world.active.status = S.RETIRED
    world.active.save(update_fields=["status"])
    assert "Accounting 1" not in queries(client)[1]
