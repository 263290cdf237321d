"""manage.py transcript_report: the registrar's report job, run by an operator's scheduler.

It must build exactly what the report job of the site builds (the same service, exporter,
rows and "sent" marks), log the export under SERS itself, and refuse bad input with a
clear message before anything is built or marked.
"""

import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from openpyxl import load_workbook

from accesslog.models import AccessLogEntry
from enrollment.models import Enrollment, Section
from reports.models import ReportJob, TranscriptReportRow
from reports.pesc import MANIFEST_NAME
from tests.factories import SectionFactory
from tests.reports.conftest import College

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(tmp_path) -> Path:
    """An empty folder for the command's files (tmp_path also holds the media folder)."""
    folder = tmp_path / "outbox"
    folder.mkdir()
    return folder


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("transcript_report", *args, stdout=out)
    return out.getvalue()


def command_job() -> ReportJob:
    return ReportJob.objects.filter(origin=ReportJob.Origin.COMMAND).latest("pk")


def site_job(client, college: College, django_capture_on_commit_callbacks, **choices):
    """The registrar asks for the report on the site; the task runs when the request
    commits (in-process here, as without Redis)."""
    client.force_login(college.registrar)
    data = {"college": college.college.pk, "academic_year": "", "term": "", **choices}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:report_transcript_new"), data)
    assert response.status_code == 302, response.content
    job = ReportJob.objects.filter(requested_by=college.registrar).latest("pk")
    assert job.status == ReportJob.Status.DONE, job.error
    return job


def stored(job: ReportJob) -> bytes:
    with default_storage.open(job.file, "rb") as handle:
        return handle.read()


def comparable(content: bytes, file_format: str):
    """What two files built from the same data share, whoever asked: the bytes of a CSV;
    the cells of an XLSX (its metadata holds a timestamp); each PESC document but its
    document id, creation time and report job id."""
    if file_format == "csv":
        return content
    if file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    documents = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        for entry in manifest["documents"]:
            root = etree.fromstring(archive.read(entry["file"]))
            data = root.find("TransmissionData")
            for tag in ("DocumentID", "CreatedDateTime", "UserDefinedExtensions"):
                data.remove(data.find(tag))
            documents[entry["file"]] = (entry["sers_id"], entry["courses"], etree.tostring(root))
    return documents


# --- the same report as the site's job -------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pesc"])
def test_the_command_and_the_registrars_job_build_the_same_file(
    client, college, year, outbox, django_capture_on_commit_callbacks, file_format
):
    college.eligible(legal_first_name="Zoë", legal_last_name="O'Brien-Núñez")
    college.eligible(legal_first_name="Jean-Luc", legal_last_name="D'Angelo")
    fall = SectionFactory(
        articulation=college.articulation, academic_year=year, term=Section.Term.FALL
    )
    college.eligible(section=fall, grade="B+")

    job = site_job(client, college, django_capture_on_commit_callbacks, file_format=file_format)
    output = outbox / f"report.{file_format}"
    run("--college", college.college.code, "--format", file_format, "--output", str(output))

    by_command = command_job()
    assert by_command.row_count == job.row_count == 6
    assert comparable(output.read_bytes(), file_format) == comparable(stored(job), file_format)
    assert output.read_bytes() == stored(by_command)


def test_the_same_choices_give_the_same_rows(
    client, college, year, outbox, django_capture_on_commit_callbacks
):
    """School year, term and "attained on or after": the form's choices, the command's
    options, one report."""
    fall = SectionFactory(
        articulation=college.articulation, academic_year=year, term=Section.Term.FALL
    )
    recent = college.eligible(section=fall)
    earlier = college.eligible(section=fall)
    college.eligible()  # the full-year class: another term
    Enrollment.objects.filter(pk=earlier.pk).update(
        status_changed_at=timezone.make_aware(datetime.datetime(2026, 10, 1, 12))
    )
    Enrollment.objects.filter(pk=recent.pk).update(
        status_changed_at=timezone.make_aware(datetime.datetime(2026, 11, 20, 9))
    )
    choices = {
        "academic_year": year.pk,
        "term": "fall",
        "since": "2026-11-01",
        "file_format": "csv",
    }

    job = site_job(client, college, django_capture_on_commit_callbacks, **choices)
    output = outbox / "fall.csv"
    run(
        "--college", college.college.code, "--format", "csv", "--output", str(output),
        "--year", year.code, "--term", "fall", "--since", "2026-11-01",
    )  # fmt: skip

    rows = set(TranscriptReportRow.objects.filter(job=job).values_list("enrollment", flat=True))
    assert rows == {recent.pk}
    assert set(
        TranscriptReportRow.objects.filter(job=command_job()).values_list("enrollment", flat=True)
    ) == {recent.pk}
    assert output.read_bytes() == stored(job)
    assert command_job().parameters == job.parameters == {"since": "2026-11-01"}


# --- "not yet sent" and the "sent" marks --------------------------------------------------------


def test_not_yet_sent_marks_the_rows_and_a_second_run_is_empty(college, outbox):
    first = college.eligible()
    options = ["--college", college.college.code, "--format", "pesc", "--not-yet-sent"]

    out = run(*options, "--mark-sent", "--output", str(outbox / "first.zip"))
    again = run(*options, "--mark-sent", "--output", str(outbox / "second.zip"))

    assert "2 rows, 1 students" in out
    assert "0 rows, 0 students" in again
    with zipfile.ZipFile(outbox / "second.zip") as archive:
        assert archive.namelist() == [MANIFEST_NAME]
        assert json.loads(archive.read(MANIFEST_NAME))["document_count"] == 0
    # A new credit is the only row of the next run; the first stays as it was.
    second = college.eligible()
    run(*options, "--mark-sent", "--output", str(outbox / "third.zip"))
    assert set(
        TranscriptReportRow.objects.filter(job=command_job()).values_list("enrollment", flat=True)
    ) == {second.pk}
    first.refresh_from_db()
    assert first.status == "attained"  # sent is not transcribed: the registrar posts it


def test_the_command_and_the_site_share_the_sent_marks(
    client, college, outbox, django_capture_on_commit_callbacks
):
    college.eligible()
    site_job(
        client, college, django_capture_on_commit_callbacks, file_format="csv", marks_sent="on"
    )

    out = run(
        "--college", college.college.code, "--format", "csv", "--not-yet-sent",
        "--output", str(outbox / "new.csv"),
    )  # fmt: skip
    assert "0 rows" in out

    college.eligible()
    run(
        "--college", college.college.code, "--format", "csv", "--not-yet-sent", "--mark-sent",
        "--output", str(outbox / "new.csv"),
    )  # fmt: skip
    only_new = site_job(
        client, college, django_capture_on_commit_callbacks, file_format="csv", only_new="on"
    )
    assert only_new.row_count == 0


def test_without_mark_sent_nothing_is_marked(college, outbox):
    college.eligible()
    options = ["--college", college.college.code, "--format", "csv", "--not-yet-sent"]

    run(*options, "--output", str(outbox / "a.csv"))
    run(*options, "--output", str(outbox / "b.csv"))

    assert command_job().row_count == 2
    assert (outbox / "a.csv").read_bytes() == (outbox / "b.csv").read_bytes()


# --- who did it: the access log and the job --------------------------------------------------


def test_the_export_is_logged_under_sers_itself(client, college, outbox):
    enrollment = college.eligible()

    run("--college", college.college.code, "--format", "xlsx", "--output", str(outbox))

    job = command_job()
    assert (job.requested_by, job.nightly_key, job.kind) == (None, None, "transcript_credit")
    entry = job.export_log_entry
    assert entry.actor is None  # SERS itself, as for the nightly reports
    assert entry.action == AccessLogEntry.Action.EXPORT
    assert f"report job {job.pk}" in entry.what
    assert "transcript_report" in entry.what
    assert list(entry.students.values_list("student_id", flat=True)) == [enrollment.student_id]
    # The college's registrar sees it among their reports, and may download it.
    client.force_login(college.registrar)
    page = client.get(reverse("reports:report_jobs"))
    assert job.pk in {view.job.pk for view in page.context["jobs"]}
    assert b"Built by a scheduled command" in page.content
    download = client.get(reverse("reports:report_job_download", args=[job.pk]))
    assert download.status_code == 200


def test_another_colleges_registrar_does_not_see_it(client, college, year, outbox):
    college.eligible()
    other = College(year)
    run("--college", college.college.code, "--format", "csv", "--output", str(outbox))

    client.force_login(other.registrar)
    download = client.get(reverse("reports:report_job_download", args=[command_job().pk]))

    assert download.status_code == 404


def test_output_to_a_folder_takes_the_reports_file_name(college, outbox):
    college.eligible()

    out = run("--college", college.college.code, "--format", "pesc", "--output", str(outbox))

    job = command_job()
    written = outbox / job.file_name
    assert written.read_bytes() == stored(job)
    assert job.file_name.endswith(f"-job{job.pk}.zip")
    assert str(written) in out
    assert [p.name for p in outbox.iterdir()] == [job.file_name]  # no temporary file left
    assert written.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_an_existing_file_is_replaced(college, outbox):
    college.eligible()
    output = outbox / "report.csv"
    output.write_text("old")

    run("--college", college.college.code, "--format", "csv", "--output", str(output))

    assert output.read_bytes() == stored(command_job())


def test_it_prints_counts_and_never_a_students_data(college, outbox):
    enrollment = college.eligible(legal_first_name="Wrenna", legal_last_name="Quillfeather")
    student = enrollment.student

    out = run("--college", college.college.code, "--format", "csv", "--output", str(outbox))

    assert "2 rows, 1 students" in out
    for value in (
        student.legal_first_name,
        student.legal_last_name,
        student.sers_id,
        student.birth_date.isoformat(),
        student.user.email,
    ):
        assert value not in out


# --- refused: clear errors, nothing built or marked --------------------------------------------


def refused(*args: str) -> CommandError:
    before = ReportJob.objects.count()
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert ReportJob.objects.count() == before
    assert not TranscriptReportRow.objects.exists()
    return raised.value


def test_an_unknown_college(college, outbox):
    error = refused("--college", "NOPE", "--format", "csv", "--output", str(outbox))
    assert "No college has the code 'NOPE'" in str(error)
    assert error.returncode == 1


@pytest.mark.parametrize("file_format", ["xml", "pdf", ""])
def test_a_bad_format(college, outbox, file_format):
    error = refused(
        "--college", college.college.code, "--format", file_format, "--output", str(outbox)
    )
    assert "use csv, xlsx, pesc" in str(error)
    assert error.returncode == 1


def test_an_output_folder_that_does_not_exist(college, outbox):
    college.eligible()
    missing = outbox / "missing" / "report.csv"
    error = refused("--college", college.college.code, "--format", "csv", "--output", str(missing))
    assert "does not exist" in str(error)
    assert error.returncode == 1


def test_an_output_that_cannot_be_written(college, outbox, monkeypatch):
    college.eligible()
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != outbox)
    error = refused(
        "--college", college.college.code, "--format", "csv", "--not-yet-sent", "--mark-sent",
        "--output", str(outbox / "report.csv"),
    )  # fmt: skip
    assert "cannot be written" in str(error)


def test_an_output_that_is_a_folders_file(college, outbox):
    a_file = outbox / "plain"
    a_file.write_text("x")
    error = refused(
        "--college", college.college.code, "--format", "csv", "--output", str(a_file / "r.csv")
    )
    assert "is not a folder" in str(error)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--year", "2030-31"], "No school year has the code '2030-31'"),
        (["--term", "summer"], "Unknown term 'summer'"),
        (["--term", "fall"], "Choose the school year of the term."),
        (["--since", "01/11/2026"], "--since must be a day as YYYY-MM-DD"),
    ],
)
def test_bad_choices(college, outbox, options, message):
    error = refused(
        "--college", college.college.code, "--format", "csv", "--output", str(outbox), *options
    )
    assert message in str(error)
    assert error.returncode == 1


def test_a_missing_option_is_a_usage_error(college):
    with pytest.raises(CommandError, match="--output"):
        run("--college", college.college.code, "--format", "csv")


def test_a_report_that_fails_to_build_exits_3(college, outbox, monkeypatch):
    college.eligible()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("reports.exporters.write_csv", broken)
    with pytest.raises(CommandError) as raised:
        run("--college", college.college.code, "--format", "csv", "--output", str(outbox))

    assert raised.value.returncode == 3
    assert f"#{command_job().pk} failed" in str(raised.value)
    assert command_job().status == ReportJob.Status.FAILED
    assert list(outbox.iterdir()) == []
