"""Behind PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer).

Each transaction of a client may run on another server connection, so nothing may live
on a server connection past one transaction: no prepared statements, no server-side
cursors. The settings are checked here; a real PgBouncer (SERS_TEST_PGBOUNCER_URL, .ci/run
starts Debian's) shows what goes wrong with prepared statements and that the settings SERS
uses there work. .ci/run also runs a set of end-to-end tests (the several-hosts test, the
workers, the school year in a browser) with DATABASE_URL pointing at PgBouncer.
"""

import os
import threading
from urllib.parse import urlsplit

import psycopg
import pytest

from sers.settings.backends import database, databases

URL = "postgres://sers@db.internal:6432/sers"


def pgbouncer_url() -> str:
    url = os.environ.get("SERS_TEST_PGBOUNCER_URL", "")
    if not url:
        pytest.skip(
            "needs PgBouncer in transaction mode: set SERS_TEST_PGBOUNCER_URL (.ci/run starts one)"
        )
    return url


def test_pooler_mode_keeps_nothing_on_the_server_connection():
    config = database(URL, pooler="pgbouncer")
    assert config["OPTIONS"]["server_side_binding"] is False
    assert "prepare_threshold" not in config["OPTIONS"]  # Django: None, never prepare
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_without_a_pooler_statements_are_prepared(monkeypatch):
    monkeypatch.delenv("DATABASE_SERVER_SIDE_BINDING", raising=False)
    monkeypatch.delenv("DATABASE_PREPARE_THRESHOLD", raising=False)
    config = database(URL)
    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_the_pooler_setting_applies_to_the_replica_too(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://sers@replica.internal:6432/sers")
    monkeypatch.setenv("DATABASE_POOLER", "pgbouncer")
    result = databases("sqlite:///unused.sqlite3")
    assert all(config["DISABLE_SERVER_SIDE_CURSORS"] for config in result.values())

    monkeypatch.setenv("DATABASE_POOLER", "pgpool")
    with pytest.raises(Exception, match="DATABASE_POOLER must be one of none, pgbouncer"):
        databases("sqlite:///unused.sqlite3")


def _connect(url: str, options: dict) -> psycopg.Connection:
    parts = urlsplit(url)
    connection = psycopg.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        dbname=parts.path.lstrip("/"),
        autocommit=True,
        prepare_threshold=options.get("prepare_threshold"),
        cursor_factory=(
            psycopg.Cursor if options.get("server_side_binding") else psycopg.ClientCursor
        ),
    )
    return connection


def _alternate(url: str, options: dict) -> list[str]:
    """Two clients of a pool of one server connection take turns running the same query,
    each in transactions of its own, as two web workers behind PgBouncer do."""
    errors: list[str] = []
    first, second = _connect(url, options), _connect(url, options)
    try:
        for turn in range(12):
            for client in (first, second):
                try:
                    with client.transaction():
                        row = client.execute("SELECT %s::int + 1", [turn]).fetchone()
                    assert row == (turn + 1,)
                except psycopg.Error as error:
                    errors.append(type(error).__name__)
    finally:
        first.close()
        second.close()
    return errors


def test_prepared_statements_break_behind_a_transaction_pooler():
    """The control: psycopg's prepared statements (what SERS uses without a pooler, here
    prepared at once) meet the other client's statement of the same name on the one
    server connection."""
    errors = _alternate(pgbouncer_url(), {"server_side_binding": True, "prepare_threshold": 0})
    assert "DuplicatePreparedStatement" in errors or "InvalidSqlStatementName" in errors


def test_the_pooler_settings_work_behind_a_transaction_pooler():
    options = database(pgbouncer_url(), pooler="pgbouncer")["OPTIONS"]
    assert _alternate(pgbouncer_url(), options) == []


def test_a_transaction_keeps_its_server_connection_while_others_wait():
    """Transaction pooling hands the one server connection to a client for a whole
    transaction: what a transaction writes it reads back, whoever else is waiting."""
    url = pgbouncer_url()
    options = database(url, pooler="pgbouncer")["OPTIONS"]
    seen: list[int] = []

    def other_client():
        with _connect(url, options) as connection:
            seen.append(connection.execute("SELECT 1").fetchone()[0])

    with _connect(url, options) as connection, connection.transaction():
        connection.execute("CREATE TEMPORARY TABLE probe (n int) ON COMMIT DROP")
        waiting = threading.Thread(target=other_client)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # the pool's one connection is this transaction's
        connection.execute("INSERT INTO probe VALUES (1)")
        assert connection.execute("SELECT count(*) FROM probe").fetchone() == (1,)
    waiting.join(10)
    assert seen == [1]
