"""One OneRoster file, line by line: its header names the columns SERS needs, and every
line is checked on its own (required values, lengths, enumerations, dates, booleans,
status, unique sourcedIds); the manifest says which files the export holds and how.
The checks across files are in validate.py."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _

from sers.uploads import UploadRefused, csv_records

from . import spec as S
from .problems import Problems
from .spec import FileSpec

_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# The longest source.systemName SERS keeps (SisImport.source_system's max_length: a test
# checks that they agree). A longer one is a problem of the manifest's line, not a cut.
SOURCE_SYSTEM_LENGTH = 100


class Row(dict):
    """A line's values by column ("" for a column the file does not have), and its line
    number."""

    __slots__ = ("line",)

    def __init__(self, line: int, values: dict[str, str]):
        super().__init__(values)
        self.line = line

    def __missing__(self, column: str) -> str:
        return ""

    def items_of(self, column: str) -> list[str]:
        """The values of a list column ("t1,t2" → ["t1", "t2"])."""
        return [value.strip() for value in self[column].split(",") if value.strip()]


@dataclass
class Table:
    spec: FileSpec
    rows: dict[str, Row]  # the active rows, by sourcedId
    checked: bool  # its lines were checked: references to it can be checked too


# --- one file --------------------------------------------------------------------------------


class _Unreadable(Exception):
    def __init__(self, line: int, detail: str):
        super().__init__(detail)
        self.line = line


def _records(text: str):
    """(line number of the record's first line, cells) of each CSV record, read as every
    upload is (sers.uploads.csv_records: comma, or the semicolon or tab a spreadsheet
    saved it with); _Unreadable at a line that cannot be read."""
    try:
        yield from csv_records(text)
    except UploadRefused as refused:
        raise _Unreadable(refused.line, refused.detail) from None


def _header(spec: FileSpec, cells: list[str], problems: Problems) -> dict[str, int] | None:
    """Each known column's position; None (with the problems) when one SERS needs is
    missing or a column is named twice."""
    wanted = {column.lower(): column for column in spec.columns}
    positions: dict[str, int] = {}
    ok = True
    for index, raw in enumerate(cells):
        name = raw.strip().lstrip("\ufeff")
        column = wanted.get(name.lower())
        if column is None:
            continue
        if column in positions:
            problems.add(spec.name, 1, column, _("This column is named twice in the header."))
            ok = False
        positions[column] = index
    missing = [column for column in spec.required if column not in positions]
    for column in missing:
        problems.add(
            spec.name,
            1,
            column,
            _("The header has no %(column)s column, which SERS needs.") % {"column": column},
        )
    return positions if ok and not missing else None


class _LineChecks:
    """A file's checks of one line, prepared once: each loop runs over the few columns
    it concerns (a large school's export is some 15,000 lines)."""

    def __init__(self, spec: FileSpec):
        self.file = spec.name
        self.required = spec.required
        self.lengths = tuple(spec.lengths.items())
        self.enums = tuple(
            (column, frozenset(value.lower() for value in allowed), ", ".join(sorted(allowed)))
            for column, allowed in spec.enums.items()
        )
        self.dates = spec.dates
        self.booleans = spec.booleans

    def __call__(self, row: Row, problems: Problems) -> None:
        add, file, line = problems.add, self.file, row.line
        if _CONTROL_CHARACTER.search("".join(row.values())):
            for column, value in row.items():
                if _CONTROL_CHARACTER.search(value):
                    add(file, line, column, _("The value holds a control character."))
        for column in self.required:
            if not row[column]:
                add(file, line, column, _("A value is required."))
        for column, limit in self.lengths:
            if len(row[column]) > limit:
                add(
                    file,
                    line,
                    column,
                    _("The value is %(length)s characters long; SERS keeps at most %(limit)s.")
                    % {"length": len(row[column]), "limit": limit},
                )
        for column, allowed, names in self.enums:
            value = row[column].lower()
            if value and value not in allowed and not value.startswith(S.EXTENSION_PREFIX):
                add(
                    file,
                    line,
                    column,
                    _("“%(value)s” is not one of %(allowed)s.")
                    % {"value": row[column], "allowed": names},
                )
        for column in self.dates:
            if row[column] and parse_date(row[column]) is None:
                add(
                    file,
                    line,
                    column,
                    _("“%(value)s” is not a date written YYYY-MM-DD.") % {"value": row[column]},
                )
        for column in self.booleans:
            if row[column] and row[column].lower() not in S.BOOLEANS:
                add(file, line, column, _("Write true or false."))
        status = row["status"]
        if status and status.lower() not in S.STATUSES:
            add(file, line, "status", _("Write active, tobedeleted, or leave it empty."))
        modified = row["dateLastModified"]
        if modified:
            try:
                datetime.fromisoformat(modified)
            except ValueError:
                add(
                    file,
                    line,
                    "dateLastModified",
                    _("“%(value)s” is not a date and time (2026-09-01T08:00:00Z).")
                    % {"value": modified},
                )


def parse_date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def read_table(spec: FileSpec, text: str, problems: Problems) -> Table:
    """A file's active rows by sourcedId, every line checked on its own."""
    header: dict[str, int] | None = None
    rows: dict[str, Row] = {}
    first_line: dict[str, int] = {}
    check_line = _LineChecks(spec)
    try:
        for line, cells in _records(text):
            if header is None:
                header = _header(spec, cells, problems)
                if header is None:
                    return Table(spec, rows, checked=False)
                width = len(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != width:
                problems.add(
                    spec.name,
                    line,
                    "",
                    _(
                        "The line has %(cells)s values but the header names %(columns)s "
                        "columns (a value with a comma must be in double quotes)."
                    )
                    % {"cells": len(cells), "columns": width},
                )
                continue
            row = Row(line, {column: cells[index].strip() for column, index in header.items()})
            check_line(row, problems)
            key = row["sourcedId"]
            if key in first_line:
                problems.add(
                    spec.name,
                    line,
                    "sourcedId",
                    _("“%(id)s” is also the sourcedId of line %(line)s.")
                    % {"id": key, "line": first_line[key]},
                )
                continue
            if key:
                first_line[key] = line
            if row["status"].lower() != S.TO_BE_DELETED:
                rows[key] = row
    except _Unreadable as error:
        problems.add(
            spec.name,
            error.line,
            "",
            _("This line cannot be read as CSV (%(error)s).") % {"error": error},
        )
        return Table(spec, rows, checked=False)
    if header is None:
        problems.add(spec.name, None, "", _("The file is empty: it needs its header line."))
        return Table(spec, rows, checked=False)
    return Table(spec, rows, checked=True)


# --- the manifest ----------------------------------------------------------------------------


def read_manifest(text: str | None, problems: Problems) -> tuple[str, set[str]]:
    """(the source system's name, the files the manifest says are absent)."""
    name = S.MANIFEST
    if text is None:
        problems.add(
            name,
            None,
            "",
            _(
                "The upload has no manifest.csv: upload the whole export, as the student "
                "information system made it."
            ),
        )
        return "", set()
    spec = FileSpec(name, required=("propertyName", "value"))
    properties: dict[str, Row] = {}
    header = None
    try:
        for line, cells in _records(text):
            if header is None:
                header = _header(spec, cells, problems)
                if header is None:
                    return "", set()
                continue
            if not any(cell.strip() for cell in cells):
                continue
            row = Row(
                line, {c: cells[i].strip() if i < len(cells) else "" for c, i in header.items()}
            )
            key = row["propertyName"]
            if key in properties:
                problems.add(
                    name, line, "propertyName", _("%(name)s is given twice.") % {"name": key}
                )
            properties[key] = row
    except _Unreadable as error:
        problems.add(
            name,
            error.line,
            "",
            _("This line cannot be read as CSV (%(error)s).") % {"error": error},
        )
        return "", set()
    for required in ("manifest.version", "oneroster.version"):
        if required not in properties:
            problems.add(name, None, "propertyName", _("%(name)s is missing.") % {"name": required})
    version = properties.get("oneroster.version")
    if version is not None and version["value"] not in S.VERSIONS:
        problems.add(
            name,
            version.line,
            "value",
            _(
                "This is a OneRoster %(version)s export; SERS reads OneRoster 1.2 (or 1.1). "
                "Ask for a OneRoster 1.2 CSV export."
            )
            % {"version": version["value"] or "?"},
        )
    absent: set[str] = set()
    for key, row in properties.items():
        if key.startswith("file.") and row["value"].lower() not in S.MODES:
            problems.add(name, row.line, "value", _("Write bulk, delta or absent."))
    for file_spec in S.FILES:
        key = S.manifest_key(file_spec)
        row = properties.get(key)
        mode = row["value"].lower() if row is not None else ""
        if row is None:
            problems.add(name, None, "propertyName", _("%(name)s is missing.") % {"name": key})
        elif mode == S.DELTA:
            problems.add(
                name,
                row.line,
                "value",
                _(
                    "%(name)s is delta: SERS needs the school's whole export (bulk), not "
                    "the changes since the last one."
                )
                % {"name": key},
            )
        elif mode == S.ABSENT:
            absent.add(file_spec.name)
            problems.add(
                name,
                row.line,
                "value",
                _("%(name)s is absent: SERS needs %(file)s in the export.")
                % {"name": key, "file": file_spec.name},
            )
    source = properties.get("source.systemName")
    if source is None:
        return "", absent
    if _CONTROL_CHARACTER.search(source["value"]):
        problems.add(name, source.line, "value", _("The value holds a control character."))
    if len(source["value"]) > SOURCE_SYSTEM_LENGTH:
        problems.add(
            name,
            source.line,
            "value",
            _("The value is %(length)s characters long; SERS keeps at most %(limit)s.")
            % {"length": len(source["value"]), "limit": SOURCE_SYSTEM_LENGTH},
        )
    return source["value"], absent
