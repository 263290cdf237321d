"""The database router (sers/db_router.py) on its own: what goes where, and what happens
when the replica is behind or away. The real replica is in test_replica.py."""

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, router

from enrollment.models import Enrollment
from sers import db_router
from sers.db_router import REPLICA, reporting_reads
from sers.settings.backends import databases


@pytest.fixture
def replica_configured(settings, monkeypatch):
    """Routing on, as with DATABASE_REPLICA_URL (the replica itself is faked here)."""
    monkeypatch.setattr(db_router, "replica_enabled", lambda: True)
    settings.SERS_REPLICA_WAIT_SECONDS = 0.2


def test_without_a_replica_everything_reads_the_primary(settings):
    settings.SERS_REPLICA_READS = False
    with reporting_reads(fresh=True) as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Enrollment) == DEFAULT_DB_ALIAS


def test_reads_in_a_block_go_to_the_replica_and_writes_to_the_primary(
    replica_configured, monkeypatch
):
    monkeypatch.setattr(db_router, "_replayed_to", lambda position: True)
    assert router.db_for_read(Enrollment) == DEFAULT_DB_ALIAS
    with reporting_reads() as alias:
        assert alias == REPLICA
        assert router.db_for_read(Enrollment) == REPLICA
        assert router.db_for_write(Enrollment) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Enrollment) == DEFAULT_DB_ALIAS  # after the block
    assert router.allow_migrate(REPLICA, "enrollment") is False


def test_a_fresh_block_reads_the_primary_when_the_replica_stays_behind(
    replica_configured, monkeypatch
):
    monkeypatch.setattr(db_router, "_primary_position", lambda: "0/5000000")
    asked = []
    monkeypatch.setattr(db_router, "_replayed_to", lambda position: asked.append(position))

    with reporting_reads(fresh=True) as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Enrollment) == DEFAULT_DB_ALIAS
    assert set(asked) == {"0/5000000"}
    assert len(asked) > 1  # it waited, then gave up


def test_an_unreachable_replica_means_reading_the_primary(replica_configured, monkeypatch):
    def unreachable(position):
        raise OperationalError("connection refused")

    class Connection:
        closed = False

        def close(self):
            self.closed = True

    replica = Connection()
    monkeypatch.setattr(db_router, "_replayed_to", unreachable)
    monkeypatch.setattr(db_router, "connections", {REPLICA: replica})
    with reporting_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
    assert replica.closed  # the next block tries a new connection


def test_the_replica_setting_mirrors_the_primary_under_tests(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://sers@db.internal:5432/sers")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://sers@replica.internal:5432/sers")
    monkeypatch.delenv("DATABASE_POOLER", raising=False)
    result = databases("sqlite:///unused.sqlite3")
    assert result[REPLICA]["HOST"] == "replica.internal"
    assert result[REPLICA]["TEST"] == {"MIRROR": DEFAULT_DB_ALIAS}
    assert result[REPLICA]["OPTIONS"] == result[DEFAULT_DB_ALIAS]["OPTIONS"]

    monkeypatch.setenv("DATABASE_REPLICA_URL", "sqlite:///replica.sqlite3")
    with pytest.raises(Exception, match="must point at PostgreSQL"):
        databases("sqlite:///unused.sqlite3")
