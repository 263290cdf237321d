"""CSV uploads from staff: a class roster with grades, fee payments, posted credits.

Every upload is checked completely before anything changes, and applied in one
transaction: all of it or none of it. Each bad line is named with its line number
(the header is line 1). Rows are matched to students by SERS id, or by legal first
name, last name and birth date; a row that matches no one or more than one person is
listed, never guessed. Files may be UTF-8 (with or without a byte-order mark) or
Windows-1252 (what spreadsheet programs on Windows save), comma-, semicolon- or
tab-separated, up to MAX_UPLOAD_BYTES (checked by sers.uploads.check_upload).

The rows, what an upload reports, and matching a row to its student: upload_rows.py.
"""

import csv
import io
import logging
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import Access
from sers.uploads import check_upload

from . import rules
from .models import Enrollment, EnrollmentStatus, Fee, Section
from .rules import eligible_for_transcription_q, fee_settled_q
from .selectors import consortium, registrar
from .services import fees as fees_services
from .services import grading, rosters, transcription
from .upload_rows import (
    ImportResult,
    LineProblem,
    Row,
    StudentMatcher,
    duplicate_check,
    parse_date,
)

logger = logging.getLogger(__name__)

S = EnrollmentStatus
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000

# Column names as they appear in exports, normalized (lower case, words joined by "_").
HEADER_ALIASES: dict[str, str] = {
    "sers_id": "sers_id",
    "sersid": "sers_id",
    "sers": "sers_id",
    "sers_number": "sers_id",
    "first_name": "first_name",
    "legal_first_name": "first_name",
    "first": "first_name",
    "given_name": "first_name",
    "middle_name": "middle_name",
    "legal_middle_name": "middle_name",
    "last_name": "last_name",
    "legal_last_name": "last_name",
    "last": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "birth_date": "birth_date",
    "birthdate": "birth_date",
    "date_of_birth": "birth_date",
    "dob": "birth_date",
    "grade": "grade",
    "final_grade": "grade",
    "mark": "grade",
    "course": "course",
    "college_course": "course",
    "course_code": "course",
    "college_student_id": "college_student_id",
    "college_id": "college_student_id",
    "ctclink_id": "college_student_id",
    "emplid": "college_student_id",
    "posted_on": "posted_on",
    "posting_date": "posted_on",
    "date_posted": "posted_on",
    "transcribed_on": "posted_on",
    "status": "status",
    "amount": "paid_amount",
    "paid_amount": "paid_amount",
    "paid_on": "paid_on",
    "payment_date": "paid_on",
    "date_paid": "paid_on",
    "receipt": "receipt_number",
    "receipt_number": "receipt_number",
    "receipt_no": "receipt_number",
    "waiver_reason": "waiver_reason",
    "reason": "waiver_reason",
}


class UploadError(ValidationError):
    """The file as a whole cannot be read (size, encoding, format, missing columns)."""


# --- reading the file ---------------------------------------------------------------------------


def read_rows(upload, *, required: list[set[str]]) -> list[Row]:
    """The non-empty rows of an uploaded CSV or Excel file, with normalized column names.

    `required` lists alternatives: each set is a group of columns that must all be
    there, and at least one group must be (e.g. SERS id, or names and birth date).
    """
    # Size, type, encoding (UTF-8 with or without BOM, Windows-1252) and "is it really
    # what it says" are checked the same way for every upload in SERS.
    checked = check_upload(upload, kinds=("csv", "xlsx"), max_bytes=MAX_UPLOAD_BYTES)
    lines = _xlsx_lines(checked) if checked.kind == "xlsx" else _csv_lines(checked.text)
    try:
        _number, header = next(lines)
    except (StopIteration, csv.Error):
        raise UploadError(_("The file has no header line.")) from None
    columns = [HEADER_ALIASES.get(_column_key(name), _column_key(name)) for name in header]
    if not any(all(c in columns for c in group) for group in required):
        wanted = " " + _("or") + " "
        raise UploadError(
            _("The first line must name the columns: %(columns)s.")
            % {"columns": wanted.join(", ".join(sorted(group)) for group in required)}
        )
    rows: list[Row] = []
    for number, values in lines:
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise UploadError(
                _("The file has more than %(n)s rows. Split it into smaller files.")
                % {"n": MAX_ROWS}
            )
        rows.append(Row(number, dict(zip(columns, values, strict=False))))
    if not rows:
        raise UploadError(_("The file has a header but no rows."))
    return rows


def _csv_lines(text: str):
    """(line number, values) for each CSV record; the delimiter is sniffed."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096].splitlines()[0], delimiters=",;\t")
    except (csv.Error, IndexError):
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for values in reader:
            yield reader.line_num, values
    except csv.Error as error:
        raise UploadError(
            _("Line %(line)s cannot be read as CSV: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from None


def _xlsx_lines(checked):
    """(row number, values) for each row of the workbook's first sheet."""
    yield from enumerate(checked.xlsx_rows(), start=1)


def _column_key(name: str) -> str:
    return "_".join(re.sub(r"[^0-9a-z]+", " ", name.strip().lower().lstrip("\ufeff")).split())


# --- a teacher's roster and grades --------------------------------------------------------------


def roster_import(*, actor, section: Section, upload, today: date | None = None) -> ImportResult:
    """A class list from the school's student information system: students on it who are
    registered get confirmed; a grade in the row is entered too. Students must already be
    registered in SERS for the class (a row for anyone else is a problem, not a guess)."""
    rows = read_rows(upload, required=[{"sers_id"}, {"first_name", "last_name", "birth_date"}])
    result = ImportResult(rows=len(rows))
    enrollments = (
        Enrollment.objects.filter(section=section)
        .exclude(status__in=(S.WITHDRAWN, S.REMOVED))
        .select_related("student")
    )
    by_student = {e.student_id: e for e in enrollments}
    matcher = StudentMatcher([e.student for e in by_student.values()])
    matcher.load_merged({re.sub(r"\D", "", r.get("sers_id")) for r in rows if r.get("sers_id")})
    confirm: list[int] = []
    grades: dict[int, str] = {}
    seen: dict[int, int] = {}
    for row in rows:
        match = matcher.match(row)
        if isinstance(match, LineProblem):
            if match.code == "unmatched":
                match.message += " " + _(
                    "They must register for this class in SERS first, or remove the line."
                )
            result.problems.append(match)
            continue
        if duplicate_check(seen, match.pk, row, result):
            continue
        enrollment = by_student[match.pk]
        raw = row.get("grade")
        if raw:
            checked = grading.grade_check(articulation=section.articulation, raw=raw)
            if checked.error:
                result.problems.append(LineProblem(row.line, checked.error))
                continue
            if enrollment.status not in rules.GRADABLE_STATUSES:
                result.problems.append(
                    LineProblem(
                        row.line,
                        _("%(sers)s is %(status)s: the grade cannot change here.")
                        % {"sers": match.sers_id, "status": S(enrollment.status).label.lower()},
                    )
                )
                continue
            if not (enrollment.status == S.GRADED and enrollment.grade == checked.grade):
                grades[enrollment.pk] = checked.grade
        elif enrollment.status == S.REGISTERED:
            confirm.append(enrollment.pk)
        else:
            result.skipped.append(
                LineProblem(
                    row.line,
                    _("%(sers)s: already %(status)s.")
                    % {"sers": match.sers_id, "status": S(enrollment.status).label.lower()},
                )
            )
    if result.problems:
        return result
    with transaction.atomic():
        if confirm:
            rosters.roster_confirm(actor=actor, section_id=section.pk, enrollment_ids=confirm)
        if grades:
            grading.grades_save(actor=actor, section_id=section.pk, grades=grades, today=today)
    result.applied = len(confirm) + len(grades)
    logger.info("roster upload: section_id=%s applied=%s", section.pk, result.applied)
    return result


# --- consortium fees ----------------------------------------------------------------------------


def fee_import(
    *,
    actor,
    access: Access,
    academic_year,
    upload,
    default_status: str,
    default_paid_on: date | None,
    default_receipt_number: str = "",
    default_waiver_reason: str = "",
    today: date | None = None,
) -> ImportResult:
    """Payments or waivers for many students of a school year (CSV of SERS ids, with
    optional status, amount, paid_on, receipt_number and waiver_reason columns)."""
    rows = read_rows(upload, required=[{"sers_id"}, {"first_name", "last_name", "birth_date"}])
    result = ImportResult(rows=len(rows))
    fees = list(
        consortium.consortium_fees(access=access)
        .filter(academic_year=academic_year)
        .select_related("student")
    )
    by_student: dict[int, list[Fee]] = {}
    for fee in fees:
        by_student.setdefault(fee.student_id, []).append(fee)
    matcher = StudentMatcher([fees_of[0].student for fees_of in by_student.values()])
    matcher.load_merged({re.sub(r"\D", "", r.get("sers_id")) for r in rows if r.get("sers_id")})
    planned: list[tuple[Row, dict]] = []
    seen: dict[int, int] = {}
    for row in rows:
        match = matcher.match(row)
        if isinstance(match, LineProblem):
            if match.code == "unmatched":
                match.message += " " + _("(No fee of this school year in your consortium.)")
            result.problems.append(match)
            continue
        if duplicate_check(seen, match.pk, row, result):
            continue
        student_fees = by_student[match.pk]
        if len(student_fees) > 1:
            result.problems.append(
                LineProblem(
                    row.line,
                    _("%(sers)s has fees with several consortia: record this one on its page.")
                    % {"sers": match.sers_id},
                )
            )
            continue
        status = (row.get("status") or default_status).lower()
        values = {"fee_id": student_fees[0].pk, "status": status}
        try:
            if status == Fee.Status.PAID:
                raw_amount = row.get("paid_amount").lstrip("$")
                values["paid_amount"] = Decimal(raw_amount) if raw_amount else None
                raw_date = row.get("paid_on")
                values["paid_on"] = parse_date(raw_date) if raw_date else default_paid_on
                values["receipt_number"] = row.get("receipt_number") or default_receipt_number
            elif status == Fee.Status.WAIVED:
                values["waiver_reason"] = row.get("waiver_reason") or default_waiver_reason
            else:
                raise ValueError(_("Status must be paid or waived, not “%(s)s”.") % {"s": status})
        except (InvalidOperation, ValueError) as error:
            message = (
                str(error) if isinstance(error, ValueError) else _("The amount is not a number.")
            )
            result.problems.append(LineProblem(row.line, message))
            continue
        planned.append((row, values))
    if result.problems:
        return result
    # The fee service's own rules decide each row; any refusal undoes the whole file.
    with transaction.atomic():
        for row, values in planned:
            try:
                with transaction.atomic():
                    before = Fee.objects.get(pk=values["fee_id"]).updated_at
                    fee = fees_services.fee_record(actor=actor, today=today, **values)
            except ValidationError as error:
                result.problems.append(LineProblem(row.line, " ".join(error.messages)))
                continue
            if fee.updated_at == before:
                result.skipped.append(LineProblem(row.line, _("Already recorded.")))
            else:
                result.applied += 1
        if result.problems:
            transaction.set_rollback(True)
            result.applied = 0
            result.skipped = []
    logger.info("fee upload: applied=%s problems=%s", result.applied, len(result.problems))
    return result


# --- a college's posted credits -----------------------------------------------------------------


def _course_key(code: str) -> str:
    return re.sub(r"[^0-9A-Z&]", "", code.upper())


def posted_credits_import(
    *,
    actor,
    access: Access,
    upload,
    default_posted_on: date | None,
    today: date | None = None,
) -> ImportResult:
    """The college's file of posted credits: SERS id (or legal name and birth date),
    college course code, college student id and, optionally, the posting date. Matched
    rows are marked transcribed; credits already transcribed are skipped."""

    rows = read_rows(
        upload,
        required=[
            {"sers_id", "course", "college_student_id"},
            {"first_name", "last_name", "birth_date", "course", "college_student_id"},
            # SERS's own transcript-credit report, uploaded back with the ids filled in.
            {"sers_id", "course_prefix", "course_number", "college_student_id"},
        ],
    )
    today = today or timezone.localdate()
    result = ImportResult(rows=len(rows))
    enrollments = list(
        registrar.registrar_enrollments(access=access)
        .filter(status__in=(S.ATTAINED, S.TRANSCRIBED))
        .annotate(
            eligible=ExpressionWrapper(eligible_for_transcription_q(), output_field=BooleanField()),
            fee_settled=ExpressionWrapper(fee_settled_q(), output_field=BooleanField()),
        )
        .select_related("student__user", "section__academic_year", "section__high_school")
        .prefetch_related("section__articulation__college_courses")
    )
    by_student: dict[int, list[Enrollment]] = {}
    for enrollment in enrollments:
        by_student.setdefault(enrollment.student_id, []).append(enrollment)
    matcher = StudentMatcher([items[0].student for items in by_student.values()])
    matcher.load_merged({re.sub(r"\D", "", r.get("sers_id")) for r in rows if r.get("sers_id")})
    planned: dict[date, dict[int, str]] = {}
    seen: dict[int, int] = {}
    for row in rows:
        match = matcher.match(row)
        if isinstance(match, LineProblem):
            if match.code == "unmatched":
                match.message += " " + _("(No attained credit at your college.)")
            result.problems.append(match)
            continue
        course = _course_key(
            row.get("course") or f"{row.get('course_prefix')} {row.get('course_number')}"
        )
        college_student_id = row.get("college_student_id")
        if not course or not college_student_id:
            result.problems.append(
                LineProblem(row.line, _("Give the college course and the college student id."))
            )
            continue
        candidates = [
            e
            for e in by_student[match.pk]
            if course in {_course_key(c.code) for c in e.section.articulation.college_courses.all()}
        ]
        open_ = [e for e in candidates if e.status == S.ATTAINED]
        if not candidates:
            result.problems.append(
                LineProblem(
                    row.line,
                    _("%(sers)s has no attained credit for %(course)s at your college.")
                    % {"sers": match.sers_id, "course": row.get("course")},
                )
            )
            continue
        if not open_:
            result.skipped.append(
                LineProblem(
                    row.line,
                    _("%(sers)s %(course)s: already transcribed.")
                    % {"sers": match.sers_id, "course": row.get("course")},
                )
            )
            continue
        if len(open_) > 1:
            result.problems.append(
                LineProblem(
                    row.line,
                    _(
                        "%(sers)s has %(course)s in several school years (%(years)s): mark "
                        "these in the queue instead."
                    )
                    % {
                        "sers": match.sers_id,
                        "course": row.get("course"),
                        "years": ", ".join(e.section.academic_year.code for e in open_),
                    },
                )
            )
            continue
        enrollment = open_[0]
        if duplicate_check(seen, enrollment.pk, row, result):
            continue
        if not enrollment.eligible:
            reasons = registrar.transcription_blockers(enrollment) or [_("not ready to transcribe")]
            result.problems.append(
                LineProblem(
                    row.line,
                    _("%(sers)s %(course)s is not ready: %(reasons)s.")
                    % {
                        "sers": match.sers_id,
                        "course": row.get("course"),
                        "reasons": ", ".join(reasons).lower(),
                    },
                )
            )
            continue
        raw_date = row.get("posted_on")
        try:
            posted_on = parse_date(raw_date) if raw_date else default_posted_on
        except ValueError as error:
            result.problems.append(LineProblem(row.line, str(error)))
            continue
        if posted_on is None:
            result.problems.append(
                LineProblem(row.line, _("Give the posting date (in the file or on the form)."))
            )
            continue
        if posted_on > today:
            result.problems.append(
                LineProblem(row.line, _("The posting date cannot be in the future."))
            )
            continue
        planned.setdefault(posted_on, {})[enrollment.pk] = college_student_id
    if result.problems:
        return result
    with transaction.atomic():
        for posted_on, items in sorted(planned.items()):
            result.applied += transcription.enrollments_transcribe(
                actor=actor, college_student_ids=items, transcribed_on=posted_on, today=today
            )
    logger.info("posted credits upload: applied=%s", result.applied)
    return result
