"""The columns of the staff uploads (importers.py reads the file with sers.uploads.read_table),
what an upload reports, dates and amounts as people type them, and the one student each
row means.

Each column is cleaned by a form field with the limits of the model field it ends up in
(sers.text: white space normalised, control characters and overlong text refused).

A row is matched by SERS id, or by legal first name, last name and birth date; a row
that matches no one or more than one person is listed, never guessed.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articulations.models import CollegeCourse
from sers.text import TextBlockField, TextLineField
from sers.uploads import TableRow as Row

from .identity import Identity, identities_match
from .identity import normalize as normalize_name
from .models import Enrollment, Fee, MatchKind, StudentProfile


@dataclass
class LineProblem:
    line: int
    message: str
    candidates: list[str] = field(default_factory=list)  # SERS ids, for ambiguous rows
    code: str = ""  # "unmatched" when the row names no one we know here


@dataclass
class ImportResult:
    """What an upload found: every problem (then nothing was changed) or what it did."""

    rows: int = 0
    problems: list[LineProblem] = field(default_factory=list)
    applied: int = 0
    skipped: list[LineProblem] = field(default_factory=list)  # harmless: already done
    notices: list[str] = field(default_factory=list)  # e.g. the columns that were ignored

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem_lines(self) -> int:
        """How many lines have a problem (a line may have several)."""
        return len({problem.line for problem in self.problems})


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y/%m/%d")


class UploadDateField(forms.DateField):
    """A date as people type it in a spreadsheet (DATE_FORMATS)."""

    default_error_messages = {
        "invalid": gettext_lazy("Not a date: write it as 2009-04-12 or 4/12/2009."),
    }

    def __init__(self, **kwargs):
        super().__init__(input_formats=DATE_FORMATS, required=False, **kwargs)


class UploadAmountField(forms.DecimalField):
    """An amount of money, with or without "$" and thousands separators; a decimal comma
    ("50,00", as a spreadsheet writes it in many languages) is read as a decimal point."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=7, decimal_places=2, min_value=Decimal(0), required=False, **kwargs
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lstrip("$").strip()
            decimal_comma = re.fullmatch(r"[0-9]+,[0-9]{1,2}", value)
            value = value.replace(",", "." if decimal_comma else "")
        return super().to_python(value)


def _text(model, name: str) -> TextLineField:
    """A one-line column with the limit of the model field its value is stored in."""
    return TextLineField(max_length=model._meta.get_field(name).max_length, required=False)


IDENTITY_FIELDS = {
    "sers_id": TextLineField(max_length=20, required=False),
    "first_name": _text(StudentProfile, "legal_first_name"),
    "middle_name": _text(StudentProfile, "legal_middle_name"),
    "last_name": _text(StudentProfile, "legal_last_name"),
    "birth_date": UploadDateField(),
}
IDENTITY_COLUMNS = tuple(IDENTITY_FIELDS)
IDENTITY_REQUIRED = [{"sers_id"}, {"first_name", "last_name", "birth_date"}]
ROSTER_FIELDS = {**IDENTITY_FIELDS, "grade": _text(Enrollment, "grade")}
FEE_FIELDS = {
    **IDENTITY_FIELDS,
    "status": TextLineField(max_length=20, required=False),
    "paid_amount": UploadAmountField(),
    "paid_on": UploadDateField(),
    "receipt_number": _text(Fee, "receipt_number"),
    "waiver_reason": _text(Fee, "waiver_reason"),
    "note": TextBlockField(max_length=500, required=False),  # as on the fee form
}
POSTED_CREDIT_FIELDS = {
    **IDENTITY_FIELDS,
    "course": TextLineField(max_length=40, required=False),
    "course_prefix": _text(CollegeCourse, "prefix"),
    "course_number": _text(CollegeCourse, "number"),
    "college_student_id": _text(Enrollment, "college_student_id"),
    "posted_on": UploadDateField(),
}


# --- matching rows to students ------------------------------------------------------------------


class StudentMatcher:
    """Finds the one student a row means among `students`, by SERS id or by legal name
    and birth date. A merged record's SERS id leads to the student it was merged into."""

    def __init__(self, students: list[StudentProfile]):
        self.by_sers = {s.sers_id: s for s in students}
        self.by_identity: dict[tuple, list[StudentProfile]] = {}
        for student in students:
            for key in self._keys(
                student.legal_first_name,
                student.legal_middle_name,
                student.legal_last_name,
                student.birth_date,
            ):
                bucket = self.by_identity.setdefault(key, [])
                if student not in bucket:
                    bucket.append(student)
        self.merged: dict[str, str] = {}

    @staticmethod
    def _keys(first, middle, last, birth_date):
        first_n, last_n = normalize_name(first), normalize_name(last)
        keys = {(first_n, last_n, birth_date)}
        if middle:
            keys.add((normalize_name(f"{first} {middle}"), last_n, birth_date))
        return keys

    def load_merged(self, sers_ids: set[str]) -> None:
        """Map SERS ids of merged records to their survivors' ids. One query."""
        self.merged = dict(
            StudentProfile.objects.filter(
                sers_id__in=sers_ids, merged_into__isnull=False
            ).values_list("sers_id", "merged_into__sers_id")
        )

    def match(self, row: Row) -> StudentProfile | LineProblem:
        sers_id = re.sub(r"\D", "", row.get("sers_id"))
        first, last = row.get("first_name"), row.get("last_name")
        if sers_id:
            sers_id = self.merged.get(sers_id, sers_id)
            student = self.by_sers.get(sers_id)
            if student is None:
                return LineProblem(
                    row.line,
                    _("No student with SERS id %(id)s here.") % {"id": row.get("sers_id")},
                    code="unmatched",
                )
            if first and last:
                kind = identities_match_names(student, first, last)
                if kind not in (MatchKind.SAME, MatchKind.VARIANT):
                    return LineProblem(
                        row.line,
                        _(
                            "SERS id %(id)s belongs to a student with another name. Check "
                            "the id and the name."
                        )
                        % {"id": sers_id},
                    )
            return student
        birth_date = row.get("birth_date")
        if not (first and last and birth_date):
            return LineProblem(
                row.line, _("Give a SERS id, or the legal first and last name and birth date.")
            )
        found: list[StudentProfile] = []
        for key in self._keys(first, row.get("middle_name"), last, birth_date):
            for student in self.by_identity.get(key, []):
                if student not in found:
                    found.append(student)
        if not found:
            return LineProblem(
                row.line,
                _("No student here named %(name)s, born %(date)s.")
                % {"name": f"{first} {last}", "date": birth_date.isoformat()},
                code="unmatched",
            )
        if len(found) > 1:
            return LineProblem(
                row.line,
                _("More than one student matches %(name)s, born %(date)s: add the SERS id.")
                % {"name": f"{first} {last}", "date": birth_date.isoformat()},
                candidates=sorted(s.sers_id for s in found),
            )
        return found[0]


def identities_match_names(student: StudentProfile, first: str, last: str):
    return identities_match(
        Identity(first_name=first, last_name=last),
        Identity(
            first_name=student.legal_first_name,
            middle_name=student.legal_middle_name,
            last_name=student.legal_last_name,
        ),
    )


def duplicate_check(seen: dict, key, row: Row, result: ImportResult) -> bool:
    if key in seen:
        result.problems.append(
            LineProblem(
                row.line,
                _("The same student is on line %(line)s too.") % {"line": seen[key]},
            )
        )
        return True
    seen[key] = row.line
    return False
