"""sers/uploads.py: size limit, type by name and content, encodings, and clear refusals."""

import io
import zipfile

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from sers import uploads
from sers.uploads import SpreadsheetField, UploadRefused, check_upload

ROWS = "agreement,course,teacher\r\nAG-1,Soldadura Básica,José Núñez\r\nAG-2,Café,Zoë\r\n"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["agreement", "course"])
    book.active.append(["AG-1", "Welding"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refusal(name: str, content: bytes, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check_upload(upload(name, content), **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (ROWS.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + ROWS.encode("utf-8"), "utf-8-sig"),
        (ROWS.encode("cp1252"), "cp1252"),
    ],
    ids=["utf-8", "utf-8-with-bom", "windows-1252"],
)
def test_csv_in_each_accepted_encoding_reads_the_same(content, encoding):
    checked = check_upload(upload("agreements.csv", content))
    assert checked.kind == "csv"
    assert checked.encoding == encoding
    assert checked.text == ROWS
    rows = list(checked.csv_rows())
    assert rows[1] == ["AG-1", "Soldadura Básica", "José Núñez"]


def test_windows_1252_curly_quotes_and_euro_sign():
    text = "name,note\r\nA,“quoted” \u2013 5 €\r\n"
    checked = check_upload(upload("notes.csv", text.encode("cp1252")))
    assert checked.text == text


def test_semicolon_separated_csv():
    checked = check_upload(upload("rows.csv", b"a;b;c\r\n1;2;3\r\n"))
    assert list(checked.csv_rows()) == [["a", "b", "c"], ["1", "2", "3"]]


def test_an_excel_workbook_is_accepted():
    checked = check_upload(upload("Agreements.XLSX", xlsx_bytes()))
    assert checked.kind == "xlsx"
    assert checked.text is None


def test_bytes_undefined_in_windows_1252_are_refused_with_advice():
    error = refusal("rows.csv", b"name\r\nJos\x81\r\n")
    assert error.code == "encoding"
    assert "CSV UTF-8" in error.messages[0]


def test_utf16_unicode_text_is_refused_with_advice():
    error = refusal("rows.csv", ROWS.encode("utf-16"))
    assert error.code == "utf16"
    assert "UTF-16" in error.messages[0]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("rows.csv", b"", "empty"),
        ("rows.csv", b" \r\n ", "empty"),
        ("rows.txt", ROWS.encode(), "extension"),
        ("rows", ROWS.encode(), "extension"),
        ("rows.csv.exe", ROWS.encode(), "extension"),
        ("rows.csv", xlsx_bytes(), "not_text"),  # a workbook renamed to .csv
        ("rows.csv", b"%PDF-1.7\n...", "not_text"),
        ("rows.csv", b"\x89PNG\r\n\x1a\n....", "not_text"),
        ("rows.csv", b"MZ\x90\x00\x03", "not_text"),
        ("rows.csv", b"a,b\r\n1,\x1b[31m2\r\n", "not_text"),  # a control character
        ("rows.csv", b"a,b\r\n1,\x002\r\n", "not_text"),  # NUL
        ("rows.xlsx", ROWS.encode(), "not_xlsx"),  # a CSV renamed to .xlsx
        ("rows.xlsx", b"PK\x03\x04not really a zip", "not_xlsx"),
        ("rows.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "old_xls"),
    ],
)
def test_refusals_say_what_is_wrong(name, content, code):
    error = refusal(name, content)
    assert error.code == code
    assert error.messages[0]


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert refusal("rows.xlsx", buffer.getvalue()).code == "not_xlsx"


def test_a_workbook_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "XLSX_MAX_UNPACKED_BYTES", 1000)
    assert refusal("big.xlsx", xlsx_bytes()).code == "too_large_unpacked"


def test_the_size_limit(settings):
    content = ROWS.encode() * 100
    assert check_upload(upload("rows.csv", content), max_bytes=len(content))
    error = refusal("rows.csv", content, max_bytes=len(content) - 1)
    assert error.code == "too_large"
    assert "limit" in error.messages[0]
    settings.SERS_UPLOAD_MAX_BYTES = 100
    assert refusal("rows.csv", content).code == "too_large"


def test_the_size_limit_holds_when_the_reported_size_lies():
    class Lying(io.BytesIO):
        name = "rows.csv"
        size = 10

    with pytest.raises(UploadRefused) as caught:
        check_upload(Lying(ROWS.encode() * 100), max_bytes=500)
    assert caught.value.code == "too_large"


def test_only_the_kinds_asked_for():
    assert refusal("rows.xlsx", xlsx_bytes(), kinds=("csv",)).code == "extension"
    with pytest.raises(ValueError, match="knows"):
        check_upload(upload("a.pdf", b"%PDF"), kinds=("pdf",))


class ImportForm(forms.Form):
    file = SpreadsheetField(kinds=("csv",), max_bytes=10_000)


def test_the_form_field_gives_a_checked_upload_or_a_form_error():
    good = ImportForm(files={"file": upload("rows.csv", b"\xef\xbb\xbf" + ROWS.encode())})
    assert good.is_valid()
    assert good.cleaned_data["file"].text == ROWS

    bad = ImportForm(files={"file": upload("rows.csv", ROWS.encode("utf-16"))})
    assert not bad.is_valid()
    assert "UTF-16" in bad.errors["file"][0]
    assert 'accept=".csv"' in str(bad["file"])
