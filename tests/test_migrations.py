"""The apps were split by layer without copying a row: the models that moved to
`organisations` and `accesslog` kept their tables, and their migrations move them in
state only. A database at the migrations before the split migrates forward with its
rows, tables and content types intact, and back again."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_SPLIT = [
    ("consortia", "0004_points_grade_at_most_4"),
    ("articulations", "0004_points_grade_at_most_4"),
    ("enrollment", "0004_registrar_queue_indexes"),
    ("reports", "0002_report_jobs"),
    ("organisations", None),
    ("accesslog", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1]]).apps


# The split itself: later migrations (new tables of later work) are not part of it.
AFTER_THE_SPLIT = [
    ("consortia", "0005_organisations_moved"),
    ("articulations", "0005_organisations_moved"),
    ("enrollment", "0005_organisations_moved"),
    ("reports", "0003_access_log_moved"),
    ("organisations", "0001_initial"),
    ("accesslog", "0001_initial"),
]


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _tables() -> set[str]:
    with connection.cursor():
        return set(connection.introspection.table_names())


@pytest.mark.django_db(transaction=True)
def test_an_existing_database_migrates_across_the_split_with_no_row_copied():
    old = _migrate(BEFORE_THE_SPLIT)
    tables_before = _tables()

    ContentType = old.get_model("contenttypes", "ContentType")
    consortium_type, _ = ContentType.objects.get_or_create(
        app_label="consortia", model="consortium"
    )
    log_type, _ = ContentType.objects.get_or_create(app_label="reports", model="accesslogentry")
    Consortium = old.get_model("consortia", "Consortium")
    AcademicYear = old.get_model("consortia", "AcademicYear")
    User = old.get_model("consortia", "User")
    AccessLogEntry = old.get_model("reports", "AccessLogEntry")
    consortium = Consortium.objects.create(name="Cascade Consortium", slug="cascade")
    year = AcademicYear.objects.create(
        code="2026-27",
        start_date=datetime.date(2026, 7, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    staff = User.objects.create(email="staff@example.org", password="!")
    entry = AccessLogEntry.objects.create(actor=staff, action="view", what="a page")

    new = _migrate(AFTER_THE_SPLIT)

    # No table was created, renamed or dropped by the split.
    assert _tables() == tables_before
    assert new.get_model("organisations", "Consortium").objects.get(pk=consortium.pk).slug == (
        "cascade"
    )
    assert new.get_model("organisations", "AcademicYear").objects.get(pk=year.pk).code == "2026-27"
    assert new.get_model("accesslog", "AccessLogEntry").objects.get(pk=entry.pk).actor_id == (
        staff.pk
    )
    # The content types followed the models: admin history stays attached.
    NewContentType = new.get_model("contenttypes", "ContentType")
    assert NewContentType.objects.get(pk=consortium_type.pk).app_label == "organisations"
    assert NewContentType.objects.get(pk=log_type.pk).app_label == "accesslog"

    # And back: the split reverses as cleanly.
    _migrate(BEFORE_THE_SPLIT)
    assert _tables() == tables_before
    assert ContentType.objects.get(pk=consortium_type.pk).app_label == "consortia"
    _migrate(_latest())
