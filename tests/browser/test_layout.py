"""The layout every page shares: accessible on desktop and phone, keyboard first, sign in/out."""

import pytest
from django.urls import reverse

from tests.browser.axe import axe_check
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def path_of(page) -> str:
    return "/" + page.url.split("://", 1)[1].split("/", 1)[1].split("?")[0].split("#")[0]


@pytest.mark.parametrize("url_name", ["home", "accounts:login"])
def test_anonymous_pages_pass_axe(any_page, url_name):
    response = any_page.goto(reverse(url_name))
    assert response.status == 200
    axe_check(any_page)
    assert any_page.js_errors == []


def test_page_fits_a_phone_without_sideways_scrolling(phone_page):
    phone_page.goto(reverse("home"))
    overflow = phone_page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a 360px phone"


def test_first_tab_reaches_the_skip_link_which_moves_focus_to_main(page):
    page.goto(reverse("home"))
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            return {tag: el.tagName, text: el.textContent.trim(), href: el.getAttribute("href"),
                    visible: box.width > 1 && box.height > 1};
        }"""
    )
    assert focused["tag"] == "A"
    assert focused["text"] == "Skip to main content"
    assert focused["visible"], "the skip link must become visible when focused"

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.tagName") == "MAIN"
    # The next Tab continues inside the main content, not back at the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")


def test_login_with_a_valid_user_reaches_the_home_page(any_page, login, password):
    user = UserFactory(email="browser-user@example.org", first_name="Grace")
    login(any_page, user, password)
    assert path_of(any_page) == reverse("home")
    assert any_page.locator(f"form[action='{reverse('accounts:logout')}']").count() == 1
    assert any_page.js_errors == []


def test_login_with_a_wrong_password_stays_on_the_login_page(page):
    user = UserFactory(email="browser-wrong@example.org")
    page.goto(reverse("accounts:login"))
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill("not-the-password")
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    assert path_of(page) == reverse("accounts:login")
    assert page.locator(f"form[action='{reverse('accounts:logout')}']").count() == 0
    axe_check(page)


def test_signed_in_home_passes_axe(page, login, password):
    login(page, UserFactory(email="browser-axe@example.org", first_name="Alan"), password)
    axe_check(page)


def test_logout(page, login, password):
    login(page, UserFactory(email="browser-logout@example.org", first_name="Edsger"), password)
    logout_form = page.locator(f"form[action='{reverse('accounts:logout')}']")
    submit = logout_form.locator("[type=submit]")
    if not submit.is_visible():
        # The sign-out button sits in the user menu: open it.
        page.locator("header .dropdown-toggle").first.click()
    with page.expect_navigation():
        submit.click()
    assert page.locator(f"form[action='{reverse('accounts:logout')}']").count() == 0
    assert page.locator(f"a[href='{reverse('accounts:login')}']").first.is_visible()

    # The session is gone: a fresh load is still anonymous.
    page.goto(reverse("home"))
    assert page.locator(f"form[action='{reverse('accounts:logout')}']").count() == 0
