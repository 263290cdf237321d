import os

import pytest

from tests.factories import TEST_PASSWORD


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


@pytest.fixture
def password():
    return TEST_PASSWORD
