"""The database keeps API tokens sound whatever the code does: a name, an expiry after
creation and at most a year later, and a revocation that says who revoked."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiToken

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def row(here, **fields) -> ApiToken:
    values = {
        "college": here.college,
        "label": "Import",
        "prefix": "sers_abcdefg",
        "key_hash": "0" * 64,
        "created_by": here.registrar,
        "created_at": NOW,
        "expires_at": NOW + datetime.timedelta(days=90),
    }
    return ApiToken(**values | fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"label": ""},
        {"prefix": ""},
        {"expires_at": NOW},
        {"expires_at": NOW - datetime.timedelta(days=1)},
        {"expires_at": NOW + datetime.timedelta(days=366)},
        {"revoked_at": NOW},
    ],
    ids=["no name", "no prefix", "expires at creation", "expired before", "over a year", "who"],
)
def test_the_database_refuses_an_unsound_token(here, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        row(here, **fields).save()


def test_a_sound_token_and_two_with_one_hash(here):
    row(here, expires_at=NOW + datetime.timedelta(days=365)).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        row(here).save()  # the same hash again
    row(here, key_hash="1" * 64, revoked_at=NOW, revoked_by=here.registrar).save()
