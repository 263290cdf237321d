"""The public search, the detail page and the school catalog: no login, active agreements only."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import Role
from articulations.models import Articulation
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    ConsortiumPolicyFactory,
    HighSchoolCourseFactory,
    UserFactory,
    cluster,
    make_staff,
)
from tests.world import add_teacher

pytestmark = pytest.mark.django_db
S = Articulation.Status
SEARCH = reverse("articulations:search")


def found(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


def test_anonymous_visitor_sees_active_agreements_of_this_year(client, world):
    draft = world.articulation(status=S.DRAFT)
    submitted = world.articulation(status=S.SUBMITTED)
    retired = world.articulation(status=S.RETIRED)
    last_year_only = world.articulation(valid_years=[world.last_year])
    response = client.get(SEARCH)
    assert response.status_code == 200
    ids = found(response)
    assert world.active.pk in ids
    for hidden in (draft, submitted, retired, last_year_only):
        assert hidden.pk not in ids
    assert response.context["year"] == world.year
    content = response.content.decode()
    assert "Accounting 1" in content
    assert "ACCT 101" in content
    assert "North High" in content


def test_another_year_can_be_chosen_and_an_unknown_one_falls_back(client, world):
    last_year_only = world.articulation(valid_years=[world.last_year])
    response = client.get(SEARCH, {"year": world.last_year.code})
    assert found(response) == [last_year_only.pk]
    response = client.get(SEARCH, {"year": "1999-00"})
    assert response.status_code == 200
    assert response.context["year"] == world.year
    assert world.active.pk in found(response)


def test_search_by_cluster(client, world):
    it = world.articulation(cluster=cluster("IT"))
    response = client.get(SEARCH, {"cluster": cluster("IT").pk})
    assert found(response) == [it.pk]


def test_search_by_school_and_by_district_includes_skills_centers(client, world):
    south = world.articulation(schools=[world.other_school], teachers=[])
    at_center = world.articulation(schools=[world.skills_center], teachers=[])
    response = client.get(SEARCH, {"high_school": world.other_school.pk})
    assert found(response) == [south.pk]
    # The skills center is in the north district but serves the south one too.
    response = client.get(SEARCH, {"district": world.other_district.pk})
    assert sorted(found(response)) == sorted([south.pk, at_center.pk])
    response = client.get(SEARCH, {"district": world.district.pk})
    assert sorted(found(response)) == sorted([world.active.pk, at_center.pk])


def test_search_by_college_and_free_text(client, world):
    valley = world.articulation(college=world.other_college)
    assert found(client.get(SEARCH, {"college": world.other_college.pk})) == [valley.pk]
    assert found(client.get(SEARCH, {"q": "accounting"})) == [world.active.pk]
    assert found(client.get(SEARCH, {"q": "ACCT 101"})) == [world.active.pk]
    assert found(client.get(SEARCH, {"q": "52.0301"})) == [world.active.pk]
    assert found(client.get(SEARCH, {"q": "no such course"})) == []


def test_bad_filter_values_show_a_message_not_an_error(client, world):
    response = client.get(SEARCH, {"college": "abc", "cluster": "999999", "page": "x", "sort": "?"})
    assert response.status_code == 200
    assert b"Some filters were not understood" in response.content
    assert world.active.pk in found(response)


def test_results_are_sortable_and_paginated(client, world):
    for _ in range(26):
        world.articulation(teachers=[])
    response = client.get(SEARCH, {"sort": "-credits"})
    assert response.status_code == 200
    assert len(found(response)) == 25
    assert response.context["table"].paginator.num_pages == 2
    assert len(found(client.get(SEARCH, {"page": 2}))) == 2
    titles = [
        row.record.high_school_course.title
        for row in client.get(SEARCH, {"sort": "course"}).context["table"].paginated_rows
    ]
    assert titles == sorted(titles)


def test_htmx_request_gets_only_the_results_with_the_status_out_of_band(client, world):
    response = client.get(SEARCH, {"cluster": cluster("FN").pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="search-results"' in content
    assert "<html" not in content
    assert 'hx-swap-oob="true"' in content
    assert 'id="search-sort"' in content  # the form keeps the sort order after this swap
    assert "HX-Request" in response["Vary"]
    # A history restore needs the whole page.
    response = client.get(
        SEARCH, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_the_page_works_without_javascript(client, world):
    content = client.get(SEARCH).content.decode()
    # A plain GET form with a submit button, and filter values in the URL.
    assert f'<form method="get" action="{SEARCH}"' in content
    assert 'type="submit"' in content
    assert 'hx-push-url="true"' in content


def test_search_query_count_does_not_grow_with_the_data(
    client, world, django_assert_max_num_queries
):
    finance = cluster("FN")
    filters = {"cluster": finance.pk, "high_school": world.school.pk, "q": "Accounting"}
    with django_assert_max_num_queries(14) as few:
        client.get(SEARCH, filters)
    for _ in range(30):
        world.articulation(cluster=finance, schools=[world.school, world.other_school])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(SEARCH, {**filters, "q": ""})
    assert len(found(response)) == 25


def test_csv_download_has_every_result(client, world):
    for _ in range(30):
        world.articulation(teachers=[])
    response = client.get(reverse("articulations:search_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Agreement"
    assert len(rows) == 1 + 31
    first = next(row for row in rows if row[0] == "CASC-001")
    assert first[1:4] == ["1", "Accounting 1", "52.0301"]


def test_csv_neutralises_formulas(client, world):
    world.articulation(
        high_school_course=HighSchoolCourseFactory(
            consortium=world.consortium, title="=HYPERLINK(1)"
        )
    )
    response = client.get(reverse("articulations:search_csv"), {"q": "HYPERLINK"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][2] == "'=HYPERLINK(1)"


# ---------------------------------------------------------------------------------------
# Detail


def test_detail_shows_both_sides_and_contacts(client, world):
    response = client.get(reverse("articulations:detail", args=[world.active.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    for text in (
        "Accounting 1",
        "52.0301",
        "ACCT 101",
        "Principles of Accounting",
        "Cascade College",
        "Use spreadsheets",
        "2026-27",
        "Pat Office",
        world.consortium.contact_email,
        "North High",
    ):
        assert text in content
    assert "Manage this agreement" not in content


def test_detail_hides_teacher_names_unless_the_consortium_allows_them(client, world):
    url = reverse("articulations:detail", args=[world.active.pk])
    assert "Tess" not in client.get(url).content.decode()
    world.consortium.show_teacher_names_publicly = True
    world.consortium.save()
    assert "Tess Teacher" in client.get(url).content.decode()


def test_detail_lists_only_schools_with_an_active_teacher(client, world):
    invited = add_teacher(world.other_school, is_active=False)
    articulation = world.articulation(
        schools=[world.school, world.other_school], teachers=[world.teacher, invited]
    )
    response = client.get(reverse("articulations:detail", args=[articulation.pk]))
    teaching = response.context["teaching"]
    assert [entry.high_school for entry in teaching] == [world.school]


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.APPROVED, S.EXPIRED])
def test_detail_of_an_agreement_that_is_not_active_is_not_found(client, world, status):
    articulation = world.articulation(status=status)
    response = client.get(reverse("articulations:detail", args=[articulation.pk]))
    assert response.status_code == 404


def test_detail_of_an_old_version_leads_to_the_active_one(client, world):
    old = world.articulation(agreement_number="OLD-1", status=S.RETIRED)
    new = world.articulation(agreement_number="OLD-1", version=2, previous_version=old)
    response = client.get(reverse("articulations:detail", args=[old.pk]))
    assert response.status_code == 302
    assert response.url == reverse("articulations:detail", args=[new.pk])


def test_staff_in_scope_get_a_link_to_manage_it(client, world, outsider_admin):
    url = reverse("articulations:detail", args=[world.active.pk])
    client.force_login(world.admin)
    assert "Manage this agreement" in client.get(url).content.decode()
    client.force_login(outsider_admin)
    assert "Manage this agreement" not in client.get(url).content.decode()


def test_detail_query_count_is_bounded(client, world, django_assert_max_num_queries):
    url = reverse("articulations:detail", args=[world.active.pk])
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    for _ in range(5):
        world.active.qualifications.create(teacher=add_teacher(world.school))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# ---------------------------------------------------------------------------------------
# School catalog


def test_catalog_lists_the_school_classes_of_the_year_by_cluster(client, world):
    ConsortiumPolicyFactory(consortium=world.consortium, academic_year=world.year)
    it = world.articulation(cluster=cluster("IT"))
    elsewhere = world.articulation(schools=[world.other_school], teachers=[])
    draft = world.articulation(status=S.DRAFT)
    response = client.get(reverse("articulations:catalog", args=[world.school.pk]))
    assert response.status_code == 200
    ids = [entry.articulation.pk for entry in response.context["entries"]]
    assert sorted(ids) == sorted([world.active.pk, it.pk])
    assert elsewhere.pk not in ids
    assert draft.pk not in ids
    content = response.content.decode()
    assert "Finance" in content
    assert "Information Technology" in content
    assert "Annual fee: $50.00" in content
    assert "Tess" not in content
    assert "articulations-print.js" in content


def test_catalog_names_teachers_at_that_school_when_allowed(client, world):
    world.consortium.show_teacher_names_publicly = True
    world.consortium.save()
    other = add_teacher(world.other_school, first_name="Olga", last_name="Other")
    world.active.high_schools.add(world.other_school)
    world.active.qualifications.create(teacher=other)
    content = client.get(reverse("articulations:catalog", args=[world.school.pk])).content
    assert b"Tess Teacher" in content
    assert b"Olga" not in content


def test_catalog_of_a_skills_center_and_of_another_year(client, world):
    at_center = world.articulation(schools=[world.skills_center], valid_years=[world.last_year])
    url = reverse("articulations:catalog", args=[world.skills_center.pk])
    assert client.get(url).context["entries"] == []
    response = client.get(url, {"year": world.last_year.code})
    assert [e.articulation.pk for e in response.context["entries"]] == [at_center.pk]


def test_catalog_of_an_unknown_school_is_not_found(client, world):
    assert client.get(reverse("articulations:catalog", args=[999999])).status_code == 404


def test_catalog_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    url = reverse("articulations:catalog", args=[world.school.pk])
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for _ in range(10):
        world.articulation()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_no_school_year_yet_shows_an_empty_search(client, db):
    response = client.get(SEARCH)
    assert response.status_code == 200
    assert b"No school year is set up yet" in response.content


def test_public_pages_show_no_email_of_teachers_or_students(client, world):
    world.consortium.show_teacher_names_publicly = True
    world.consortium.save()
    for url in (
        SEARCH,
        reverse("articulations:detail", args=[world.active.pk]),
        reverse("articulations:catalog", args=[world.school.pk]),
    ):
        assert world.teacher.email not in client.get(url).content.decode()


def test_staff_menu_entry_shows_for_articulation_work_only(client, world):
    content = client.get(SEARCH).content.decode()
    assert "Find dual-credit classes" in content
    assert reverse("articulations:manage_list") not in content
    client.force_login(world.approver)
    assert reverse("articulations:manage_list") in client.get(SEARCH).content.decode()
    client.force_login(make_staff(Role.TEACHER, world.school))
    assert reverse("articulations:manage_list") not in client.get(SEARCH).content.decode()


def test_an_unrelated_signed_in_user_can_search(client, world):
    client.force_login(UserFactory())
    assert world.active.pk in found(client.get(SEARCH))


def test_another_consortium_agreements_show_too(client, world):
    other = ArticulationFactory(valid_years=[AcademicYearFactory(start_year=2026)])
    other.high_schools.add(world.school)
    assert other.pk in found(client.get(SEARCH))
