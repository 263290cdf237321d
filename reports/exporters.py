"""Exporters: each one turns a report job into rows, and writers turn rows into a file.

In the pretix style, an exporter class per kind of report knows its columns and its
query; the writers (CSV, XLSX, and for transcript-credit reports a zip of PESC College
Transcript documents) stream those rows to a file. Rows come from the database in chunks
(`.iterator(chunk_size=...)`, a server-side cursor on PostgreSQL) and go straight to
disk, so memory stays bounded whatever the size.

What goes into a transcript-credit report is in transcript_credit.py; the PESC documents
and their batch are in pesc.py.
"""

import csv
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.permissions import Access, can_see_birth_date, enrollment_scope
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatus, Fee, Section
from organisations.grades import GradeScale

from .models import ReportJob, TranscriptReportRow
from .pesc import Batch, write_transcript_zip
from .selectors.dashboard import dashboard_table, reporting_access
from .transcript_credit import (
    TRANSCRIPT_FIELDS,
    TranscriptRecord,
    grade_equivalents,
    transcript_candidates,
)

ProgressCallback = Callable[[int], None]

# A job's file: its name's extension and content type, by format.
EXTENSIONS = {
    ReportJob.Format.CSV: "csv",
    ReportJob.Format.XLSX: "xlsx",
    ReportJob.Format.PESC: "zip",
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "xml": "application/xml; charset=utf-8",  # the single XML file of reports before zips
}
# Text a spreadsheet would run as a formula (CSV injection); prefixed with a quote in CSV.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ONE_DECIMAL = Decimal("0.1")


# --- writers --------------------------------------------------------------------------


def _chunked_progress(rows: Iterable, on_progress: ProgressCallback, chunk_size: int) -> Iterator:
    """Pass rows through, reporting the count after each chunk and at the end."""
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % chunk_size == 0:
            on_progress(count)
    on_progress(count)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(path, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read accents right."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
    return count


def write_xlsx(path, headers: Sequence[str], rows: Iterable[Sequence], title: str) -> int:
    """An XLSX workbook in openpyxl's write-only mode: rows stream to disk as they come."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        count += 1
    workbook.save(path)
    return count


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value  # openpyxl writes it as text through one reused cell: cheap
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # text that looks like a formula stays text
    return cell


# --- exporters ------------------------------------------------------------------------


class BaseExporter:
    """One kind of report. Subclasses give the columns, the rows and the students."""

    kind: str = ""
    formats: tuple[str, ...] = (ReportJob.Format.CSV, ReportJob.Format.XLSX)

    def __init__(self, job: ReportJob, access: Access | None):
        self.job = job
        self.access = access
        self.chunk_size = settings.SERS_REPORT_CHUNK_SIZE

    def file_stem(self) -> str:
        raise NotImplementedError

    def sheet_title(self) -> str:
        return self.job.get_kind_display()

    def file_name(self) -> str:
        return f"{self.file_stem()}-job{self.job.pk}.{EXTENSIONS[self.job.file_format]}"

    def prepare(self) -> None:
        """Work that must happen once per job before the file is written."""

    def headers(self) -> list[str]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def rows(self) -> Iterator[Sequence]:
        raise NotImplementedError

    def student_ids(self) -> Iterable[int] | None:
        """The students whose records are in the file (None: no student records)."""
        return None

    def write(self, path, on_progress: ProgressCallback) -> int:
        """Write the file at `path`; returns the number of data rows."""
        rows = _chunked_progress(self.rows(), on_progress, self.chunk_size)
        if self.job.file_format == ReportJob.Format.XLSX:
            return write_xlsx(path, self.headers(), rows, self.sheet_title())
        if self.job.file_format == ReportJob.Format.CSV:
            return write_csv(path, self.headers(), rows)
        raise ValueError(f"{self.kind} cannot be written as {self.job.file_format}")


class TranscriptCreditExporter(BaseExporter):
    """Everything a registrar needs to post the credit: one row per college course."""

    kind = ReportJob.Kind.TRANSCRIPT_CREDIT
    formats = (ReportJob.Format.CSV, ReportJob.Format.XLSX, ReportJob.Format.PESC)

    def file_stem(self) -> str:
        job = self.job
        parts = ["transcript-credit", job.college.code]
        parts.append(job.academic_year.code if job.academic_year_id else "all-years")
        if job.term:
            parts.append(job.term)
        return slugify("-".join(parts))

    def sheet_title(self) -> str:
        return _("Transcript credit")

    def prepare(self) -> None:
        """Store the report's row set once: the rows a re-run or a retry reads back."""
        job = self.job
        if job.rows_saved:
            return
        if job.source_job_id:
            source = TranscriptReportRow.objects.filter(job_id=job.source_job_id)
            enrollment_ids = source.values_list("enrollment_id", flat=True)
        else:
            enrollment_ids = transcript_candidates(job).values_list("pk", flat=True)
        batch: list[TranscriptReportRow] = []
        for enrollment_id in enrollment_ids.order_by().iterator(chunk_size=self.chunk_size):
            batch.append(TranscriptReportRow(job_id=job.pk, enrollment_id=enrollment_id))
            if len(batch) >= self.chunk_size:
                TranscriptReportRow.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        TranscriptReportRow.objects.bulk_create(batch, ignore_conflicts=True)

    def queryset(self) -> QuerySet:
        """The report's rows, in the order registrars read them (by student name)."""
        return (
            Enrollment.objects.filter(transcript_report_rows__job_id=self.job.pk)
            .order_by(
                "student__legal_last_name",
                "student__legal_first_name",
                "student__sers_id",
                "section__academic_year__start_date",
                "section__term",
                "pk",
                "section__articulation__college_courses__prefix",
                "section__articulation__college_courses__number",
            )
            .values_list(*TRANSCRIPT_FIELDS)
        )

    def count(self) -> int:
        return self.queryset().count()

    def shows_birth_date(self) -> bool:
        """Registrars post with the birth date; anyone else (state staff) gets it blank."""
        access = self.access
        if access is None:  # SERS itself: the nightly report for the college's registrars
            return True
        return self.job.college_id in access.registrar_college_ids and can_see_birth_date(access)

    def records(self) -> Iterator[TranscriptRecord]:
        shows_birth_date = self.shows_birth_date()
        for values in self.queryset().iterator(chunk_size=self.chunk_size):
            record = TranscriptRecord(*values)
            yield record if shows_birth_date else record._replace(birth_date=None)

    def headers(self) -> list[str]:
        return [
            _("SERS ID"),
            _("Legal last name"),
            _("Legal first name"),
            _("Legal middle name"),
            _("Birth date"),
            _("College student ID"),
            _("Course prefix"),
            _("Course number"),
            _("Course title"),
            _("Credits"),
            _("Grade as entered"),
            _("Grade scale"),
            _("Letter grade"),
            _("Grade points"),
            _("School year"),
            _("Term"),
            _("High school"),
            _("High school code"),
            _("Teacher"),
            _("Articulation"),
            _("Articulation version"),
            _("Articulation id"),
            _("SERS enrollment id"),
        ]

    def rows(self) -> Iterator[Sequence]:
        terms = dict(Section.Term.choices)
        scales = dict(GradeScale.choices)
        for r in self.records():
            letter, points = grade_equivalents(r.grade_scale, r.grade)
            yield [
                r.sers_id,
                r.last_name,
                r.first_name,
                r.middle_name,
                r.birth_date,
                r.college_student_id,
                r.course_prefix,
                r.course_number,
                r.course_title,
                r.credits,
                r.grade,
                str(scales.get(r.grade_scale, r.grade_scale)),
                letter,
                points,
                r.year_code,
                str(terms.get(r.term, r.term)),
                r.high_school,
                r.high_school_code,
                f"{r.teacher_first_name} {r.teacher_last_name}".strip(),
                r.agreement_number,
                r.articulation_version,
                r.articulation_id,
                r.enrollment_id,
            ]

    def student_ids(self) -> Iterable[int]:
        rows = TranscriptReportRow.objects.filter(job_id=self.job.pk).order_by()
        return rows.values_list("enrollment__student_id", flat=True).distinct().iterator()

    def write(self, path, on_progress: ProgressCallback) -> int:
        if self.job.file_format == ReportJob.Format.PESC:
            records = _chunked_progress(self.records(), on_progress, self.chunk_size)
            return write_transcript_zip(path, records, batch=self.batch())
        return super().write(path, on_progress)

    def batch(self) -> Batch:
        job = self.job
        return Batch(
            job_id=job.pk,
            college_code=job.college.code,
            college_name=job.college.name,
            created=timezone.now(),
            reissue=job.source_job_id is not None,
        )


class EnrollmentsExporter(BaseExporter):
    """Every enrollment of a school year in the requester's reporting scope.

    For state and regional reporting: SERS ids but no names or birth dates.
    """

    kind = ReportJob.Kind.ENROLLMENTS

    def file_stem(self) -> str:
        year = self.job.academic_year.code if self.job.academic_year_id else "all-years"
        return slugify(f"enrollments-{year}")

    def sheet_title(self) -> str:
        return _("Enrollments")

    def base_queryset(self) -> QuerySet[Enrollment]:
        queryset = Enrollment.objects.filter(enrollment_scope(reporting_access(self.access)))
        if self.job.academic_year_id:
            queryset = queryset.filter(section__academic_year_id=self.job.academic_year_id)
        return queryset

    def queryset(self) -> QuerySet:
        # order_by(): without it the fee's default ordering joins two tables per row.
        fee_status = (
            Fee.objects.filter(
                student_id=OuterRef("student_id"),
                consortium_id=OuterRef("section__articulation__consortium_id"),
                academic_year_id=OuterRef("section__academic_year_id"),
            )
            .order_by()
            .values("status")[:1]
        )
        ordering = ["pk"] if self.job.academic_year_id else ["section__academic_year_id", "pk"]
        return (
            self.base_queryset()
            .annotate(fee_status=Subquery(fee_status))
            .order_by(*ordering)
            .values_list(
                "section__academic_year__code",
                "pk",
                "student__sers_id",
                "section__articulation__consortium__name",
                "section__articulation__college__name",
                "section__high_school__district__name",
                "section__high_school__name",
                "section__high_school__code",
                "section__articulation__cluster__name",
                "section__articulation__agreement_number",
                "section__articulation__version",
                "section__articulation__high_school_course__title",
                "section__articulation__high_school_course__cip_code",
                "section__term",
                "status",
                "grade",
                "section__articulation_id",  # becomes the credits of the agreement
                "fee_status",
                "transcribed_on",
            )
        )

    def articulation_credits(self) -> dict[int, Decimal]:
        """Credits per agreement, looked up in memory: one row per agreement, not per
        enrollment, so it stays small whatever the number of enrollments."""
        return {
            pk: Decimal(total).quantize(ONE_DECIMAL)
            for pk, total in Articulation.objects.filter(
                pk__in=self.base_queryset().values("section__articulation_id")
            )
            .annotate(total=Sum("college_courses__credits"))
            .values_list("pk", "total")
            if total is not None
        }

    def headers(self) -> list[str]:
        return [
            _("School year"),
            _("SERS enrollment id"),
            _("SERS ID"),
            _("Consortium"),
            _("College"),
            _("District"),
            _("High school"),
            _("High school code"),
            _("Career cluster"),
            _("Articulation"),
            _("Articulation version"),
            _("High-school course"),
            _("CIP code"),
            _("Term"),
            _("Status"),
            _("Grade"),
            _("Credits"),
            _("Fee"),
            _("Transcribed on"),
        ]

    def count(self) -> int:
        return self.base_queryset().count()

    def rows(self) -> Iterator[Sequence]:
        terms = dict(Section.Term.choices)
        statuses = dict(EnrollmentStatus.choices)
        fees = dict(Fee.Status.choices)
        credits = self.articulation_credits()
        for values in self.queryset().iterator(chunk_size=self.chunk_size):
            row = list(values)
            row[13] = str(terms.get(row[13], row[13]))
            row[14] = str(statuses.get(row[14], row[14]))
            row[16] = credits.get(row[16])
            row[17] = str(fees.get(row[17], "")) if row[17] else ""
            yield row

    def student_ids(self) -> Iterable[int]:
        queryset = self.base_queryset().order_by().values_list("student_id", flat=True)
        return queryset.distinct().iterator(chunk_size=self.chunk_size)


class DashboardTableExporter(BaseExporter):
    """One table of the reports dashboard, with the same small-cell suppression."""

    kind = ReportJob.Kind.DASHBOARD_TABLE

    def _table(self):
        if not hasattr(self, "_cached_table"):
            params = self.job.parameters
            self._cached_table = dashboard_table(
                access=self.access,
                table=params.get("table", ""),
                academic_year_id=self.job.academic_year_id,
                dimension=params.get("dimension", ""),
            )
        return self._cached_table

    def file_stem(self) -> str:
        params = self.job.parameters
        year = self.job.academic_year.code if self.job.academic_year_id else "all-years"
        parts = ["sers", params.get("table", ""), params.get("dimension", ""), year]
        return slugify("-".join(p for p in parts if p))

    def sheet_title(self) -> str:
        return str(self._table().title)

    def headers(self) -> list[str]:
        return self._table().export_headers()

    def count(self) -> int:
        return len(self._table().export_rows())

    def rows(self) -> Iterator[Sequence]:
        yield from self._table().export_rows()


EXPORTERS: dict[str, type[BaseExporter]] = {
    exporter.kind: exporter
    for exporter in (TranscriptCreditExporter, EnrollmentsExporter, DashboardTableExporter)
}


def exporter_for(job: ReportJob, access: Access | None) -> BaseExporter:
    return EXPORTERS[job.kind](job, access)


def content_type(file_name: str) -> str:
    """The content type of a job's file, by its name (files keep their format's name)."""
    extension = file_name.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(extension, "application/octet-stream")
