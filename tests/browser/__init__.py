"""Browser tests: Playwright drives Debian chromium against pytest-django's live_server."""
