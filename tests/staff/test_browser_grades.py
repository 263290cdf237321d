"""In a browser: a grade typed on the grade page is never dropped. Enter in any row saves
what was typed (not the first row's button), the "Attained" badge shows only a saved
grade, and leaving the page with unsaved grades asks first."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from enrollment.models import Enrollment
from tests.world import S, build_place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def place(year, today):
    return build_place(year, name="Cascade", students=4)


def _roster(place):
    """The class in the order of the grade page."""
    return sorted(
        place.enrollments,
        key=lambda e: (e.student.legal_last_name, e.student.legal_first_name, e.pk),
    )


def test_enter_in_the_third_row_saves_its_grade(page, login, place):
    third = _roster(place)[2]
    login(page, place.teacher)
    page.goto(reverse("enrollment:teacher_grades", args=[place.section.pk]))
    box = page.locator(f"#grade-{third.pk}")
    box.fill("A")
    # Checked while typing, but not saved: no "Attained" badge yet.
    expect(page.locator(f"#result-{third.pk}")).to_have_text("Not saved yet: meets the minimum")
    with page.expect_navigation():
        box.press("Enter")
    expect(page.get_by_text("1 grade saved.")).to_be_visible()

    page.reload()
    expect(page.locator(f"#grade-{third.pk}")).to_have_value("A")
    expect(page.locator(f"#result-{third.pk}")).to_have_text("Attained")
    third.refresh_from_db()
    assert (third.status, third.grade) == (S.GRADED, "A")
    others = Enrollment.objects.exclude(pk=third.pk)
    assert set(others.values_list("status", flat=True)) == {S.REGISTERED}
    assert page.js_errors == []


def test_enter_saves_every_row_typed(page, login, place):
    first, second, third, fourth = _roster(place)
    login(page, place.teacher)
    page.goto(reverse("enrollment:teacher_grades", args=[place.section.pk]))
    page.locator(f"#grade-{second.pk}").fill("B")
    page.locator(f"#grade-{fourth.pk}").fill("C")
    with page.expect_navigation():
        page.locator(f"#grade-{fourth.pk}").press("Enter")
    expect(page.get_by_text("2 grades saved.")).to_be_visible()
    grades = dict(Enrollment.objects.values_list("pk", "grade"))
    assert (grades[first.pk], grades[second.pk], grades[third.pk], grades[fourth.pk]) == (
        "",
        "B",
        "",
        "C",
    )


def test_leaving_with_an_unsaved_grade_asks_first(page, login, place):
    first = _roster(place)[0]
    login(page, place.teacher)
    url = reverse("enrollment:teacher_grades", args=[place.section.pk])
    page.goto(url)
    asked = []

    def on_dialog(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    # Nothing typed: the teacher leaves without a question.
    page.get_by_role("link", name="Roster").click()
    page.wait_for_url(lambda u: "/grades" not in u)
    assert asked == []

    page.goto(url)
    page.locator(f"#grade-{first.pk}").click()
    page.keyboard.type("B")
    page.get_by_role("link", name="Roster").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.url.endswith(url)
    expect(page.locator(f"#grade-{first.pk}")).to_have_value("B")
    assert page.js_errors == []


def test_a_refused_grade_is_in_the_error_summary_which_leads_to_its_box(page, login, place):
    """The summary takes the focus as the page loads; its link moves the focus to the
    refused row's box, which still holds what was typed. Nothing is saved."""
    first, second = _roster(place)[:2]
    login(page, place.teacher)
    page.goto(reverse("enrollment:teacher_grades", args=[place.section.pk]))
    page.locator(f"#grade-{first.pk}").fill("A")
    box = page.locator(f"#grade-{second.pk}")
    box.fill("87")
    with page.expect_navigation():
        box.press("Enter")

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    link = summary.get_by_role("link")
    name = f"{second.student.legal_last_name}, {second.student.legal_first_name}"
    expect(link).to_have_count(1)
    expect(link).to_have_text(re.compile(rf"^{re.escape(name)}: Enter a letter grade from A to F"))
    link.click()
    expect(box).to_be_focused()
    expect(box).to_have_value("87")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#grade-{first.pk}")).to_have_value("A")
    assert set(Enrollment.objects.values_list("status", flat=True)) == {S.REGISTERED}

    # Correcting the box checks it as it is typed: the summary stays, to lead to the others.
    box.fill("B")
    expect(page.locator(f"#result-{second.pk}")).to_have_text("Not saved yet: meets the minimum")
    expect(summary).to_be_visible()
    assert page.js_errors == []
