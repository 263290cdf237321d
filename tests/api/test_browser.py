"""In a browser, on a desktop and on a 360 px phone: a registrar creates an API token
(shown once, copied with the button), the college system uses it, and the registrar
revokes it; every page passes axe."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from api.models import ApiToken
from tests.api.conftest import bearer
from tests.browser.axe import axe_check

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def fits(page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_registrar_creates_copies_and_revokes_a_token(any_page, login, here):
    page = any_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, here.registrar)

    page.goto(reverse("api:tokens"))
    assert page.locator(f'nav a[href="{reverse("api:tokens")}"]').count() == 1  # in the menu
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.get_by_text("Your college has no API tokens yet.")).to_be_visible()
    axe_check(page)
    fits(page)

    page.get_by_role("link", name="Create a token").click()
    page.get_by_label("Name").fill("Banner nightly import")
    page.get_by_label("Expires after").select_option("180")
    axe_check(page)
    fits(page)
    page.get_by_role("button", name="Create the token").click()

    expect(page.get_by_text("this is the only time SERS shows it")).to_be_visible()
    field = page.get_by_label("Token “Banner nightly import”")
    secret = field.input_value()
    assert secret.startswith("sers_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    axe_check(page)
    fits(page)

    # The college system calls the API with it.
    api = Client()
    assert api.get("/api/v1/credits/ready", headers=bearer(secret)).status_code == 200

    page.get_by_role("link", name="I have saved the token").click()
    row = page.get_by_role("row", name="Banner nightly import")
    expect(row.get_by_text("Active")).to_be_visible()
    assert secret not in page.content()
    axe_check(page)
    fits(page)

    row.get_by_role("link", name="Revoke").click()
    axe_check(page)
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    expect(
        page.get_by_role("row", name="Banner nightly import").get_by_text("Revoked")
    ).to_be_visible()
    assert ApiToken.objects.get().revoked_by == here.registrar
    assert api.get("/api/v1/credits/ready", headers=bearer(secret)).status_code == 401
    assert page.js_errors == []


def test_the_api_docs_page_shows_every_call(page, live_server):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/api/v1/docs")
    for path in ("/api/v1/credits/ready", "/api/v1/credits/acknowledgements", "/api/v1/agreements"):
        expect(page.get_by_text(path, exact=True).first).to_be_visible()
    assert violations == []
    assert page.js_errors == []
