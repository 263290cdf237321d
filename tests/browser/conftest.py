"""The browser fixtures live in tests/browser/fixtures.py, a plugin that tests/conftest.py
registers for the whole suite: use `browser`, `page`, `phone_page`, `any_page` and
`login` from any test directory without importing them.

The names are re-exported here only so that older `from tests.browser.conftest import ...`
lines keep working; importing fixtures is no longer needed (and registers them again,
which is harmless: every registration shares one chromium per process).
"""

from tests.browser.fixtures import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    VIEWPORTS,
    any_page,
    browser,
    log_in,
    login,
    page,
    phone_page,
)
