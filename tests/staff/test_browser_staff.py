"""In a browser: a teacher confirms a class of 30 and enters all their grades on one page,
marks the class complete; the registrar marks the eligible credits transcribed. axe runs
on every page, on a desktop, and the busiest pages are checked on a 360px phone."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from enrollment.models import Enrollment, Fee
from tests.browser.axe import axe_check
from tests.world import S, build_place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CLASS_SIZE = 30
# Grades typed by the teacher: five below the B minimum.
GRADES = ["A", "B+", "b", "A-", "B", "C"] * 5


@pytest.fixture
def school(year, today):
    return build_place(year, name="Cascade", students=CLASS_SIZE)


def heading(page) -> str:
    return page.locator("h1").inner_text().strip()


def axe(page) -> None:
    """axe on the page at rest: the pointer left where the last click was may hover a
    button of the next page, and axe would catch its colours halfway through the
    hover transition."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(250)
    axe_check(page)


def test_teacher_grades_a_class_of_30_and_the_registrar_transcribes(page, login, school):
    place = school
    roster = sorted(
        place.enrollments,
        key=lambda e: (e.student.legal_last_name, e.student.legal_first_name, e.pk),
    )

    # --- the teacher ------------------------------------------------------------------------
    login(page, place.teacher)
    page.goto(reverse("enrollment:teacher_classes"))
    assert heading(page) == "My classes"
    axe(page)
    page.get_by_role("link", name=place.articulation.high_school_course.title).click()
    assert heading(page) == "Class roster"
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name=f"Confirm all {CLASS_SIZE} waiting students").click()
    expect(page.get_by_text(f"{CLASS_SIZE} students confirmed.")).to_be_visible()
    assert Enrollment.objects.filter(status=S.CONFIRMED).count() == CLASS_SIZE
    axe(page)

    page.get_by_role("link", name="Grades", exact=True).click()
    assert heading(page) == "Enter grades"
    axe(page)
    # The result shows while typing (htmx asks the server; nothing is saved yet).
    first = roster[0]
    page.locator(f"#grade-{first.pk}").fill("C")
    expect(page.locator(f"#result-{first.pk}")).to_have_text("Not saved yet: below the minimum")
    page.locator(f"#grade-{first.pk}").fill("A")
    expect(page.locator(f"#result-{first.pk}")).to_have_text("Not saved yet: meets the minimum")
    assert Enrollment.objects.get(pk=first.pk).status == S.CONFIRMED
    # A typo is caught on the spot.
    page.locator(f"#grade-{roster[1].pk}").fill("Q")
    expect(page.locator(f"#result-{roster[1].pk}")).to_contain_text("letter grade")
    for enrollment, grade in zip(roster, GRADES, strict=True):
        page.locator(f"#grade-{enrollment.pk}").fill(grade)
    # Let the last checks answer (the test database is SQLite in memory: one writer).
    expect(page.locator(f"#result-{roster[-1].pk}")).to_have_text(
        "Not saved yet: below the minimum"
    )
    page.wait_for_load_state("networkidle")
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save all grades").click()
    expect(page.get_by_text(f"{CLASS_SIZE} grades saved.")).to_be_visible()
    assert Enrollment.objects.filter(status=S.GRADED).count() == CLASS_SIZE
    axe(page)

    # One row changed and saved on its own (htmx swaps just that row).
    last = roster[-1]
    page.locator(f"#grade-{last.pk}").fill("B-")
    row_url = reverse("enrollment:teacher_grade_row", args=[place.section.pk, last.pk])
    with page.expect_response(lambda response: response.url.endswith(row_url)):
        page.locator(f"#row-{last.pk}").get_by_role("button", name="Save").click()
    expect(page.locator(f"#row-{last.pk}")).to_contain_text("Saved: not attained")
    assert page.url.endswith(reverse("enrollment:teacher_grades", args=[place.section.pk]))
    assert Enrollment.objects.get(pk=last.pk).grade == "B-"
    axe(page)

    page.get_by_role("link", name="Mark complete").click()
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Mark the class complete").click()
    expect(page.get_by_text("The class is complete")).to_be_visible()
    attained = Enrollment.objects.filter(status=S.ATTAINED)
    assert attained.count() == 25
    assert Enrollment.objects.filter(status=S.NOT_ATTAINED).count() == 5
    axe(page)

    # Fees: 20 of the 25 attaining students have paid.
    paid = list(attained.order_by("pk")[:20])
    Fee.objects.filter(student__in=[e.student_id for e in paid]).update(
        status="paid", paid_on="2026-11-20", receipt_number="R"
    )

    # --- the registrar ----------------------------------------------------------------------
    page.context.clear_cookies()
    login(page, place.registrar)
    page.goto(reverse("enrollment:registrar_queue"))
    assert heading(page) == "Transcription queue"
    expect(page.get_by_text("20 credits ready to transcribe")).to_be_visible()
    axe(page)
    page.get_by_role("checkbox", name="Tick every credit on this page").check()
    for index, enrollment in enumerate(paid):
        page.get_by_role(
            "textbox", name=f"College student ID of {enrollment.student.legal_name}"
        ).fill(f"CTC{index:04d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark the ticked credits transcribed").click()
    expect(page.get_by_text("20 credits marked transcribed.")).to_be_visible()
    transcribed = Enrollment.objects.filter(status=S.TRANSCRIBED)
    assert set(transcribed.values_list("pk", flat=True)) == {e.pk for e in paid}
    assert Enrollment.objects.get(pk=paid[3].pk).college_student_id == "CTC0003"
    axe(page)

    page.get_by_role("link", name="Waiting").click()
    expect(page.get_by_text("Fee unpaid").first).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Transcribed", exact=True).click()
    expect(page.get_by_text("20 credits transcribed")).to_be_visible()
    axe(page)
    assert page.js_errors == []


def test_the_busiest_pages_work_on_a_phone(phone_page, login, school):
    place = school
    page = phone_page
    # A long name makes the grade table wider than the phone: it must scroll in its box.
    student = place.students[0]
    student.legal_last_name = "Featherstonehaugh-Montgomery-Villanueva"
    student.save(update_fields=["legal_last_name"])
    login(page, place.teacher)
    for name in ["teacher_roster", "teacher_grades"]:
        page.goto(reverse(f"enrollment:{name}", args=[place.section.pk]))
        axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    page.context.clear_cookies()
    login(page, place.admin)
    for url in [
        reverse("enrollment:consortium_home"),
        reverse("enrollment:fee_list"),
        reverse("enrollment:staff_lookup") + "?name=a",
        reverse("enrollment:staff_student", args=[place.students[0].pk]),
        reverse("organisations:consortium_policy_edit", args=[place.consortium.pk, "2026-27"]),
        reverse("organisations:consortium_teachers"),
    ]:
        page.goto(url)
        axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    assert page.js_errors == []
