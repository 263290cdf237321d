import os

import factory.random
import pytest
from django.utils import translation

from tests import bulkguard
from tests.factories import TEST_PASSWORD
from tests.world import Place, build_place, freeze_today, school_year


def pytest_collection_modifyitems(config, items):
    """Skip, with a visible reason, the tests whose services are not configured."""
    db_url = os.environ.get("DATABASE_URL", "")
    on_postgres = db_url.startswith(("postgres://", "postgresql://"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _same_data_every_run(request):
    """The factories' random values (names, birth dates) are seeded by the test's id, so
    a test sees the same people on every run, alone or in any order: a chance collision
    with a value the test wrote by hand fails every time or never, not once in a while."""
    factory.random.reseed_random(f"sers:{request.node.nodeid}")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the locmem cache outlives a test's database
    rollback: cached search pages, rate-limit counters)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request in Spanish leaves Spanish active in the thread (LocaleMiddleware does not
    undo it), and the next test in the process would read its labels in Spanish: each test
    ends back in the default language, so tests pass alone or in any order."""
    yield
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def _bulk_guard_installed():
    bulkguard.install()


@pytest.fixture(autouse=True)
def _no_unannounced_bulk_writes():
    """Application code wrote a cached table in bulk behind the caches' backs: the test
    fails (tests/bulkguard.py), even if the code caught the error."""
    bulkguard.violations.clear()
    yield
    if bulkguard.violations:
        found = list(bulkguard.violations)
        bulkguard.violations.clear()
        pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture
def password():
    return TEST_PASSWORD


# --- the shared world (tests/world.py) ---------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    """Today is 1 December 2026 (tests.world.TODAY), inside the 2026-27 school year."""
    return freeze_today(monkeypatch)


@pytest.fixture
def year(db):
    """The 2026-27 school year (the factories' default year)."""
    return school_year(2026)


@pytest.fixture
def here(year, today) -> Place:
    """Our consortium: a class of three registered students, staff in every role."""
    return build_place(year, name="Cascade")


@pytest.fixture
def there(year, today) -> Place:
    """Another consortium: its records are outside every scope of `here`'s staff."""
    return build_place(year, name="Desert", students=1)


# CI runs the suite with every service present and SERS_NO_SKIPS=1 (see .ci/run): there a
# skipped test means a broken environment, so it is reported as a failure with its reason.
NO_SKIPS = os.environ.get("SERS_NO_SKIPS") == "1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but SERS_NO_SKIPS=1 forbids skips: {reason}"
    return report


# The browser harness (Playwright + chromium fixtures: browser, page, phone_page, any_page,
# login) for every test directory; see tests/browser/fixtures.py.
pytest_plugins = ["tests.browser.fixtures"]


def pytest_itemcollected(item):
    """Every transactional test (transaction=True, transactional_db, live_server) gets
    serialized rollback: it starts from the migrated contents (data migrations such as the
    career clusters included) and its closing flush does not recreate content types. A
    plain transactional test before a serialized one in the same process would otherwise
    make the latter fail with IntegrityError on django_content_type."""
    names = getattr(item, "fixturenames", None)
    if names is None or "django_db_serialized_rollback" in names:
        return
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in names for name in ("transactional_db", "live_server")
    )
    if transactional:
        names.append("django_db_serialized_rollback")
