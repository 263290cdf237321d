"""State staff manage the organisations: consortia, colleges, districts and high schools,
created and changed with their history. Everyone else: 403; anonymous: the sign-in."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from accounts.models import Role
from articulations import cache as catalog_cache
from organisations.models import College, Consortium, District, HighSchool
from tests.factories import DistrictFactory, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def state():
    return make_staff(Role.STATE_STAFF, first_name="Sam", last_name="State")


def list_url(kind="consortia"):
    return reverse("organisations:state_organisations", args=[kind])


def new_url(kind):
    return reverse("organisations:state_organisation_new", args=[kind])


def edit_url(kind, pk):
    return reverse("organisations:state_organisation", args=[kind, pk])


def college_data(place, **changes):
    college = place.college
    data = {
        "name": college.name,
        "code": college.code,
        "consortium": college.consortium_id,
        "registrar_email": college.registrar_email,
        "website": college.website,
    }
    return data | changes


# --- who may -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, here):
    for url in [
        reverse("organisations:state_organisations_home"),
        list_url("colleges"),
        new_url("districts"),
        edit_url("high-schools", here.school.pk),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("role", ["admin", "registrar", "specialist", "teacher"])
def test_other_roles_are_refused(client, here, role):
    client.force_login(getattr(here, role))
    for url in [list_url(), new_url("colleges"), edit_url("colleges", here.college.pk)]:
        assert client.get(url).status_code == 403, url
    response = client.post(edit_url("colleges", here.college.pk), college_data(here, code="X1"))
    assert response.status_code == 403
    here.college.refresh_from_db()
    assert here.college.code != "X1"


def test_unknown_kinds_and_organisations_are_not_found(client, state, here):
    client.force_login(state)
    assert client.get(list_url("planets")).status_code == 404
    assert client.get(new_url("planets")).status_code == 404
    assert client.get(edit_url("colleges", 999_999)).status_code == 404
    # A school's id under another kind is not that kind's organisation.
    assert client.get(edit_url("consortia", here.school.pk + 1000)).status_code == 404


def test_the_menu_has_the_organisations_for_state_staff_only(client, state, here):
    url = reverse("organisations:state_organisations_home")
    client.force_login(state)
    assert f'href="{url}"' in client.get(reverse("home")).content.decode()
    client.force_login(here.admin)
    assert f'href="{url}"' not in client.get(reverse("home")).content.decode()


# --- lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["consortia", "colleges", "districts", "high-schools"])
def test_each_list_shows_every_organisation_in_a_fixed_number_of_queries(
    client, state, here, there, kind, django_assert_max_num_queries
):
    client.force_login(state)
    with django_assert_max_num_queries(12) as few:
        response = client.get(list_url(kind))
    assert response.status_code == 200
    html = response.content.decode()
    names = {
        "consortia": (here.consortium.name, there.consortium.name),
        "colleges": (here.college.name, there.college.name),
        "districts": (here.district.name, there.district.name),
        "high-schools": (here.school.name, there.school.name),
    }[kind]
    for name in names:
        assert name in html
    for number in range(5):
        DistrictFactory(consortium=here.consortium, name=f"More district {number}")
        HighSchool.objects.create(
            district=here.district, name=f"More school {number}", code=f"MS{number}"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(list_url(kind))


def test_the_list_finds_a_name_or_code(client, state, here, there):
    client.force_login(state)
    html = client.get(list_url("colleges"), {"q": there.college.code.lower()}).content.decode()
    assert there.college.name in html
    assert here.college.name not in html


# --- create and change, with history -------------------------------------------------------


def test_state_staff_create_a_consortium_and_its_history_says_who_and_what(client, state):
    client.force_login(state)
    response = client.post(
        new_url("consortia"),
        {
            "name": "Columbia Gorge Consortium",
            "slug": "",
            "contact_name": "Dual Credit Office",
            "contact_email": "dualcredit@gorge.example.org",
            "contact_phone": "",
            "website": "",
        },
    )
    consortium = Consortium.objects.get(name="Columbia Gorge Consortium")
    assert response.status_code == 302
    assert response.url == edit_url("consortia", consortium.pk)
    assert consortium.slug == "columbia-gorge-consortium"
    page = client.get(response.url).content.decode()
    assert "The consortium is created." in page
    assert "Sam State" in page
    assert "name:  → Columbia Gorge Consortium" in page
    entry = LogEntry.objects.get(object_id=str(consortium.pk))
    assert entry.user == state


def test_a_change_is_recorded_and_nothing_changed_is_said(client, state, here):
    client.force_login(state)
    url = edit_url("colleges", here.college.pk)
    old_code = here.college.code
    response = client.post(url, college_data(here, code="CTC9", website="https://ctc.example.edu"))
    assert response.status_code == 302
    here.college.refresh_from_db()
    assert here.college.code == "CTC9"
    page = client.get(url).content.decode()
    assert "The changes are saved." in page
    assert f"code: {old_code} → CTC9" in page
    client.post(url, college_data(here))
    assert "Nothing changed." in client.get(url).content.decode()
    assert LogEntry.objects.filter(object_id=str(here.college.pk)).count() == 1


def test_a_changed_consortium_renews_the_cached_pages(client, state, here):
    client.force_login(state)
    before = catalog_cache.catalog_version()
    client.post(
        edit_url("consortia", here.consortium.pk),
        {
            "name": here.consortium.name,
            "slug": here.consortium.slug,
            "contact_name": "New office",
            "contact_email": "",
            "contact_phone": "",
            "website": "",
        },
    )
    assert catalog_cache.catalog_version() != before


# --- refused, with a clear message and nothing changed -------------------------------------


def test_a_code_taken_whatever_its_case_is_refused(client, state, here, there):
    client.force_login(state)
    count = College.objects.count()
    response = client.post(
        new_url("colleges"),
        college_data(here, name="Another College", code=there.college.code.lower()),
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"code": ["Another college already has this code."]}
    assert "Another college already has this code." in response.content.decode()
    assert College.objects.count() == count


def test_codes_have_no_spaces_and_names_are_needed(client, state, here):
    client.force_login(state)
    response = client.post(new_url("districts"), {"name": "", "code": "12 34", "consortium": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "consortium"}
    response = client.post(
        new_url("districts"),
        {"name": "North", "code": "12 34", "consortium": here.consortium.pk},
    )
    assert response.context["form"].errors == {"code": ["A code has no spaces."]}
    assert not District.objects.filter(name="North").exists()


def test_a_district_name_is_unique_within_its_consortium_only(client, state, here, there):
    client.force_login(state)
    data = {"name": here.district.name.upper(), "code": "D-NEW", "consortium": here.consortium.pk}
    response = client.post(new_url("districts"), data)
    assert response.context["form"].errors == {
        "name": ["This consortium already has a district of this name."]
    }
    response = client.post(new_url("districts"), data | {"consortium": there.consortium.pk})
    assert response.status_code == 302


def test_only_a_skills_center_serves_other_districts(client, state, here):
    client.force_login(state)
    other = DistrictFactory(consortium=here.consortium)
    data = {
        "name": "Valley Tech",
        "code": "VT1",
        "kind": HighSchool.Kind.HIGH_SCHOOL,
        "district": here.district.pk,
        "city": "Yakima",
        "served_districts": [other.pk],
    }
    response = client.post(new_url("high-schools"), data)
    assert response.context["form"].errors == {
        "served_districts": ["Only a skills center serves other districts."]
    }
    response = client.post(new_url("high-schools"), data | {"kind": HighSchool.Kind.SKILLS_CENTER})
    assert response.status_code == 302
    center = HighSchool.objects.get(code="VT1")
    assert list(center.served_districts.all()) == [other]
    history = client.get(response.url).content.decode()
    assert f"served_districts:  → {other.name}" in history


def test_moves_that_would_take_records_to_another_consortium_are_refused(
    client, state, here, there
):
    client.force_login(state)
    # The college has agreements in its consortium.
    response = client.post(
        edit_url("colleges", here.college.pk), college_data(here, consortium=there.consortium.pk)
    )
    assert response.status_code == 400
    assert "cannot move to another" in response.context["form"].errors["consortium"][0]
    # The school has students and classes: only a district of the same consortium.
    school = {
        "name": here.school.name,
        "code": here.school.code,
        "kind": here.school.kind,
        "city": here.school.city,
        "served_districts": [],
    }
    response = client.post(
        edit_url("high-schools", here.school.pk), school | {"district": there.district.pk}
    )
    assert response.status_code == 400
    assert "same consortium" in response.context["form"].errors["district"][0]
    here.school.refresh_from_db()
    assert here.school.district == here.district
    nearby = DistrictFactory(consortium=here.consortium)
    response = client.post(
        edit_url("high-schools", here.school.pk), school | {"district": nearby.pk}
    )
    assert response.status_code == 302
    here.school.refresh_from_db()
    assert here.school.district == nearby
