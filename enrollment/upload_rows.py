"""The rows of a staff upload (importers.py reads the file), what an upload reports, dates
as people type them, and the one student each row means.

A row is matched by SERS id, or by legal first name, last name and birth date; a row
that matches no one or more than one person is listed, never guessed.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _

from .identity import Identity, identities_match
from .identity import normalize as normalize_name
from .models import MatchKind, StudentProfile


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

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y/%m/%d")


def parse_date(value: str) -> date:
    value = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        _("“%(value)s” is not a date: write it as 2009-04-12 or 4/12/2009.") % {"value": value}
    )


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
        birth = row.get("birth_date")
        if not (first and last and birth):
            return LineProblem(
                row.line, _("Give a SERS id, or the legal first and last name and birth date.")
            )
        try:
            birth_date = parse_date(birth)
        except ValueError as error:
            return LineProblem(row.line, str(error))
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
