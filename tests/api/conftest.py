"""Fixtures for the API tests: `here` (tests/world.py: a college with a registrar and a
class of three students) with a token of its registrar, and a credit ready for the
transcript; `there`, another consortium, is outside every token of `here`."""

import pytest

from api.services import api_token_create
from enrollment.models import EnrollmentStatus
from tests.world import advance, settle_fee

S = EnrollmentStatus


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def token(here):
    """(ApiToken, secret) of `here`'s college, created by its registrar."""
    return api_token_create(
        actor=here.registrar, college=here.college, label="Banner nightly", days=90
    )


@pytest.fixture
def auth(token) -> dict:
    """The headers of a call with `token`."""
    return bearer(token[1])


def make_ready(enrollment):
    """Attained (grade A, minimum B), fee waived: ready for the transcript."""
    enrollment = advance(enrollment, S.ATTAINED)
    settle_fee(enrollment)
    return enrollment


@pytest.fixture
def ready(here):
    """The first student's credit, ready for the transcript."""
    return make_ready(here.enrollments[0])
