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
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

import rustpy_xlsxwriter
from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connections
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Left, NullIf
from django.db.models.lookups import Exact, In
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

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


def write_csv(
    path, headers: Sequence[str], rows: Iterable[Sequence], *, line_end: str = "\r\n"
) -> int:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read accents right."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator=line_end)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
    return count


def sheet_name(title: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", title)[:31].strip("'") or "Sheet1"


def write_xlsx(path, headers: Sequence[str], rows: Iterable[Sequence], title: str) -> int:
    """An XLSX workbook, one sheet, rows streamed to disk as they come.

    rustpy-xlsxwriter (rust_xlsxwriter underneath, in constant-memory mode): the statewide
    year's job (2.9 million cells) takes 6 s where openpyxl's took 36 s. Every text
    is a text cell, so text that looks like a formula is never run; characters XML cannot
    hold are escaped as Excel does (_x0001_).
    """
    headers = list(headers)
    if len(set(headers)) != len(headers):
        raise ValueError(f"duplicate column headers: {headers}")
    count = 0

    def records() -> Iterator[dict]:
        nonlocal count
        for row in rows:
            count += 1
            yield dict(zip(headers, row, strict=True))
        if not count:
            yield dict.fromkeys(headers)  # no rows: the header row alone

    rustpy_xlsxwriter.write_worksheet(
        records(), str(path), sheet_name=sheet_name(title), datetime_format="yyyy-mm-dd"
    )
    return count


# --- CSV through PostgreSQL's COPY --------------------------------------------------------
#
# A statewide export is 150,000 rows: read one by one into Python and written by the csv
# module, it took 6x as long as PostgreSQL writing the same rows itself. So on PostgreSQL
# the database writes the CSV (COPY ... TO STDOUT) and SERS only adds the header; the
# cells are what write_csv writes: the same formula guard, dates as ISO, blanks for None.

# The kinds of value a column holds. TEXT: text people typed (or imported), guarded;
# LABEL: text SERS makes (codes, ids, choice labels), never empty and never a formula;
# CREDITS: a number of credits with one decimal (8.0).
TEXT, LABEL, NUMBER, DATE, CREDITS = "text", "label", "number", "date", "credits"
ONE_DECIMAL = Decimal("0.1")


def choice_label(value, choices) -> Case:
    """The label of a stored choice in the active language, worked out by the database
    (a value not among the choices stays as it is; none stays None)."""
    value = F(value) if isinstance(value, str) else value
    whens = [When(Exact(value, key), then=Value(str(label))) for key, label in choices]
    return Case(*whens, default=value, output_field=CharField())


def copy_value(expression, kind: str):
    """`expression` as write_csv writes its cell, for COPY: text with the formula guard
    (empty text as no value: COPY would quote it), dates as ISO. PostgreSQL only."""
    if isinstance(expression, str):
        expression = F(expression)
    if kind == TEXT:
        # A CASE on the first character: cheaper per cell than a regular expression.
        return Case(
            When(
                In(Left(expression, 1), list(FORMULA_PREFIXES)),
                then=Concat(Value("'"), expression, output_field=TextField()),
            ),
            default=NullIf(expression, Value(""), output_field=TextField()),
            output_field=TextField(),
        )
    if kind == CREDITS:
        return Cast(expression, DecimalField(max_digits=6, decimal_places=1))
    if kind == DATE:
        return Func(expression, Value("YYYY-MM-DD"), function="to_char", output_field=TextField())
    return expression


def can_copy(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def write_csv_by_copy(
    path, headers: Sequence[str], queryset: QuerySet, on_progress: ProgressCallback
) -> int:
    """write_csv's file, written by PostgreSQL: COPY (the queryset) TO STDOUT as CSV.

    Progress is reported once, at the end, with COPY's own row count: the connection is
    busy with the COPY until then (a statewide year takes about two seconds).
    """
    connection = connections[queryset.db]
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    connection.ensure_connection()
    write_csv(path, headers, [], line_end="\n")  # the byte-order mark and the header
    with open(path, "ab") as handle, connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                handle.write(data)
        count = cursor.rowcount
    on_progress(count)
    return count


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
        # Labels looked up once: a lazy label per row cost a translation lookup each.
        terms = {key: str(label) for key, label in Section.Term.choices}
        scales = {key: str(label) for key, label in GradeScale.choices}
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
                scales.get(r.grade_scale, r.grade_scale),
                letter,
                points,
                r.year_code,
                terms.get(r.term, r.term),
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

    def columns(self) -> list[tuple[str, object, str]]:
        """The file's columns: (header, what the database selects, kind of value).

        Labels (term, status, fee) and the agreement's credits are worked out by the
        database, so both writers (rows read one by one, or PostgreSQL's COPY) share them.
        """
        # order_by(): without it the fee's default ordering joins two tables per row.
        fee_status = (
            Fee.objects.filter(
                student_id=OuterRef("student_id"),
                consortium_id=OuterRef("section__articulation__consortium_id"),
                academic_year_id=OuterRef("section__academic_year_id"),
            )
            .order_by()
            .annotate(label=choice_label("status", Fee.Status.choices))
            .values("label")[:1]
        )
        credits = (
            Articulation.objects.filter(pk=OuterRef("section__articulation_id"))
            .order_by()
            .annotate(total=Sum("college_courses__credits"))
            .values("total")[:1]
        )
        return [
            (_("School year"), F("section__academic_year__code"), LABEL),
            (_("SERS enrollment id"), F("pk"), NUMBER),
            (_("SERS ID"), F("student__sers_id"), LABEL),
            (_("Consortium"), F("section__articulation__consortium__name"), TEXT),
            (_("College"), F("section__articulation__college__name"), TEXT),
            (_("District"), F("section__high_school__district__name"), TEXT),
            (_("High school"), F("section__high_school__name"), TEXT),
            (_("High school code"), F("section__high_school__code"), TEXT),
            (_("Career cluster"), F("section__articulation__cluster__name"), TEXT),
            (_("Articulation"), F("section__articulation__agreement_number"), TEXT),
            (_("Articulation version"), F("section__articulation__version"), NUMBER),
            (_("High-school course"), F("section__articulation__high_school_course__title"), TEXT),
            (_("CIP code"), F("section__articulation__high_school_course__cip_code"), TEXT),
            (_("Term"), choice_label("section__term", Section.Term.choices), LABEL),
            (_("Status"), choice_label("status", EnrollmentStatus.choices), LABEL),
            (_("Grade"), F("grade"), TEXT),
            (_("Credits"), Subquery(credits), CREDITS),
            (_("Fee"), Subquery(fee_status), LABEL),
            (_("Transcribed on"), F("transcribed_on"), DATE),
        ]

    def queryset(self, *, for_copy: bool = False) -> QuerySet:
        """The rows as tuples in the columns' order; `for_copy`: each value already as
        the CSV cell holds it, for PostgreSQL's COPY to write (see copy_value)."""
        columns = self.columns()
        names = [f"export_{index}" for index in range(len(columns))]
        values = {
            name: copy_value(expression, kind) if for_copy else expression
            for name, (_header, expression, kind) in zip(names, columns, strict=True)
        }
        ordering = ["pk"] if self.job.academic_year_id else ["section__academic_year_id", "pk"]
        return self.base_queryset().annotate(**values).order_by(*ordering).values_list(*names)

    def headers(self) -> list[str]:
        return [header for header, _expression, _kind in self.columns()]

    def writes_by_copy(self) -> bool:
        return self.job.file_format == ReportJob.Format.CSV and can_copy(self.base_queryset())

    def count(self) -> int:
        if self.writes_by_copy():
            return 0  # not needed: COPY reports its rows once it has written them
        return self.base_queryset().count()

    def rows(self) -> Iterator[Sequence]:
        # Credits as one decimal whatever the database returns (SQLite: 8 for 8.0).
        credits_at = [i for i, (_h, _e, kind) in enumerate(self.columns()) if kind == CREDITS]
        for values in self.queryset().iterator(chunk_size=self.chunk_size):
            row = list(values)
            for index in credits_at:
                if row[index] is not None:
                    row[index] = Decimal(row[index]).quantize(ONE_DECIMAL)
            yield row

    def write(self, path, on_progress: ProgressCallback) -> int:
        if self.job.file_format != ReportJob.Format.CSV:
            return super().write(path, on_progress)
        # Lines end in LF on every database: COPY cannot write CRLF.
        if self.writes_by_copy():
            queryset = self.queryset(for_copy=True)
            return write_csv_by_copy(path, self.headers(), queryset, on_progress)
        rows = _chunked_progress(self.rows(), on_progress, self.chunk_size)
        return write_csv(path, self.headers(), rows, line_end="\n")

    def student_ids(self) -> Iterable[int]:
        queryset = self.base_queryset().order_by()
        if can_copy(queryset):
            # One array, not a row per student: 60,000 rows read one by one took 0.5 s.
            return queryset.aggregate(ids=ArrayAgg("student_id", distinct=True))["ids"] or []
        queryset = queryset.values_list("student_id", flat=True)
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
