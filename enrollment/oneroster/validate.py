"""Checking a OneRoster export completely, before anything is written.

Every file is read to the end and every line checked (tables.py: the header names the
columns SERS needs, required values are filled, dates, booleans and enumerations are
valid, sourcedIds are unique); then, here, emails are valid, every reference names a row
that exists, and no class, course or enrollment is for another school than the one the
upload is for. Each problem names its
file, line and column; the import goes ahead only when there is none (`validate` returns
the Roster then, and None otherwise).

The school: orgs.csv's school whose `identifier` is the SERS high school's code (its state
building code); when orgs.csv names a single school without that code, that school,
unless its identifier is another SERS high school's code (the export of another school).
Departments of the school count as the school.

Nothing here reads or writes the database: the caller passes the school and the codes of
SERS's other high schools.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from . import spec as S
from .problems import Problems
from .spec import FileSpec
from .tables import Row, Table, parse_date, read_manifest, read_table

_YEAR = re.compile(r"^[0-9]{4}$")


@dataclass(frozen=True)
class School:
    """The SERS high school an upload is for, and every other high school's code (the
    codes compared without letter case) with its name."""

    code: str
    name: str
    other_codes: Mapping[str, str]


@dataclass(frozen=True)
class RosterClass:
    sourced_id: str
    title: str
    class_code: str
    course_title: str
    course_code: str
    periods: str
    location: str
    terms: str
    term_types: str
    starts_on: date | None
    ends_on: date | None
    teachers: str
    teacher_emails: str


@dataclass(frozen=True)
class RosterStudent:
    sourced_id: str
    identifier: str
    given_name: str
    middle_name: str
    family_name: str
    preferred_given_name: str
    email: str


@dataclass
class Roster:
    """What SERS keeps of a valid export: the school's classes, the students in them and
    who is in which (class sourcedId, student sourcedId)."""

    source_system: str
    classes: list[RosterClass]
    students: list[RosterStudent]
    enrollments: list[tuple[str, str]]


# --- the whole export ------------------------------------------------------------------------


class _Check:
    """The checks across files, with the tables and the school's orgs."""

    def __init__(self, tables: dict[str, Table], problems: Problems):
        self.tables = tables
        self.problems = problems
        self.orgs = tables[S.ORGS.name]
        self.ours: set[str] = set()

    def table(self, spec: FileSpec) -> Table:
        return self.tables[spec.name]

    def exists(self, spec: FileSpec, row: Row, column: str, target: FileSpec, value: str) -> bool:
        """Whether `value` names an active row of `target` (unknown when target's lines
        could not be checked: no problem is added then)."""
        table = self.table(target)
        if not table.checked or not value:  # an empty required value is named already
            return False
        if value in table.rows:
            return True
        self.problems.add(
            spec.name,
            row.line,
            column,
            _("“%(id)s” is not a sourcedId of %(file)s.") % {"id": value, "file": target.name},
        )
        return False

    def other_school(self, org_id: str) -> str | None:
        """The name of the other school an org is (or is a department of), else None."""
        org = self.orgs.rows.get(org_id)
        if org is None or org_id in self.ours:
            return None
        if org["type"].lower() == "department":
            parent = self.orgs.rows.get(org["parentSourcedId"])
            if parent is None or parent["sourcedId"] in self.ours:
                return None
            org = parent
        return org["name"] if org["type"].lower() == S.SCHOOL else None

    def refuse_other_school(self, spec: FileSpec, row: Row, column: str, school: School) -> bool:
        other = self.other_school(row[column])
        if other is None:
            return False
        self.problems.add(
            spec.name,
            row.line,
            column,
            _(
                "Refused: this row is for %(other)s, another school. The upload is for "
                "%(school)s: upload each school's export on its own."
            )
            % {"other": other, "school": school.name},
        )
        return True


def _our_school(check: _Check, school: School) -> None:
    orgs = check.orgs
    if not orgs.checked:
        return
    schools = [row for row in orgs.rows.values() if row["type"].lower() == S.SCHOOL]
    code = school.code.casefold()
    ours = {row["sourcedId"] for row in schools if row["identifier"].casefold() == code}
    if not ours and len(schools) == 1:
        only = schools[0]
        other = school.other_codes.get(only["identifier"].casefold())
        if other:
            check.problems.add(
                orgs.spec.name,
                only.line,
                "identifier",
                _(
                    "This export is for %(other)s (identifier %(code)s), not %(school)s. "
                    "Choose that school, or upload %(school)s's own export."
                )
                % {"other": other, "code": only["identifier"], "school": school.name},
            )
            return
        ours = {only["sourcedId"]}
    if not schools:
        check.problems.add(
            orgs.spec.name, None, "type", _("orgs.csv names no school (no org of type school).")
        )
    elif not ours:
        check.problems.add(
            orgs.spec.name,
            None,
            "identifier",
            _(
                "orgs.csv names %(count)s schools and none has the identifier %(code)s of "
                "%(school)s. Upload this school's export only, or ask for the school's "
                "state building code in the identifier column."
            )
            % {"count": len(schools), "code": school.code, "school": school.name},
        )
    # A department of the school is the school.
    departments = {
        row["sourcedId"]
        for row in orgs.rows.values()
        if row["type"].lower() == "department" and row["parentSourcedId"] in ours
    }
    check.ours = ours | departments


def _check_references(check: _Check, school: School) -> None:
    P = check.problems
    for row in check.orgs.rows.values():
        if row["parentSourcedId"]:
            check.exists(S.ORGS, row, "parentSourcedId", S.ORGS, row["parentSourcedId"])
    for row in check.table(S.ACADEMIC_SESSIONS).rows.values():
        start, end = parse_date(row["startDate"]), parse_date(row["endDate"])
        if start and end and end < start:
            P.add(S.ACADEMIC_SESSIONS.name, row.line, "endDate", _("The end is before the start."))
        if row["schoolYear"] and not _YEAR.match(row["schoolYear"]):
            P.add(S.ACADEMIC_SESSIONS.name, row.line, "schoolYear", _("Write a year: 2027."))
        if row["parentSourcedId"]:
            check.exists(
                S.ACADEMIC_SESSIONS,
                row,
                "parentSourcedId",
                S.ACADEMIC_SESSIONS,
                row["parentSourcedId"],
            )
    for row in check.table(S.COURSES).rows.values():
        if check.exists(S.COURSES, row, "orgSourcedId", S.ORGS, row["orgSourcedId"]):
            check.refuse_other_school(S.COURSES, row, "orgSourcedId", school)
        if row["schoolYearSourcedId"]:
            check.exists(
                S.COURSES,
                row,
                "schoolYearSourcedId",
                S.ACADEMIC_SESSIONS,
                row["schoolYearSourcedId"],
            )
    for row in check.table(S.CLASSES).rows.values():
        check.exists(S.CLASSES, row, "courseSourcedId", S.COURSES, row["courseSourcedId"])
        _school_of(check, S.CLASSES, row, school)
        terms = row.items_of("termSourcedIds")
        if row["termSourcedIds"] and not terms:
            P.add(S.CLASSES.name, row.line, "termSourcedIds", _("A value is required."))
        for term in terms:
            check.exists(S.CLASSES, row, "termSourcedIds", S.ACADEMIC_SESSIONS, term)
    for row in check.table(S.ENROLLMENTS).rows.values():
        _school_of(check, S.ENROLLMENTS, row, school)
        check.exists(S.ENROLLMENTS, row, "classSourcedId", S.CLASSES, row["classSourcedId"])
        check.exists(S.ENROLLMENTS, row, "userSourcedId", S.USERS, row["userSourcedId"])
        begin, end = parse_date(row["beginDate"]), parse_date(row["endDate"])
        if begin and end and end < begin:
            P.add(S.ENROLLMENTS.name, row.line, "endDate", _("The end is before the beginning."))
    for row in check.table(S.USERS).rows.values():
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                P.add(S.USERS.name, row.line, "email", _("This is not an email address."))


def _school_of(check: _Check, spec: FileSpec, row: Row, school: School) -> None:
    """A class's or an enrollment's schoolSourcedId: an org of orgs.csv, and the school
    of this upload (another school's row is refused)."""
    org_id = row["schoolSourcedId"]
    if not check.exists(spec, row, "schoolSourcedId", S.ORGS, org_id):
        return
    if check.refuse_other_school(spec, row, "schoolSourcedId", school):
        return
    _must_be_ours(check, spec, row)


def _must_be_ours(check: _Check, spec: FileSpec, row: Row) -> None:
    """A class or enrollment names the school's org: ours, or at least a school."""
    org_id = row["schoolSourcedId"]
    if not check.ours or org_id in check.ours:
        return
    org = check.orgs.rows.get(org_id)
    kind = org["type"].lower() if org is not None else ""
    message = (
        _("“%(id)s” is a %(type)s, not a school.") % {"id": org_id, "type": kind}
        if kind not in (S.SCHOOL, "department")
        else _("“%(id)s” is not the school of this upload.") % {"id": org_id}
    )
    check.problems.add(spec.name, row.line, "schoolSourcedId", message)


def validate(
    texts: dict[str, str], *, school: School, today: date, problems: Problems
) -> Roster | None:
    """The Roster of a OneRoster export (file name → text), or None when `problems` holds
    anything (found here or before)."""
    source, absent = read_manifest(texts.get(S.MANIFEST), problems)
    tables: dict[str, Table] = {}
    for spec in S.FILES:
        text = texts.get(spec.name)
        if text is None:
            if spec.name not in absent:
                problems.add(spec.name, None, "", _("This file is not in the upload."))
            tables[spec.name] = Table(spec, {}, checked=False)
        else:
            tables[spec.name] = read_table(spec, text, problems)
    check = _Check(tables, problems)
    _our_school(check, school)
    _check_references(check, school)
    if problems:
        return None
    return _roster(check, source=source, today=today)


# --- what is kept ----------------------------------------------------------------------------


def _joined(values, limit: int) -> str:
    text = ", ".join(v for v in values if v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _roster(check: _Check, *, source: str, today: date) -> Roster:
    sessions = check.table(S.ACADEMIC_SESSIONS).rows
    courses = check.table(S.COURSES).rows
    users = check.table(S.USERS).rows
    ours = {
        key: row
        for key, row in check.table(S.CLASSES).rows.items()
        if row["schoolSourcedId"] in check.ours
    }
    teachers: dict[str, list[tuple[bool, Row]]] = {}
    pairs: dict[tuple[str, str], None] = {}
    for row in check.table(S.ENROLLMENTS).rows.values():
        class_id, user_id = row["classSourcedId"], row["userSourcedId"]
        if class_id not in ours:
            continue
        end = parse_date(row["endDate"])
        if end is not None and end < today:
            continue  # left the class
        role = row["role"].lower()
        if role == S.STUDENT:
            pairs[(class_id, user_id)] = None
        elif role == S.TEACHER:
            primary = row["primary"].lower() == "true"
            teachers.setdefault(class_id, []).append((not primary, users[user_id]))
    classes = []
    for key, row in ours.items():
        terms = [sessions[t] for t in row.items_of("termSourcedIds") if t in sessions]
        starts = [parse_date(t["startDate"]) for t in terms]
        ends = [parse_date(t["endDate"]) for t in terms]
        course = courses.get(row["courseSourcedId"])
        staff = [user for _order, user in sorted(teachers.get(key, []), key=lambda t: t[0])]
        classes.append(
            RosterClass(
                sourced_id=key,
                title=row["title"],
                class_code=row["classCode"],
                course_title=course["title"] if course else "",
                course_code=course["courseCode"] if course else "",
                periods=_joined(row.items_of("periods"), 100),
                location=row["location"],
                terms=_joined((t["title"] for t in terms), 255),
                term_types=_joined(sorted({t["type"] for t in terms}), 100),
                starts_on=min(filter(None, starts), default=None),
                ends_on=max(filter(None, ends), default=None),
                teachers=_joined((f"{u['givenName']} {u['familyName']}" for u in staff), 255),
                teacher_emails=_joined((u["email"].lower() for u in staff), 255),
            )
        )
    student_ids = dict.fromkeys(user_id for _class_id, user_id in pairs)
    students = [
        RosterStudent(
            sourced_id=user_id,
            identifier=users[user_id]["identifier"],
            given_name=users[user_id]["givenName"],
            middle_name=users[user_id]["middleName"],
            family_name=users[user_id]["familyName"],
            preferred_given_name=users[user_id]["preferredGivenName"],
            email=users[user_id]["email"].lower(),
        )
        for user_id in student_ids
    ]
    return Roster(source_system=source, classes=classes, students=students, enrollments=list(pairs))
