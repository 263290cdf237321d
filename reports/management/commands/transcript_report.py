"""Build a college's transcript-credit report into a file, for a scheduler (cron).

    python manage.py transcript_report --college COL1 --format pesc \\
        --output /srv/sers/outbox/ --not-yet-sent --mark-sent

It builds exactly what a registrar's report job builds, through the same service and
exporter (reports.services.transcript_report_build): the same rows, the same "sent"
marks, and an access-log entry with SERS itself as the actor, like the nightly reports.
The job is listed with the college's reports on the site. The options mirror the report
form: --year and --term, --since (credits attained on or after a day), --not-yet-sent
("only rows not sent before") and --mark-sent ("mark these rows as sent").

--output is a file, replaced if it exists, or an existing folder, where the file gets
the report's own name. The file is written next to its final name and moved into place,
readable by the user running the command only. The command prints counts, never a
student's data. Exit codes: 0 done (also when there was nothing to send), 1 refused (an
unknown college, year or format, bad dates, an output that cannot be written), 2 a
missing or malformed option, 3 the report failed while being built.
"""

import datetime
import os
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from enrollment.models import Section
from organisations.models import AcademicYear, College
from reports.exporters import EXPORTERS
from reports.models import ReportJob
from reports.services import transcript_report_build

FAILED = 3


def _output_target(output: str) -> tuple[Path, bool]:
    """The output path and whether it is a folder, after checking it can be written."""
    path = Path(output).expanduser()
    if path.is_dir():
        folder, is_folder = path, True
    else:
        folder, is_folder = path.parent, False
        if path.exists() and not path.is_file():
            raise CommandError(f"The output {path} exists and is not a file.")
        if path.exists() and not os.access(path, os.W_OK):
            raise CommandError(f"The output file {path} cannot be written.")
    if not folder.exists():
        raise CommandError(f"The output folder {folder} does not exist.")
    if not folder.is_dir():
        raise CommandError(f"The output folder {folder} is not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"The output folder {folder} cannot be written.")
    return path, is_folder


def _copy_into_place(job: ReportJob, target: Path) -> None:
    """Copy the job's stored file to `target` through a temporary file in the same folder,
    so a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(prefix=".sers-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, default_storage.open(job.file, "rb") as stored:
            shutil.copyfileobj(stored, out)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = "Build a college's transcript-credit report (CSV, XLSX or PESC zip) into a file."

    def add_arguments(self, parser):
        parser.add_argument("--college", required=True, help="The college's code in SERS.")
        parser.add_argument(
            "--format",
            required=True,
            dest="file_format",
            help="csv, xlsx or pesc (a zip of PESC College Transcript documents).",
        )
        parser.add_argument(
            "--output", required=True, help="The file to write, or an existing folder."
        )
        parser.add_argument("--year", help="Only this school year, e.g. 2026-27.")
        parser.add_argument(
            "--term", default="", help="Only this term of the year: year, fall or spring."
        )
        parser.add_argument(
            "--since", help="Only credits attained on or after this day (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--not-yet-sent",
            action="store_true",
            help="Leave out rows an earlier report marked as sent.",
        )
        parser.add_argument(
            "--mark-sent",
            action="store_true",
            help="Mark the rows of this report as sent, so --not-yet-sent leaves them out.",
        )

    def handle(self, *args, **options):
        college = College.objects.filter(code=options["college"].strip()).first()
        if college is None:
            raise CommandError(f"No college has the code {options['college']!r}.")
        file_format = options["file_format"].strip().lower()
        formats = EXPORTERS[ReportJob.Kind.TRANSCRIPT_CREDIT].formats
        if file_format not in formats:
            raise CommandError(
                f"Unknown format {options['file_format']!r}: use {', '.join(formats)}."
            )
        academic_year = None
        if options["year"]:
            academic_year = AcademicYear.objects.filter(code=options["year"].strip()).first()
            if academic_year is None:
                raise CommandError(
                    f"No school year has the code {options['year']!r} (e.g. 2026-27)."
                )
        term = options["term"].strip().lower()
        if term and term not in Section.Term.values:
            raise CommandError(f"Unknown term {term!r}: use {', '.join(Section.Term.values)}.")
        since = None
        if options["since"]:
            try:
                since = datetime.date.fromisoformat(options["since"].strip())
            except ValueError:
                raise CommandError(
                    f"--since must be a day as YYYY-MM-DD, not {options['since']!r}."
                ) from None
        output, is_folder = _output_target(options["output"])

        try:
            job = transcript_report_build(
                college=college,
                academic_year=academic_year,
                term=term,
                file_format=file_format,
                only_new=options["not_yet_sent"],
                marks_sent=options["mark_sent"],
                since=since,
            )
        except ValidationError as error:
            raise CommandError(" ".join(str(message) for message in error.messages)) from None
        if job.status != ReportJob.Status.DONE:
            raise CommandError(
                f"Transcript-credit report #{job.pk} failed: {job.error}", returncode=FAILED
            )
        target = output / job.file_name if is_folder else output
        try:
            _copy_into_place(job, target)
        except OSError as error:
            raise CommandError(
                f"Transcript-credit report #{job.pk} was built but could not be written to "
                f"{target}: {error.strerror or error}. Its file can be downloaded on the site."
            ) from None
        students = job.export_log_entry.student_count if job.export_log_entry else 0
        if options["verbosity"] > 0:
            self.stdout.write(
                f"Transcript-credit report #{job.pk} for {college.code}: {job.row_count} rows, "
                f"{students} students, written to {target}."
            )
