"""The pages work under the Content-Security-Policy: chromium reports no violation while
loading them and using their htmx parts, and the scripts really run (no JS errors)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.factories import UserFactory, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def watch_csp(page) -> list[str]:
    """Chromium logs every blocked script, style, image or frame to the console."""
    violations: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


def visit(page, url: str) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response.status < 500, url
    # htmx and Bootstrap loaded (their script tags passed the policy).
    assert page.evaluate("() => typeof window.htmx === 'object' && !!window.bootstrap"), url


def test_public_pages_and_their_htmx_parts(page, world):
    violations = watch_csp(page)
    for url in [
        reverse("home"),
        reverse("accounts:login"),
        reverse("enrollment:sign_up"),
        "/nowhere/",
    ]:
        visit(page, url)

    visit(page, reverse("articulations:search"))
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Career cluster").select_option(index=1)
    page.wait_for_load_state("networkidle")
    # The htmx indicator styles come from sers.css, not from an injected <style>.
    assert page.evaluate("() => document.querySelectorAll('head style').length") == 0

    assert violations == []
    assert page.js_errors == []


def test_student_pages(page, login, world, student, password):
    violations = watch_csp(page)
    login(page, student.user, password)
    for name in [
        "home",
        "enrollment:dashboard",
        "enrollment:register",
        "enrollment:credits",
        "enrollment:profile",
        "accounts:two_factor_manage",
        "accounts:two_factor_enrol",
    ]:
        visit(page, reverse(name))
    # The QR code is inline SVG, drawn without any image or style the policy would block.
    assert page.locator("svg.sers-qr").bounding_box()["width"] > 100
    assert violations == []
    assert page.js_errors == []


def test_staff_pages_with_charts_and_the_admin(page, login, world, password):
    violations = watch_csp(page)
    state = make_staff(Role.STATE_STAFF, is_staff=True, is_superuser=True)
    login(page, state, password)
    visit(page, reverse("reports:report_dashboard"))
    for url in [reverse("admin:index"), reverse("admin:consortia_user_changelist")]:
        response = page.goto(url, wait_until="networkidle")
        assert response.status == 200
    assert violations == []
    assert page.js_errors == []


def test_the_dropdown_menu_opens_under_the_policy(page, login, world, password):
    """Bootstrap's JavaScript runs: the account menu opens and offers sign-out."""
    user = UserFactory(email="menu@example.org", first_name="Ada")
    login(page, user, password)
    page.get_by_role("button", name="Ada").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
