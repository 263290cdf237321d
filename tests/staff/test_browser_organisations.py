"""In a browser: state staff reach the organisations from the menu, add a high school,
correct a refused form and see the change in its history; on a phone as on a desktop."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from organisations.models import HighSchool
from tests.browser.axe import axe_check
from tests.factories import make_staff
from tests.world import build_place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_state_staff_add_a_high_school(any_page, login, year, today):
    page = any_page
    place = build_place(year, name="Cascade", students=0)
    state = make_staff(Role.STATE_STAFF, first_name="Sam", last_name="State")
    login(page, state)
    page.goto(reverse("home"))
    if page.viewport_name == "phone":  # the phone folds the menu
        page.get_by_role("button", name="Menu").click()
        # Bootstrap unfolds it in 0.35 s ("collapsing"): a link clicked while it moves may
        # not navigate. Click once it is open ("collapse show").
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    menu = page.get_by_role("navigation", name="Main").get_by_role("link", name="Organisations")
    expect(menu).to_be_visible()
    with page.expect_navigation():
        menu.click()
    expect(page.get_by_role("heading", name="Organisations", level=1)).to_be_visible()
    page.get_by_role("link", name="High schools").click()
    expect(page.get_by_role("link", name=place.school.name)).to_be_visible()
    axe_check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.get_by_role("link", name="Add a high school").click()
    page.locator("#id_name").fill("Valley Tech")
    page.locator("#id_code").fill(place.school.code.lower())
    page.locator("#id_district").select_option(label=f"{place.district.name} (Cascade Consortium)")
    page.locator("#id_city").fill("Yakima")
    page.get_by_role("button", name="Add a high school").click()
    # Refused: the code is taken (whatever its case); what was typed stays.
    expect(page.get_by_text("Another school already has this code.").first).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("Valley Tech")
    axe_check(page)

    page.locator("#id_code").fill("VT-1")
    page.get_by_role("button", name="Add a high school").click()
    expect(page.get_by_text("The high school is created.")).to_be_visible()
    expect(page.get_by_text("code:  → VT-1")).to_be_visible()
    expect(page.get_by_text("Sam State").first).to_be_visible()
    assert HighSchool.objects.get(code="VT-1").district == place.district
    axe_check(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.js_errors == []
