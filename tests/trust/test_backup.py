"""Backups: `pg_dump -Fc` of the database restores with `pg_restore` into a new, empty
database with every row of every table (the commands of README.md, "Backups")."""

import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from accesslog.models import AccessLogEntry
from accesslog.services import access_log_record
from enrollment.services.registration import enrollment_register
from tests.factories import EnrollmentFactory, StudentProfileFactory, UserFactory
from tests.world import TODAY

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH (install the PostgreSQL client tools)")
    return path


def _connect_kwargs(dbname: str) -> dict:
    settings = connection.settings_dict
    return {
        "dbname": dbname,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
    }


def _environment() -> dict:
    settings = connection.settings_dict
    environment = dict(os.environ)
    for variable, key in [
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ]:
        if settings[key]:
            environment[variable] = str(settings[key])
    return environment


def _row_counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(**_connect_kwargs(dbname), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def _run(command: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 (the PostgreSQL client tools, our arguments)
        command, env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_custom_format_dump_restores_every_row_into_an_empty_database(world, student, tmp_path):
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    # Some of everything: enrollments with history and fees, the access log, sessions.
    enrollment_register(student=student, section=world.sections[0], actor=student.user, today=TODAY)
    EnrollmentFactory.create_batch(3)
    access_log_record(
        actor=UserFactory(),
        action=AccessLogEntry.Action.VIEW,
        what="backup test",
        student_ids=[StudentProfileFactory().pk, student.pk],
    )
    source = connection.settings_dict["NAME"]
    before = _row_counts(source)
    assert before["enrollment_enrollment"] >= 4
    assert before["consortia_careercluster"] >= 16

    dump = tmp_path / "sers.dump"
    _run([pg_dump, "-Fc", "--no-owner", "-d", source, "-f", str(dump)])
    assert dump.stat().st_size > 0

    target = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**_connect_kwargs("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
    try:
        assert _row_counts(target) == {}, "the new database starts empty"
        _run([pg_restore, "--no-owner", "--exit-on-error", "-d", target, str(dump)])
        after = _row_counts(target)
        assert after == before
    finally:
        with psycopg.connect(**_connect_kwargs("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
            )
    print(f"\nrestored {len(after)} tables, {sum(after.values())} rows, identical counts")
