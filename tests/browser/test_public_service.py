"""A public service people trust, in chromium: the error summary takes the focus and leads
to each field; a choice shows only its own follow-up fields (all of them without
JavaScript); checkboxes and selects that can be seen; Sign out always in view; on a 360 px
phone every table is a stack of cards with no cell off-screen; the footer's pages pass axe."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.axe import axe_check
from tests.browser.fixtures import DESKTOP, log_in
from tests.world import add_enrollment, build_place, make_class

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE_WIDTH = 360


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {id: el.id, tag: el.tagName, summary: el.hasAttribute("data-error-summary")};
        }"""
    )


# --- forms -------------------------------------------------------------------------------------


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(page, db):
    page.goto(reverse("report_problem"))
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").click()
    assert page.title().startswith("Error: ")
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert focused(page)["summary"], "the summary has the focus when the page loads"
    assert summary.get_by_role("heading").inner_text() == "There is a problem"
    axe_check(page)

    # Tab moves into the summary's links; following one puts the focus in the field, with
    # its label in view.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_doing"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_wrong"
    assert page.locator("label[for=id_wrong]").is_visible()
    # the summary is focusable only until it loses the focus (GOV.UK)
    assert summary.get_attribute("tabindex") is None
    # each field says what is wrong beside it, named by its aria-describedby
    described = page.locator("#id_wrong").get_attribute("aria-describedby").split()
    assert "id_wrong_error" in described
    message = page.locator("#id_wrong_error").text_content()
    assert " ".join(message.split()) == "Error: Say what went wrong."
    assert summary.get_by_role("link").nth(1).inner_text() == (
        "What went wrong? Say what went wrong."
    )
    assert page.js_errors == []


@pytest.fixture
def place(year, today):
    return build_place(year, name="Cascade", students=2)


def test_the_page_summary_goes_once_htmx_sends_the_form_again(page, login, place):
    """The summary describes the form as the page was loaded; after a new search swapped
    in by htmx it would describe a state that is gone."""
    login(page, place.specialist)
    page.goto(reverse("enrollment:staff_lookup") + "?sers_id=12")
    assert page.locator("[data-error-summary]").count() == 1
    assert page.title().startswith("Error: ")
    page.get_by_label("SERS ID").fill(place.students[0].sers_id)
    with page.expect_response(lambda r: "staff/students/" in r.url):
        page.get_by_role("button", name="Look up").click()
    # A locator, not wait_for_function("..."): polling a string expression needs eval,
    # which the page's Content Security Policy refuses.
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    expect(page).not_to_have_title(re.compile(r"^Error: "))
    assert page.js_errors == []


def visible_fields(page) -> set[str]:
    names = ["paid_amount", "paid_on", "receipt_number", "waiver_reason", "note"]
    return {name for name in names if page.locator(f"#id_{name}").is_visible()}


def radio(page, name):
    return page.get_by_role("radio", name=name, exact=True)


def test_each_fee_choice_shows_only_its_own_fields(page, login, place):
    login(page, place.admin)
    fee = place.students[0].fees.get()
    page.goto(reverse("enrollment:fee_detail", args=[fee.pk]))
    payment, waiver = radio(page, "A payment"), radio(page, "A waiver")
    assert payment.is_checked()
    assert visible_fields(page) == {"paid_amount", "paid_on", "receipt_number", "note"}
    assert payment.get_attribute("aria-controls") == (
        "div_id_paid_amount div_id_paid_on div_id_receipt_number"
    )

    waiver.check()
    assert visible_fields(page) == {"waiver_reason", "note"}
    assert waiver.get_attribute("aria-controls") == "div_id_waiver_reason"

    radio(page, "A correction: not paid").check()
    assert visible_fields(page) == {"note"}
    axe_check(page)

    # The waiver is recorded with only what it needs.
    waiver.check()
    page.get_by_label("Waiver reason").select_option(index=1)
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    fee.refresh_from_db()
    assert fee.status == "waived"
    assert page.js_errors == []


def test_without_javascript_the_fee_form_shows_every_field(browser, live_server, place):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, **DESKTOP)
    try:
        page = context.new_page()
        log_in(page, place.admin)
        page.goto(reverse("enrollment:fee_detail", args=[place.students[0].fees.get().pk]))
        assert visible_fields(page) == {
            "paid_amount",
            "paid_on",
            "receipt_number",
            "waiver_reason",
            "note",
        }
    finally:
        context.close()


def relative_luminance(rgb: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    a, b = sorted([relative_luminance(one), relative_luminance(other)], reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_checkboxes_stand_out_and_the_school_picker_is_a_select_like_the_others(page, login, place):
    make_class(world=place, title="Automotive Technology")
    student = place.students[0]
    login(page, student.user)
    page.goto(reverse("enrollment:register"))
    box = page.locator("input[type=checkbox].form-check-input").first
    assert box.is_visible()
    border = box.evaluate("el => getComputedStyle(el).borderTopColor")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(border, background) >= 3, f"checkbox border {border} on {background}"
    assert box.evaluate("el => getComputedStyle(el).borderTopWidth") == "2px"

    picker = page.locator("#id_school")
    assert "form-select" in picker.get_attribute("class").split()
    style = "el => [getComputedStyle(el).backgroundImage, getComputedStyle(el).borderTopColor]"
    image, picker_border = picker.evaluate(style)
    assert "svg" in image, "Bootstrap's arrow, as on every other select"
    assert contrast(picker_border, background) >= 3
    assert page.js_errors == []


# --- around every page -----------------------------------------------------------------------


def test_sign_out_is_in_view_and_reached_by_keyboard_on_a_phone(phone_page, login, place):
    page = phone_page
    login(page, place.admin)
    button = page.get_by_role("button", name="Sign out")
    assert button.is_visible(), "not folded away in a menu"
    box = button.bounding_box()
    assert box["x"] + box["width"] <= PHONE_WIDTH
    page.locator("body").focus()
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign out":
            break
    else:
        pytest.fail("Sign out not reached with the keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("header").get_by_role("link", name="Sign in").is_visible()
    axe_check(page)


def test_the_favicon_loads(page, db):
    page.goto(reverse("home"))
    href = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize("name", ["help", "report_problem", "accessibility", "privacy", "cookies"])
def test_the_footer_pages_pass_axe(any_page, db, name):
    any_page.goto(reverse("home"))
    with any_page.expect_navigation():
        any_page.locator("footer").get_by_role("link", name=FOOTER_LINKS[name]).click()
    assert any_page.url.split("?")[0].endswith(reverse(name))
    axe_check(any_page)
    if any_page.viewport_name == "phone":
        assert any_page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert any_page.js_errors == []


FOOTER_LINKS = {
    "help": "Help and contact",
    "report_problem": "Report a problem",
    "accessibility": "Accessibility statement",
    "privacy": "Privacy notice",
    "cookies": "Cookies",
}


# --- tables on a phone -------------------------------------------------------------------------

OVERFLOW = r"""() => {
    const width = document.documentElement.clientWidth;
    const cells = [...document.querySelectorAll("main table td, main table th")]
        .filter((cell) => cell.getClientRects().length && !cell.closest("thead"));
    const out = cells
        .map((cell) => ({text: cell.textContent.trim().slice(0, 40),
                         box: cell.getBoundingClientRect()}))
        .filter(({box}) => box.right > width + 0.5 || box.left < -0.5)
        .map(({text, box}) => `${text} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
    // a cell of a column with a name shows it (a column of tick boxes may have none, and
    // an "Edit" link under "Edit" needs none)
    const text = (el) => (el ? el.textContent.replace(/\s+/g, " ").trim() : "");
    const unlabelled = [...document.querySelectorAll("main table")].flatMap((table) => {
        const heads = table.tHead ? [...table.tHead.rows[0].cells] : [];
        return [...table.querySelectorAll("tbody td")]
            .filter((cell) => cell.colSpan === 1 && !cell.hasAttribute("data-label"))
            .filter((cell) => text(heads[cell.cellIndex]))
            .filter((cell) => text(cell) !== text(heads[cell.cellIndex]))
            .map((cell) => text(cell).slice(0, 40));
    });
    return {cells: cells.length, out, unlabelled,
            page: document.documentElement.scrollWidth - width};
}"""


def check_cards(page, url):
    page.goto(url)
    result = page.evaluate(OVERFLOW)
    assert result["cells"] > 0, f"{url}: no table"
    assert result["out"] == [], f"{url}: cells off-screen: {result['out']}"
    assert result["unlabelled"] == [], f"{url}: cells without their column's name"
    assert result["page"] <= 0, f"{url}: the page scrolls sideways"


def test_on_a_phone_the_confirmation_shows_every_column_of_every_class(phone_page, login, place):
    student = place.students[0]
    teacher = place.teacher
    teacher.first_name, teacher.last_name = "Maximiliana", "Featherstonehaugh-Villanueva"
    teacher.save(update_fields=["first_name", "last_name"])
    add_enrollment(student, make_class(world=place, title="Automotive Technology Fundamentals"))
    page = phone_page
    login(page, student.user)
    check_cards(page, reverse("enrollment:confirmation"))
    # Teacher and Status are on screen, each with its column's name
    teacher_cell = page.locator("td[data-label=Teacher]", has_text="Featherstonehaugh")
    assert teacher_cell.is_visible()
    assert page.locator("td[data-label=Status]").first.is_visible()
    label = teacher_cell.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Teacher: "'
    axe_check(page)
    assert page.js_errors == []


def test_on_a_phone_staff_tables_are_cards_too(phone_page, login, place):
    page = phone_page
    login(page, place.admin)
    for url in [
        reverse("enrollment:fee_list"),  # django-tables2: labelled by the server
        reverse("organisations:consortium_policies"),  # written by hand: labelled by sers.js
        reverse("enrollment:consortium_home"),
        reverse("organisations:consortium_teachers"),
    ]:
        check_cards(page, url)
    assert page.js_errors == []
    page.context.clear_cookies()
    login(page, place.teacher)
    check_cards(page, reverse("enrollment:teacher_classes"))
    check_cards(page, reverse("enrollment:teacher_roster", args=[place.section.pk]))
    assert page.js_errors == []


def test_a_students_credits_fit_a_phone_in_spanish(phone_page, login, place):
    """The longest Spanish badge ("En tu expediente del college") and labels wrap inside
    the card: nothing makes the page scroll sideways at 360 px."""
    from tests.world import S, advance

    enrollment = place.enrollments[0]
    advance(enrollment, S.TRANSCRIBED)
    page = phone_page
    login(page, enrollment.student.user)
    page.locator("#language-select").select_option("es")
    with page.expect_navigation():
        page.locator("footer form [type=submit]").click()
    page.goto(reverse("enrollment:credits"))
    assert page.locator("h1").inner_text() == "Mis créditos universitarios"
    expect(page.locator("main .badge.text-bg-success")).to_have_text("En tu expediente del college")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    axe_check(page)
