"""Fuzzing the API with schemathesis against its own OpenAPI document, through the WSGI
application (no server), signed in with a test token: whatever a client sends, the API
answers without a server error, with a status code, content type, headers and body the
document promises, refuses what the document calls invalid and accepts what it calls
valid. Every built-in check runs.

EXAMPLES per operation keeps this quick in the normal test run; the seed makes every run
try the same inputs, so a failure is reproducible.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.api.conftest import bearer, make_ready
from tests.world import enroll

EXAMPLES = 40

CONFIG = {
    "seed": 20261201,
    "generation": {"max-examples": EXAMPLES},
    "operations": [
        {
            # A cursor is opaque: no schema tells the `next_cursor` of a page from any
            # other string, so a generated one gets the 400 of a malformed cursor
            # (test_credits.py and test_agreements.py test that answer).
            "include-path-regex": "^/api/v1/(credits/ready|agreements)$",
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
                }
            },
        }
    ],
}


# Loaded once, from the application itself (the document needs no token nor database).
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=SchemathesisConfig.from_dict(CONFIG)
)


@pytest.fixture
def world(db, settings, here, there, token):
    """Credits ready at our college and at another; calls of one token and failures of
    one address far beyond the limits (the limits have their own tests, test_auth.py)."""
    settings.SERS_API_CALLS_PER_MINUTE = 10**9
    settings.SERS_API_FAILED_AUTH_PER_MINUTE = 10**9
    for enrollment in here.enrollments[:2]:
        make_ready(enrollment)
    make_ready(enroll(here))
    make_ready(there.enrollments[0])
    # As Django's test client does: the WSGI handler would otherwise close the test's
    # connection (inside its transaction) at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_promises(case, world, token):
    case.call_and_validate(headers=bearer(token[1]))
