"""In a browser, on a 360px phone: a career specialist uploads the school's OneRoster
export, confirms the suggested class, and the teacher's roster then shows who is in the
class at school and who has not registered. axe runs on every page."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from enrollment.models import SisClassMapping
from tests.browser.axe import axe_check
from tests.enrollment.oneroster_files import export_for_place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def at_rest(page) -> None:
    page.mouse.move(0, 0)
    page.wait_for_timeout(250)
    axe_check(page)
    # The page fits the phone: only tables scroll, inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_upload_confirm_and_the_roster_on_a_phone(phone_page, login, here):
    page = phone_page
    export, _class_id = export_for_place(here)
    login(page, here.specialist)
    page.goto(reverse("enrollment:sis_imports"))
    expect(page.get_by_role("heading", name="School class lists", exact=True)).to_be_visible()
    at_rest(page)
    page.get_by_label("High school").select_option(str(here.school.pk))
    page.get_by_label("The export: its zip file, or its CSV files").set_input_files(
        {"name": "oneroster.zip", "mimeType": "application/zip", "buffer": export.zip_bytes()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("heading", name="Match the classes")).to_be_visible()
    expect(page.get_by_text("Suggested: confirm")).to_be_visible()
    at_rest(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save these choices").click()
    expect(page.get_by_text("1 class mapping saved.")).to_be_visible()
    assert SisClassMapping.objects.get().section_id == here.section.pk

    page.context.clear_cookies()
    login(page, here.teacher)
    page.goto(reverse("enrollment:teacher_roster", args=[here.section.pk]))
    expect(page.get_by_text("3 registered students are in the class at school.")).to_be_visible()
    expect(page.get_by_text("Ångström, Zoë")).to_be_visible()
    at_rest(page)
