"""Reporting on a real streaming replica (SERS_TEST_REPLICA_URL; .ci/run starts one with
pg_basebackup -R next to the test server).

The tests pause the replica's replay (pg_wal_replay_pause), so it lags behind the primary
for as long as a test likes, and show that the reports dashboard and report jobs read from
it, and that a lagging replica can never make a transcript report mark a wrong row as
sent: rows already sent by another report are not sent again, new rows are not missed,
and the rows marked are exactly the rows in the file.
"""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from reports.models import ReportJob, TranscriptReportRow
from reports.services import nightly_transcript_reports, report_job_run
from reports.transcript_credit import transcript_candidates
from sers.db_router import REPLICA, reporting_reads
from tests.factories import make_staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__"),
]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def students_on_dashboard(client) -> str:
    response = client.get(reverse("reports:report_dashboard"))
    assert response.status_code == 200
    summary = response.context["dashboard"].summary
    return str(summary[0].value)


def marking_report(college) -> ReportJob:
    """A registrar's report of the rows not sent yet, which marks its rows as sent."""
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=college.registrar,
        college=college.college,
        only_new=True,
        marks_sent=True,
    )
    assert report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


def marked(job: ReportJob) -> set[int]:
    return set(TranscriptReportRow.objects.filter(job=job).values_list("enrollment_id", flat=True))


def in_file(job: ReportJob) -> set[int]:
    with default_storage.open(job.file, "rb") as handle:
        rows = csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig")))
        return {int(row["SERS enrollment id"]) for row in rows}


def test_the_replica_is_a_replica(replica):
    assert replica.value("SELECT pg_is_in_recovery()") is True
    assert (
        replica.connection.settings_dict["NAME"]
        == (connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    )


def test_the_dashboard_reads_the_replica(client, college, replica):
    for _ in range(12):
        college.eligible()
    client.force_login(make_staff(Role.STATE_STAFF))
    replica.catch_up()
    assert students_on_dashboard(client) == "12"

    replica.pause()
    for _ in range(3):
        college.eligible()
    with CaptureQueriesContext(replica.connection) as on_replica:
        lagging = students_on_dashboard(client)

    assert lagging == "12"  # the replica has not replayed the three new students
    assert any("enrollment" in query["sql"] for query in on_replica.captured_queries)

    replica.resume()
    replica.catch_up()
    assert students_on_dashboard(client) == "15"


def test_a_report_reads_its_rows_from_the_replica(college, replica):
    enrollments = {college.eligible().pk for _ in range(3)}
    replica.catch_up()

    with CaptureQueriesContext(replica.connection) as on_replica:
        job = marking_report(college)

    assert marked(job) == in_file(job) == enrollments
    assert job.row_count == 6  # two college courses each
    sql = [query["sql"] for query in on_replica.captured_queries]
    assert any("pg_last_wal_replay_lsn" in query for query in sql)
    assert any("reports_transcriptreportrow" in query for query in sql)  # the file's rows


def test_a_lagging_replica_cannot_cause_a_wrong_mark(college, replica):
    first = {college.eligible().pk for _ in range(3)}
    replica.catch_up()
    replica.pause()

    # Built while the replica lags: it waits for the replica, then reads the primary.
    report_a = marking_report(college)
    assert marked(report_a) == in_file(report_a) == first

    later = {college.eligible().pk for _ in range(2)}

    # What the lagging replica would say: report A's rows are not sent yet, and the new
    # rows do not exist. A report reading it blindly would send A's rows again.
    with reporting_reads() as alias:
        assert alias == REPLICA
        stale = set(transcript_candidates(report_a).values_list("pk", flat=True))
    assert stale == first

    report_b = marking_report(college)
    assert marked(report_b) == in_file(report_b) == later
    assert not marked(report_a) & marked(report_b)

    # Once the replica has caught up, reports read it again, and find nothing new.
    replica.resume()
    replica.catch_up()
    with CaptureQueriesContext(replica.connection) as on_replica:
        report_c = marking_report(college)
    assert marked(report_c) == set()
    assert report_c.row_count == 0
    assert any("reports_transcriptreportrow" in q["sql"] for q in on_replica.captured_queries)


def test_the_nightly_run_finds_colleges_on_the_replica(college, replica):
    college.eligible()
    replica.catch_up()
    with CaptureQueriesContext(replica.connection) as on_replica:
        created = nightly_transcript_reports()
    assert len(created) == 1
    assert ReportJob.objects.get(pk=created[0]).college_id == college.college.pk
    assert on_replica.captured_queries
