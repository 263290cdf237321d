"""The browser test harness: Playwright driving Debian's chromium against live_server.

Registered for the whole suite by `pytest_plugins` in tests/conftest.py, so any test
module can use these fixtures without importing them:

- `browser`: one headless chromium per test process (per xdist worker), from
  /usr/bin/chromium (`playwright install` cannot download browsers here). The tests
  skip, with the reason "needs /usr/bin/chromium", when it is missing; CI installs it
  and forbids skips.
- `page`: a fresh browser context (cookies, storage) per test, desktop-sized;
  `phone_page`: the same on a 360x740 touch phone; `any_page`: both, as two test cases
  (`any_page.viewport_name` says which). All three are bound to pytest-django's
  `live_server`, which gives the test a transactional database, so rows the test
  creates are visible to the server thread; page.goto("/...") goes to the live server.
  `page.js_errors` collects uncaught JavaScript errors.
- `login`: `login(page, user, password=TEST_PASSWORD)` signs in through the real form
  (also importable as `log_in`).

Mark browser test modules with `pytestmark = pytest.mark.browser`; `axe_check` is in
tests/browser/axe.py.
"""

import os
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from tests.factories import TEST_PASSWORD

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
DEFAULT_TIMEOUT_MS = 15_000


def _serialized_contents() -> dict[str, str]:
    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


class _SharedBrowser:
    """One Playwright and one chromium per test process, however many times the `browser`
    fixture is registered (a conftest that imports it registers it once more)."""

    playwright = None
    browser = None
    previous_async_unsafe: str | None = None

    @classmethod
    def get(cls):
        if cls.browser is None:
            from playwright.sync_api import sync_playwright

            # Playwright's sync API keeps an asyncio event loop running in this thread
            # (in a greenlet) from start() to stop(), that is from the first browser
            # test to the end of the session. Django sees the running loop and raises
            # SynchronousOnlyOperation whenever the test thread touches the ORM: in the
            # browser tests (creating users) and in every later test of this process.
            # The tests are plain synchronous code that never runs concurrently with
            # that loop, so the check is a false alarm here. Only this harness sets the
            # variable, only while Playwright runs; tests that start subprocesses should
            # not pass it on (check --deploy rejects it: async.E001).
            cls.previous_async_unsafe = os.environ.get(ASYNC_UNSAFE)
            os.environ[ASYNC_UNSAFE] = "true"
            # The running loop has a second effect: Django keeps database connections
            # in an asgiref Local(thread_critical=True), which switches to a separate,
            # context-local storage while a loop runs. From now on this thread gets new
            # connection objects, without the `_test_serialized_contents` that the test
            # database setup left on the old ones, and serialized rollback would quietly
            # stop restoring data migrations. Carry it over.
            serialized = _serialized_contents()
            cls.playwright = sync_playwright().start()
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            cls.browser = cls.playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        return cls.browser

    @classmethod
    def stop(cls):
        if cls.playwright is None:
            return
        # Close the connections opened while the loop ran: nothing else will, and an
        # open one would keep the test database from being dropped.
        connections.close_all()
        try:
            if cls.browser is not None:
                cls.browser.close()
        finally:
            cls.playwright.stop()
            cls.playwright = cls.browser = None
            if cls.previous_async_unsafe is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = cls.previous_async_unsafe


@pytest.fixture(scope="session")
def browser():
    """Headless chromium from /usr/bin/chromium, shared by every test of this process."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs {CHROMIUM}")
    yield _SharedBrowser.get()
    _SharedBrowser.stop()


def _new_page(browser, live_server, options):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return context, page


# Every page fixture asks for serialized rollback. live_server makes the test
# transactional: the database is emptied afterwards, data migrations (career clusters)
# included. With serialized rollback the test starts from the migrated contents, and the
# flush after it does not recreate content types, which would collide with the next
# serialized test's restore (IntegrityError on django_content_type). Mixing serialized
# and plain transactional tests in one process breaks that way, so transactional tests
# in this suite should all use serialized rollback.


@pytest.fixture
def page(browser, live_server, django_db_serialized_rollback):
    """A desktop-sized page in a fresh context; page.goto("/") goes to the live server."""
    context, page = _new_page(browser, live_server, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server, django_db_serialized_rollback):
    """A 360x740 touch phone."""
    context, page = _new_page(browser, live_server, PHONE)
    yield page
    context.close()


@pytest.fixture(params=list(VIEWPORTS))
def any_page(request, browser, live_server, django_db_serialized_rollback):
    """The test runs twice: on a desktop and on a 360px phone (request.param tells which)."""
    context, page = _new_page(browser, live_server, VIEWPORTS[request.param])
    page.viewport_name = request.param
    yield page
    context.close()


def log_in(page, user, password: str = TEST_PASSWORD, *, next_url: str | None = None):
    """Sign `user` in with the login form; returns the page where the login landed."""
    url = reverse("accounts:login") + (f"?next={next_url}" if next_url else "")
    page.goto(url)
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    login_path = reverse("accounts:login")
    if page.url.split("?")[0].endswith(login_path):
        raise AssertionError(f"login failed for {user.email}: still on {page.url}")
    return page


@pytest.fixture
def login():
    """login(page, user, password=TEST_PASSWORD): sign in through the real form."""
    return log_in
