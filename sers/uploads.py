"""Checking uploaded spreadsheets before anything reads them.

    from sers.uploads import check_upload, UploadRefused

    try:
        upload = check_upload(request.FILES["file"], kinds=("csv", "xlsx"))
    except UploadRefused as error:        # a ValidationError: show error.messages
        form.add_error("file", error)
    else:
        upload.kind       # "csv" or "xlsx", from the name AND the content
        upload.content    # the bytes (at most max_bytes)
        upload.text       # CSV only: the decoded text, BOM removed
        upload.encoding   # CSV only: "utf-8", "utf-8-sig" or "cp1252"
        upload.records()  # (line number, cells) of either kind; CSV delimiter , ; or tab

In a form, `SpreadsheetField(kinds=..., max_bytes=...)` does the same in clean() and puts a
CheckedUpload in cleaned_data.

`read_table(upload, fields=..., required=...)` is the one reader of every staff upload
(rosters, fees, posted credits, agreements): it finds the header (blank lines before it
are fine), ignores columns it does not know (with a notice), and cleans every cell
through the form field of its column (`sers.text`: the limits and rules of the forms), so
each problem of each line is named with its line and column.

A zip archive of CSV files (a student information system's export): `check_zip(file,
wanted=...)` checks every member's size before unpacking the wanted ones; check each
member's bytes with check_upload.

What is refused, each with a message that says what to do:
- an empty file, or one larger than `max_bytes` (default SERS_UPLOAD_MAX_BYTES, 10 MB);
- a name whose extension is not one of `kinds`;
- content that is not what the extension says: an .xlsx that is not an Excel workbook
  (a renamed file, an old .xls, a PDF), a .csv that is binary (a workbook renamed to .csv,
  a picture) or UTF-16 ("Unicode text" from Excel);
- a workbook that would unpack to more than XLSX_MAX_UNPACKED_BYTES (a zip bomb);
- text that is neither UTF-8 (with or without a byte-order mark) nor Windows-1252, or
  that is full of control characters (a stray one is left for read_table to name by line
  and column).
"""

import csv
import datetime
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
XLSX_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
KINDS = ("csv", "xlsx")

# Signatures of files that are certainly not text.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "zip",  # .xlsx, .docx, .zip
    b"\xd0\xcf\x11\xe0": "ole",  # old .xls, .doc
    b"%PDF": "pdf",
    b"\x89PNG": "image",
    b"\xff\xd8\xff": "image",
    b"GIF8": "image",
    b"MZ": "program",
    b"\x7fELF": "program",
}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"
# Text may hold tab, line feed and carriage return; no other control character.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UploadRefused(ValidationError):
    """The upload cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    kind: str
    content: bytes
    encoding: str | None = None
    text: str | None = None

    def csv_rows(self) -> Iterator[list[str]]:
        """The rows of a CSV upload (see csv_records for the delimiter)."""
        if self.text is None:
            raise TypeError("csv_rows() is for CSV uploads.")
        return (cells for _line, cells in csv_records(self.text))

    def records(self, *, sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of every record of either kind: a CSV record's first line,
        a workbook row's number (from the named sheet or else the first)."""
        if self.kind == "xlsx":
            return enumerate(self.xlsx_rows(sheet=sheet), start=1)
        return csv_records(self.text or "")

    def xlsx_rows(self, *, sheet: str | None = None) -> Iterator[list[str]]:
        """The rows of a workbook upload as text, from the named sheet or else the first:
        dates as YYYY-MM-DD, whole numbers without a trailing ".0", empty cells as ""."""
        from openpyxl import load_workbook

        if self.kind != "xlsx":
            raise TypeError("xlsx_rows() is for Excel uploads.")
        try:
            workbook = load_workbook(io.BytesIO(self.content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            raise UploadRefused(
                _("The file is not a readable Excel workbook (.xlsx)."), code="not_xlsx"
            ) from None
        try:
            names = workbook.sheetnames
            worksheet = workbook[sheet] if sheet in names else workbook.worksheets[0]
            for row in worksheet.iter_rows(values_only=True):
                yield [cell_text(value) for value in row]
        finally:
            workbook.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _signature(content: bytes) -> str | None:
    for magic, kind in BINARY_SIGNATURES.items():
        if content.startswith(magic):
            return kind
    return None


def _kinds_text(kinds) -> str:
    return ", ".join(f".{kind}" for kind in kinds)


def _read(upload, max_bytes: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _too_big(size, max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise _too_big(len(content), max_bytes)
    return content


def _too_big(size: int, max_bytes: int) -> UploadRefused:
    return UploadRefused(
        _("The file is too large (%(size)s). The limit is %(limit)s: split it into smaller files.")
        % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
        code="too_large",
    )


def _check_xlsx(content: bytes) -> None:
    not_a_workbook = UploadRefused(
        _(
            "This file is not an Excel workbook (.xlsx), although its name says so. Open it "
            "in Excel and use Save As → Excel Workbook (.xlsx), or save it as CSV UTF-8."
        ),
        code="not_xlsx",
    )
    if _signature(content) == "ole":
        raise UploadRefused(
            _(
                "This is an old Excel file (.xls). Open it in Excel and use Save As → Excel "
                "Workbook (.xlsx) or CSV UTF-8."
            ),
            code="old_xls",
        )
    if _signature(content) != "zip":
        raise not_a_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise not_a_workbook from None
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise not_a_workbook
    if sum(member.file_size for member in members) > XLSX_MAX_UNPACKED_BYTES:
        raise UploadRefused(
            _("This workbook is too large once unpacked. Split it into smaller files."),
            code="too_large_unpacked",
        )


def _looks_utf16(content: bytes) -> bool:
    """A byte-order mark, or (without one) a NUL byte in nearly every other byte."""
    if content.startswith(UTF16_BOMS):
        return True
    pairs = len(content) // 2
    nuls = max(content[0::2].count(0), content[1::2].count(0))
    return pairs >= 2 and nuls >= pairs * 0.9


def _decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else Windows-1252."""
    if _signature(content) is not None:
        raise _not_text()
    if _looks_utf16(content):
        raise UploadRefused(
            _(
                "This file is saved as UTF-16 (“Unicode text”). In Excel use Save As → "
                "CSV UTF-8 (comma delimited), then upload that file."
            ),
            code="utf16",
        )
    if content.startswith(UTF8_BOM):
        try:
            return content[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            # A byte-order mark in front of Windows-1252 text: some tools add one anyway.
            content = content[len(UTF8_BOM) :]
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Excel's plain "CSV (comma delimited)" on Windows. Five byte values are undefined in
    # Windows-1252; a file with them is in some other encoding.
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise _bad_encoding() from None


def _not_text() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is not a CSV text file, although its name says so (it may be a "
            "workbook or a picture that was renamed). Save it as CSV UTF-8 and try again."
        ),
        code="not_text",
    )


def _bad_encoding() -> UploadRefused:
    return UploadRefused(
        _(
            "SERS cannot read the characters in this file. Save it as CSV UTF-8 (in Excel: "
            "Save As → CSV UTF-8 (comma delimited)) and try again."
        ),
        code="encoding",
    )


def check_upload(upload, *, kinds=KINDS, max_bytes: int | None = None) -> CheckedUpload:
    """Check an uploaded file (a Django UploadedFile or any object with .name and .read()).

    Raises UploadRefused (a ValidationError) with a message for the person uploading.
    """
    kinds = tuple(kind.lower() for kind in kinds)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"check_upload knows {KINDS}, not {sorted(unknown)}")
    if max_bytes is None:
        max_bytes = getattr(settings, "SERS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)
    name = str(getattr(upload, "name", "") or "")
    kind = _extension(name)
    if kind not in kinds:
        raise UploadRefused(
            _("Upload a file ending in %(kinds)s.") % {"kinds": _kinds_text(kinds)},
            code="extension",
        )
    content = _read(upload, max_bytes)
    if not content.strip():
        raise UploadRefused(_("The file is empty."), code="empty")
    if kind == "xlsx":
        _check_xlsx(content)
        return CheckedUpload(name=name, kind=kind, content=content)
    text, encoding = _decode_text(content)
    if len(_CONTROL_CHARACTER.findall(text)) > max(8, len(text) // 100):
        # Binary content; a stray control character in a cell is named by read_table.
        raise _not_text()
    return CheckedUpload(name=name, kind=kind, content=content, encoding=encoding, text=text)


class SpreadsheetField(forms.FileField):
    """A file field whose cleaned value is a CheckedUpload (see check_upload)."""

    def __init__(self, *, kinds=KINDS, max_bytes: int | None = None, **kwargs):
        self.kinds = tuple(kinds)
        self.max_bytes = max_bytes
        kwargs.setdefault(
            "widget",
            forms.ClearableFileInput(attrs={"accept": ",".join(f".{k}" for k in self.kinds)}),
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return upload
        return check_upload(upload, kinds=self.kinds, max_bytes=self.max_bytes)


# --- the one reader of every staff upload ---------------------------------------------------

DELIMITERS = (",", ";", "\t")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SEPARATOR_HINT = re.compile(r'^"?sep=(.)"?$', re.IGNORECASE)  # Excel's "sep=;" first line


def _delimiter(header: str) -> str:
    """The most frequent of comma, semicolon and tab outside quotes in the header line;
    a comma when there is none (a single column)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV record, numbered by the line it starts on (a cell
    may hold line breaks); a blank line is an empty record. The delimiter is the one the
    header line (the first line with text) uses: comma, semicolon (Excel in many
    languages) or tab; an Excel "sep=;" line names it and is skipped."""
    lines = _LINE_BREAK.split(text)
    first = next((number for number, line in enumerate(lines, 1) if line.strip()), 0)
    hint = _SEPARATOR_HINT.match(lines[first - 1].strip()) if first else None
    delimiter = hint.group(1) if hint else _delimiter(lines[first - 1]) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            if not (hint and start == first):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        refused = UploadRefused(
            _(
                "Line %(line)s cannot be read as CSV (%(error)s): a value in quotes must end "
                "with a quote, and a quote inside it is written twice."
            )
            % {"line": start, "error": error},
            code="csv",
        )
        # For readers that report problems by line themselves (enrollment.oneroster).
        refused.line, refused.detail = start, str(error)
        raise refused from None


def column_key(name: str) -> str:
    """A header cell as a column name: lower case, words joined by "_" ("Birth Date" →
    "birth_date")."""
    return "_".join(re.sub(r"[^0-9a-z]+", " ", name.strip().lstrip("\ufeff").lower()).split())


@dataclass(frozen=True)
class CellProblem:
    """Something wrong in one cell (or, without a column, in the line as a whole)."""

    line: int
    column: str  # the column's heading as the file writes it
    message: str
    name: str = ""  # the column's name in SERS (the heading may be another spelling)

    def __str__(self) -> str:
        return f"{self.column}: {self.message}" if self.column else self.message


@dataclass
class TableRow:
    line: int
    values: dict  # column name -> the cleaned value, for the columns the file has
    problems: list[CellProblem]

    def get(self, name: str):
        """The cleaned value of a column; "" when the file lacks it, it is empty or bad."""
        value = self.values.get(name)
        return "" if value is None else value

    def ok(self, *names: str) -> bool:
        """Whether these columns' cells (all of them, without names) were accepted."""
        if not names:
            return not self.problems
        return not any(problem.name in names for problem in self.problems)


@dataclass
class Table:
    """An upload read by read_table: its rows, and the columns it had that SERS ignored."""

    rows: list[TableRow]
    ignored: list[str]  # headings of columns SERS does not use

    @property
    def problems(self) -> list[CellProblem]:
        return [problem for row in self.rows for problem in row.problems]

    @property
    def notices(self) -> list[str]:
        if not self.ignored:
            return []
        return [
            _("These columns are not used by this upload and were ignored: %(columns)s.")
            % {"columns": ", ".join(self.ignored)}
        ]


def read_table(
    upload: CheckedUpload,
    *,
    fields: dict[str, forms.Field],
    required=(),
    aliases: dict[str, str] | None = None,
    max_rows: int,
    sheet: str | None = None,
) -> Table:
    """The rows of a checked CSV or Excel upload, each cell cleaned by its column's field.

    The header is the first line with text; its headings are matched to `fields` by
    column_key, through `aliases` (another heading → the column's name). `required` lists
    alternatives, each a collection of column names that must all be there (at least one
    alternative must be). Blank lines are skipped; columns SERS does not know are ignored
    (Table.notices says so). Every cell's every problem is a CellProblem of its row: the
    field's messages (its limit, a NUL byte...), or a line with more cells than headings.

    Raises UploadRefused for the file as a whole: no header, missing or repeated columns,
    no rows, more than `max_rows` rows, CSV that cannot be read.
    """
    aliases = aliases or {}
    records = (
        (line, cells)
        for line, cells in upload.records(sheet=sheet)
        if any(cell.strip() for cell in cells)
    )
    try:
        _line, header = next(records)
    except StopIteration:
        raise UploadRefused(_("The file has no header line."), code="no_header") from None
    headings = [cell.strip().lstrip("\ufeff") for cell in header]
    names = [aliases.get(column_key(h), column_key(h)) for h in headings]
    known = [name if name in fields else None for name in names]
    repeated = sorted({n for n in known if n and known.count(n) > 1})
    if repeated:
        raise UploadRefused(
            _("The header line names these columns more than once: %(columns)s.")
            % {"columns": ", ".join(repeated)},
            code="repeated_columns",
        )
    groups = [list(group) for group in required]
    if groups and not any(all(name in known for name in group) for group in groups):
        if len(groups) == 1:
            message = _("Missing columns: %(columns)s.") % {
                "columns": ", ".join(n for n in groups[0] if n not in known)
            }
        else:
            message = _("The header line must name the columns: %(columns)s.") % {
                "columns": (" " + _("or") + " ").join(", ".join(sorted(g)) for g in groups)
            }
        raise UploadRefused(message, code="missing_columns")
    ignored = [h for h, name in zip(headings, known, strict=True) if h and name is None]
    rows: list[TableRow] = []
    for line, cells in records:
        if len(rows) >= max_rows:
            raise UploadRefused(
                _("The file has more than %(n)s rows. Split it into smaller files.")
                % {"n": max_rows},
                code="too_many_rows",
            )
        rows.append(_clean_row(line, cells, headings, known, fields))
    if not rows:
        raise UploadRefused(_("The file has a header but no rows."), code="no_rows")
    return Table(rows=rows, ignored=ignored)


def _clean_row(line, cells, headings, known, fields) -> TableRow:
    row = TableRow(line=line, values={}, problems=[])
    for index, name in enumerate(known):
        if name is None:
            continue
        raw = cells[index] if index < len(cells) else ""
        try:
            row.values[name] = fields[name].clean(raw)
        except ValidationError as error:
            row.values[name] = None
            row.problems += [
                CellProblem(line, headings[index], message, name=name) for message in error.messages
            ]
    extra = [cell for cell in cells[len(headings) :] if cell.strip()]
    if extra:
        row.problems.append(
            CellProblem(
                line,
                "",
                _(
                    "This line has %(cells)s cells but the header names %(columns)s columns: "
                    "put a value holding the delimiter (a comma or semicolon) in quotes."
                )
                % {"cells": len(cells), "columns": len(headings)},
            )
        )
    return row


# --- zip archives of CSV files ------------------------------------------------------------

ZIP_MAX_MEMBERS = 100
# CSV text packs 5 to 20 times smaller; a member that would grow more than this is refused
# before it is unpacked (a zip bomb).
ZIP_MAX_RATIO = 100


@dataclass(frozen=True)
class CheckedZip:
    name: str
    members: dict[str, bytes]  # each wanted member's name (without folders) -> its bytes


def _zip_refused(message: str, code: str) -> UploadRefused:
    return UploadRefused(message, code=code)


def check_zip(
    upload,
    *,
    wanted,
    max_bytes: int | None = None,
    max_member_bytes: int | None = None,
    max_unpacked_bytes: int = XLSX_MAX_UNPACKED_BYTES,
) -> CheckedZip:
    """Check an uploaded .zip and unpack the members `wanted(name)` accepts (name without
    folders). Every member's size is checked from the archive's directory before anything
    is unpacked (each at most `max_member_bytes`, all at most `max_unpacked_bytes`, none
    growing more than ZIP_MAX_RATIO times), and again while it is read: a directory that
    lies cannot make SERS unpack more. Other members are not read. Raises UploadRefused.
    The members are bytes: check each with check_upload (kinds=("csv",)) before reading it.
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "SERS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)
    if max_member_bytes is None:
        max_member_bytes = max_bytes
    name = str(getattr(upload, "name", "") or "")
    if _extension(name) != "zip":
        raise _zip_refused(_("Upload a file ending in .zip."), "extension")
    content = _read(upload, max_bytes)
    if _signature(content) != "zip":
        raise _zip_refused(
            _("This file is not a zip archive, although its name says so."), "not_zip"
        )
    unreadable = _zip_refused(
        _("The zip archive cannot be read. Make the archive again and upload it."), "bad_zip"
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise unreadable from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > ZIP_MAX_MEMBERS:
            raise _zip_refused(
                _("The zip archive holds more than %(n)s files.") % {"n": ZIP_MAX_MEMBERS},
                "too_many_members",
            )
        chosen = []
        for info in infos:
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if info.filename.startswith("__MACOSX/") or base.startswith("._"):
                continue
            if not wanted(base):
                continue
            if info.flag_bits & 0x1:
                raise _zip_refused(
                    _("The zip archive is protected by a password. Upload one without."),
                    "encrypted",
                )
            too_big = (
                info.file_size > max_member_bytes
                or info.file_size > max(info.compress_size, 1024) * ZIP_MAX_RATIO
            )
            if too_big:
                raise _zip_refused(
                    _("%(member)s in the zip archive is too large once unpacked.")
                    % {"member": base},
                    "too_large_unpacked",
                )
            chosen.append((base, info))
        if sum(info.file_size for _base, info in chosen) > max_unpacked_bytes:
            raise _zip_refused(
                _("This zip archive is too large once unpacked. Split it into smaller files."),
                "too_large_unpacked",
            )
        members: dict[str, bytes] = {}
        for base, info in chosen:
            if base in members:
                raise _zip_refused(
                    _("The zip archive holds %(member)s twice.") % {"member": base}, "duplicate"
                )
            try:
                with archive.open(info) as stream:
                    data = stream.read(max_member_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError):
                raise unreadable from None
            if len(data) > max_member_bytes or len(data) > info.file_size:
                raise _zip_refused(
                    _("%(member)s in the zip archive is too large once unpacked.")
                    % {"member": base},
                    "too_large_unpacked",
                )
            members[base] = data
    return CheckedZip(name=name, members=members)
