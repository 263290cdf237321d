"""CSV uploads from staff: a class roster with grades, fee payments, posted credits.

Every upload is checked completely before anything changes, and applied in one
transaction: all of it or none of it. Every problem of every line is named with its line
number (the header is line 1) and, for a cell, its column. Rows are matched to students
by SERS id, or by legal first name, last name and birth date; a row that matches no one
or more than one person is listed, never guessed. The file is read by sers.uploads (the
reader of every upload: UTF-8 with or without a byte-order mark or Windows-1252;
comma-, semicolon- or tab-separated; blank lines before the header; columns it does not
use ignored, with a notice), up to MAX_UPLOAD_BYTES.

The columns, what an upload reports, and matching a row to its student: upload_rows.py.
"""

import logging
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import Access
from sers.uploads import Table, check_upload, read_table

from . import rules
from .models import Enrollment, EnrollmentStatus, Fee, Section, StudentProfile
from .rules import eligible_for_transcription_q, fee_settled_q
from .selectors import consortium, registrar
from .services import fees as fees_services
from .services import grading, rosters, transcription
from .upload_rows import (
    FEE_FIELDS,
    IDENTITY_COLUMNS,
    IDENTITY_REQUIRED,
    POSTED_CREDIT_FIELDS,
    ROSTER_FIELDS,
    ImportResult,
    LineProblem,
    Row,
    StudentMatcher,
    duplicate_check,
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


# --- reading the file ---------------------------------------------------------------------------


def read_rows(upload, *, fields: dict, required: list[set[str]]) -> tuple[Table, ImportResult]:
    """The rows of an uploaded CSV or Excel file, each cell cleaned by its column's field
    (each row keeps its cells' problems), and the upload's result, which starts with the
    file's notices.

    `required` lists alternatives: each set is a group of columns that must all be
    there, and at least one group must be (e.g. SERS id, or names and birth date).
    Raises UploadRefused (a ValidationError) when the file as a whole cannot be used.
    """
    checked = check_upload(upload, kinds=("csv", "xlsx"), max_bytes=MAX_UPLOAD_BYTES)
    table = read_table(
        checked, fields=fields, required=required, aliases=HEADER_ALIASES, max_rows=MAX_ROWS
    )
    result = ImportResult(rows=len(table.rows), notices=table.notices)
    return table, result


def _cell_problems(row: Row) -> list[LineProblem]:
    return [LineProblem(row.line, str(problem)) for problem in row.problems]


def _match(matcher: StudentMatcher, row: Row, unmatched_hint: str):
    """The row's student, a LineProblem, or None when the identity cells were refused (the
    cells' own problems say why)."""
    if not row.ok(*IDENTITY_COLUMNS):
        return None
    match = matcher.match(row)
    if isinstance(match, LineProblem) and match.code == "unmatched":
        match.message += " " + unmatched_hint
    return match


def _sers_ids(table: Table) -> set[str]:
    return {re.sub(r"\D", "", r.get("sers_id")) for r in table.rows if r.get("sers_id")}


def _finish(result: ImportResult) -> ImportResult:
    result.problems.sort(key=lambda problem: problem.line)
    return result


# --- a teacher's roster and grades --------------------------------------------------------------


def roster_import(*, actor, section: Section, upload, today: date | None = None) -> ImportResult:
    """A class list from the school's student information system: students on it who are
    registered get confirmed; a grade in the row is entered too. Students must already be
    registered in SERS for the class (a row for anyone else is a problem, not a guess)."""
    table, result = read_rows(upload, fields=ROSTER_FIELDS, required=IDENTITY_REQUIRED)
    enrollments = (
        Enrollment.objects.filter(section=section)
        .exclude(status__in=(S.WITHDRAWN, S.REMOVED))
        .select_related("student")
    )
    by_student = {e.student_id: e for e in enrollments}
    matcher = StudentMatcher([e.student for e in by_student.values()])
    matcher.load_merged(_sers_ids(table))
    confirm: list[int] = []
    grades: dict[int, str] = {}
    seen: dict[int, int] = {}
    for row in table.rows:
        problems = _cell_problems(row)
        match = _match(
            matcher,
            row,
            _("They must register for this class in SERS first, or remove the line."),
        )
        if isinstance(match, LineProblem):
            problems.append(match)
        raw = row.get("grade")
        grade = None
        if raw:
            checked = grading.grade_check(articulation=section.articulation, raw=raw)
            if checked.error:
                problems.append(LineProblem(row.line, checked.error))
            grade = checked.grade
        enrollment = None
        if isinstance(match, StudentProfile):
            if duplicate_check(seen, match.pk, row, result):
                match = None
            else:
                enrollment = by_student[match.pk]
        if enrollment is not None and raw and enrollment.status not in rules.GRADABLE_STATUSES:
            problems.append(
                LineProblem(
                    row.line,
                    _("%(sers)s is %(status)s: the grade cannot change here.")
                    % {"sers": match.sers_id, "status": S(enrollment.status).label.lower()},
                )
            )
        result.problems += problems
        if problems or enrollment is None:
            continue
        if raw:
            if not (enrollment.status == S.GRADED and enrollment.grade == grade):
                grades[enrollment.pk] = grade
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
        return _finish(result)
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
    optional status, amount, paid_on, receipt_number, waiver_reason and note columns)."""
    table, result = read_rows(upload, fields=FEE_FIELDS, required=IDENTITY_REQUIRED)
    fees = list(
        consortium.consortium_fees(access=access)
        .filter(academic_year=academic_year)
        .select_related("student")
    )
    by_student: dict[int, list[Fee]] = {}
    for fee in fees:
        by_student.setdefault(fee.student_id, []).append(fee)
    matcher = StudentMatcher([fees_of[0].student for fees_of in by_student.values()])
    matcher.load_merged(_sers_ids(table))
    planned: list[tuple[Row, dict]] = []
    seen: dict[int, int] = {}
    for row in table.rows:
        problems = _cell_problems(row)
        match = _match(matcher, row, _("(No fee of this school year in your consortium.)"))
        student_fees: list[Fee] = []
        if isinstance(match, LineProblem):
            problems.append(match)
        elif match is not None and not duplicate_check(seen, match.pk, row, result):
            student_fees = by_student[match.pk]
            if len(student_fees) > 1:
                problems.append(
                    LineProblem(
                        row.line,
                        _("%(sers)s has fees with several consortia: record this one on its page.")
                        % {"sers": match.sers_id},
                    )
                )
        status = (row.get("status") or default_status).lower()
        values = {"status": status, "note": row.get("note")}
        if status == Fee.Status.PAID:
            values["paid_amount"] = row.values.get("paid_amount")
            values["paid_on"] = row.values.get("paid_on") or default_paid_on
            values["receipt_number"] = row.get("receipt_number") or default_receipt_number
        elif status == Fee.Status.WAIVED:
            values["waiver_reason"] = row.get("waiver_reason") or default_waiver_reason
        elif row.ok("status"):
            problems.append(
                LineProblem(
                    row.line, _("Status must be paid or waived, not “%(s)s”.") % {"s": status}
                )
            )
        result.problems += problems
        if problems or len(student_fees) != 1:
            continue
        planned.append((row, {"fee_id": student_fees[0].pk, **values}))
    if result.problems:
        return _finish(result)
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

    table, result = read_rows(
        upload,
        fields=POSTED_CREDIT_FIELDS,
        required=[
            {"sers_id", "course", "college_student_id"},
            {"first_name", "last_name", "birth_date", "course", "college_student_id"},
            # SERS's own transcript-credit report, uploaded back with the ids filled in.
            {"sers_id", "course_prefix", "course_number", "college_student_id"},
        ],
    )
    today = today or timezone.localdate()
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
    matcher.load_merged(_sers_ids(table))
    planned: dict[date, dict[int, str]] = {}
    seen: dict[int, int] = {}
    for row in table.rows:
        problems = _cell_problems(row)
        match = _match(matcher, row, _("(No attained credit at your college.)"))
        if isinstance(match, LineProblem):
            problems.append(match)
        course_name = row.get("course") or f"{row.get('course_prefix')} {row.get('course_number')}"
        course = _course_key(course_name)
        college_student_id = row.get("college_student_id")
        columns_ok = row.ok("course", "course_prefix", "course_number", "college_student_id")
        if columns_ok and (not course or not college_student_id):
            problems.append(
                LineProblem(row.line, _("Give the college course and the college student id."))
            )
        posted_on = row.values.get("posted_on") or default_posted_on
        if row.ok("posted_on") and posted_on is None:
            problems.append(
                LineProblem(row.line, _("Give the posting date (in the file or on the form)."))
            )
        elif posted_on is not None and posted_on > today:
            problems.append(LineProblem(row.line, _("The posting date cannot be in the future.")))
        if problems or not isinstance(match, StudentProfile):
            result.problems += problems
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
                    % {"sers": match.sers_id, "course": course_name},
                )
            )
            continue
        if not open_:
            result.skipped.append(
                LineProblem(
                    row.line,
                    _("%(sers)s %(course)s: already transcribed.")
                    % {"sers": match.sers_id, "course": course_name},
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
                        "course": course_name,
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
                        "course": course_name,
                        "reasons": ", ".join(reasons).lower(),
                    },
                )
            )
            continue
        planned.setdefault(posted_on, {})[enrollment.pk] = college_student_id
    if result.problems:
        return _finish(result)
    with transaction.atomic():
        for posted_on, items in sorted(planned.items()):
            result.applied += transcription.enrollments_transcribe(
                actor=actor, college_student_ids=items, transcribed_on=posted_on, today=today
            )
    logger.info("posted credits upload: applied=%s", result.applied)
    return result
