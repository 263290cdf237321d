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
        upload.csv_rows() # CSV only: csv.reader over the text (delimiter sniffed: , ; tab)

In a form, `SpreadsheetField(kinds=..., max_bytes=...)` does the same in clean() and puts a
CheckedUpload in cleaned_data.

What is refused, each with a message that says what to do:
- an empty file, or one larger than `max_bytes` (default SERS_UPLOAD_MAX_BYTES, 10 MB);
- a name whose extension is not one of `kinds`;
- content that is not what the extension says: an .xlsx that is not an Excel workbook
  (a renamed file, an old .xls, a PDF), a .csv that is binary (a workbook renamed to .csv,
  a picture) or UTF-16 ("Unicode text" from Excel);
- a workbook that would unpack to more than XLSX_MAX_UNPACKED_BYTES (a zip bomb);
- text that is neither UTF-8 (with or without a byte-order mark) nor Windows-1252, or
  that holds control characters.
"""

import csv
import datetime
import io
import re
import zipfile
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
        """The rows of a CSV upload; the delimiter (comma, semicolon or tab) is sniffed."""
        if self.text is None:
            raise TypeError("csv_rows() is for CSV uploads.")
        sample = self.text[:8192]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return csv.reader(io.StringIO(self.text, newline=""), dialect)

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


def _decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else Windows-1252."""
    if content.startswith(UTF16_BOMS) or b"\x00" in content:
        signature = _signature(content)
        if signature is None and content.startswith(UTF16_BOMS):
            raise UploadRefused(
                _(
                    "This file is saved as UTF-16 (“Unicode text”). In Excel use Save As → "
                    "CSV UTF-8 (comma delimited), then upload that file."
                ),
                code="utf16",
            )
        raise _not_text()
    if _signature(content) is not None:
        raise _not_text()
    if content.startswith(UTF8_BOM):
        try:
            return content[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _bad_encoding() from None
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
    if _CONTROL_CHARACTER.search(text):
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
