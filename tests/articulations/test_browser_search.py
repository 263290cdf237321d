"""The public search in a real browser: filter by cluster and by school without reloading,
open an agreement, print a school's catalog; axe on every page; and the same without
JavaScript."""

import pytest
from django.urls import reverse

from tests.browser.axe import axe_check
from tests.browser.fixtures import DESKTOP
from tests.factories import HighSchoolCourseFactory, cluster

# serialized_rollback: live_server empties every table after each test; this puts the
# career clusters (a data migration) back first.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SEARCH = reverse("articulations:search")


@pytest.fixture
def catalog(world):
    """Three active agreements: Finance and IT at North High, Welding at South High."""
    world.articulation(
        cluster=cluster("IT"),
        high_school_course=HighSchoolCourseFactory(
            consortium=world.consortium, title="Web Design 1", cip_code="11.0801"
        ),
    )
    world.articulation(
        cluster=cluster("MN"),
        schools=[world.other_school],
        teachers=[],
        high_school_course=HighSchoolCourseFactory(
            consortium=world.consortium, title="Welding 1", cip_code="48.0508"
        ),
    )
    return world


def result_titles(page) -> list[str]:
    return [
        text.strip()
        for text in page.locator("#search-results tbody td:first-child a").all_inner_texts()
    ]


def test_search_by_cluster_and_school_then_open_an_agreement(page, live_server, catalog):
    page.goto(SEARCH)
    assert sorted(result_titles(page)) == ["Accounting 1", "Web Design 1", "Welding 1"]
    axe_check(page)

    # Choosing a cluster reloads only the results, and the URL follows.
    with page.expect_response(
        lambda r: "cluster=" in r.url and r.request.headers.get("hx-request")
    ):
        page.get_by_label("Career cluster").select_option(label="Information Technology")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results tbody tr').length === 1"
    )
    assert result_titles(page) == ["Web Design 1"]
    assert f"cluster={cluster('IT').pk}" in page.url
    assert "1 class found" in page.locator("#search-status").inner_text()

    # Back to any cluster, then one school.
    page.get_by_label("Career cluster").select_option(label="Any cluster")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results tbody tr').length === 3"
    )
    page.get_by_label("High school or skills center").select_option(label="South High")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results tbody tr').length === 1"
    )
    assert result_titles(page) == ["Welding 1"]
    assert f"high_school={catalog.other_school.pk}" in page.url
    axe_check(page)

    # Sorting reloads only the results too: the page (and this marker) stays.
    page.evaluate("() => { window.stillThisPage = true; }")
    page.get_by_label("High school or skills center").select_option(label="Any school")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results tbody tr').length === 3"
    )
    with page.expect_response(lambda r: "sort=college" in r.url):
        page.locator("#search-results thead").get_by_role(
            "link", name="College", exact=True
        ).click()
    page.wait_for_function("() => location.search.includes('sort=college')")
    assert page.evaluate("() => window.stillThisPage === true")
    assert page.locator("th[aria-sort=ascending]").inner_text().strip() == "College"
    page.get_by_label("High school or skills center").select_option(label="South High")
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results tbody tr').length === 1"
    )
    assert "sort=college" in page.url  # the sort survives a filter change
    assert page.evaluate("() => window.stillThisPage === true")

    # The bookmarked URL gives the same results on a fresh load.
    page.reload()
    assert result_titles(page) == ["Welding 1"]

    # The printable catalog of that school.
    with page.expect_navigation():
        page.get_by_role("link", name="Printable catalog for South High").click()
    assert page.locator("h1").inner_text() == "CTE Dual Credit classes at South High"
    assert page.get_by_role("button", name="Print this catalog").is_visible()
    axe_check(page)

    # Open the agreement from the catalog.
    with page.expect_navigation():
        page.get_by_role("link", name="Welding 1").click()
    assert page.locator("h1").inner_text() == "Welding 1"
    assert page.get_by_role("heading", name="At college").is_visible()
    axe_check(page)
    assert page.js_errors == []


def test_open_a_detail_page_from_the_results(page, live_server, catalog):
    page.goto(SEARCH + "?q=accounting")
    with page.expect_navigation():
        page.locator("#search-results").get_by_role("link", name="Accounting 1").click()
    assert page.locator("h1").inner_text() == "Accounting 1"
    assert "ACCT 101" in page.locator("main").inner_text()


def test_search_pages_pass_axe_on_desktop_and_phone(any_page, live_server, catalog):
    for url in (
        SEARCH,
        reverse("articulations:detail", args=[catalog.active.pk]),
        reverse("articulations:catalog", args=[catalog.school.pk]),
    ):
        response = any_page.goto(url)
        assert response.status == 200
        axe_check(any_page)
        if any_page.viewport_name == "phone":
            overflow = any_page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{url} is {overflow}px wider than the phone"
    assert any_page.js_errors == []


def test_search_works_without_javascript(browser, live_server, catalog):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, **DESKTOP)
    try:
        page = context.new_page()
        page.goto(SEARCH)
        page.get_by_label("Career cluster").select_option(label="Manufacturing")
        with page.expect_navigation():
            page.get_by_role("button", name="Search", exact=True).click()
        assert result_titles(page) == ["Welding 1"]
        assert "cluster=" in page.url
        # Sorting is a plain link too.
        with page.expect_navigation():
            page.get_by_role("link", name="College", exact=True).click()
        assert "sort=college" in page.url
    finally:
        context.close()


def test_staff_pages_pass_axe(page, live_server, catalog, login):
    from articulations.models import Articulation

    draft = catalog.articulation(status=Articulation.Status.DRAFT)
    login(page, catalog.admin)
    for url in (
        reverse("articulations:manage_list"),
        reverse("articulations:manage_detail", args=[catalog.active.pk]),
        reverse("articulations:manage_detail", args=[draft.pk]),
        reverse("articulations:manage_edit", args=[draft.pk]),
        reverse("articulations:manage_create"),
        reverse("articulations:manage_teachers", args=[catalog.active.pk]),
        reverse("articulations:manage_courses"),
        reverse("articulations:rollover"),
        reverse("articulations:import"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        axe_check(page)
    assert page.js_errors == []
