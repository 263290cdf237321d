"""sers/uploads.py: size limit, type by name and content, encodings, and clear refusals."""

import io
import zipfile

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from sers import uploads
from sers.text import TextBlockField, TextLineField
from sers.uploads import SpreadsheetField, UploadRefused, check_upload, read_table

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
        ("rows.csv", b"a,b\r\n" + bytes(range(1, 9)) * 4 + b"\r\n", "not_text"),  # binary
        ("rows.csv", "a,b\r\n1,2\r\n".encode("utf-16-le"), "utf16"),  # without a BOM
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


# --- read_table: the one reader of every upload ----------------------------------------------

FIELDS = {
    "name": TextLineField(max_length=10, required=False),
    "note": TextBlockField(max_length=20, required=False),
    "when": forms.DateField(required=False),
}


def table(content: bytes, name: str = "rows.csv", **kwargs):
    options = {"fields": FIELDS, "required": [["name"]], "max_rows": 10, **kwargs}
    return read_table(check_upload(upload(name, content)), **options)


@pytest.mark.parametrize(
    "content",
    [
        b"name,note\r\nAna,hi\r\n",
        b"\r\n\r\n  \r\nname,note\r\nAna,hi\r\n",  # blank lines before the header
        b"name;note\r\nAna;hi\r\n",  # Excel in many languages
        b"sep=;\r\nname;note\r\nAna;hi\r\n",  # Excel's delimiter line
        b"name\tnote\r\nAna\thi\r\n",
        b"\xef\xbb\xbfName;Note\r\n\r\nAna;hi\r\n;\r\n",  # BOM, headings, blank rows
    ],
    ids=["comma", "blank-lines-first", "semicolon", "sep-line", "tab", "bom-and-blank-rows"],
)
def test_every_layout_of_the_same_table_reads_the_same(content):
    read = table(content)
    assert [(row.get("name"), row.get("note")) for row in read.rows] == [("Ana", "hi")]
    assert read.problems == []
    assert read.notices == []


def test_a_real_spreadsheet_export_bom_semicolons_and_windows_1252():
    """Excel's "CSV" in a European language: semicolons, Windows-1252; some tools put a
    UTF-8 byte-order mark in front all the same."""
    text = "Name;Note;When\r\nJosé;Núñez, “Peña”;2026-11-20\r\n"
    for content in (text.encode("cp1252"), b"\xef\xbb\xbf" + text.encode("cp1252")):
        (row,) = table(content).rows
        assert (row.get("name"), row.get("note")) == ("José", "Núñez, “Peña”")
        assert row.get("when").isoformat() == "2026-11-20"


def test_extra_columns_are_ignored_with_a_notice():
    read = table(b"name,Colour,note,\r\nAna,red,hi,\r\n")
    assert read.rows[0].values == {"name": "Ana", "note": "hi"}
    assert read.ignored == ["Colour"]
    assert "Colour" in read.notices[0]


def test_every_problem_of_every_cell_is_named_with_line_and_column():
    read = table(
        b"name,note,when\r\n"
        b"Ana,ok,2026-01-01\r\n"
        b"Ana\x00,\x1b[31m,soon\r\n"  # line 3: NUL, a control character, not a date
        b"Bartholomew the Great,ok,\r\n"  # line 4: longer than 10
        b"Cy,ok,,surplus\r\n"  # line 5: a cell beyond the header
    )
    found = [(p.line, p.column, p.name, p.message) for p in read.problems]
    assert [(line, column) for line, column, _n, _m in found] == [
        (3, "name"),
        (3, "note"),
        (3, "when"),
        (4, "name"),
        (5, ""),
    ]
    assert "Null characters" in found[0][3]
    assert "control character" in found[1][3]
    assert "at most 10 characters (it has 21)" in found[3][3]
    assert "quotes" in found[4][3]
    assert not read.rows[1].ok("name")
    assert read.rows[1].ok("unknown")
    assert read.rows[1].get("name") == ""  # a refused cell gives no value


def test_cells_are_normalised_as_the_forms_normalise_them():
    (row,) = table(b'name,note\r\n" Ana\t  Mar\xc3\xada ","one\ttwo  \r\nthree\r"\r\n').rows
    assert row.get("name") == "Ana María"
    assert row.get("note") == "one two\nthree"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\r\n,,\r\n", "empty"),
        (b"note\r\nhi\r\n", "missing_columns"),
        (b"name,Name\r\nA,B\r\n", "repeated_columns"),
        (b"name\r\n", "no_rows"),
        (b"name\r\n" + b"A\r\n" * 11, "too_many_rows"),
        (b'name\r\n"A\r\n', "csv"),
    ],
)
def test_what_makes_a_whole_file_unusable(content, code):
    with pytest.raises(UploadRefused) as caught:
        table(content)
    assert caught.value.code in (code, "no_header")


def test_a_workbook_reads_like_a_csv_file():
    book = Workbook()
    book.active.append([])
    book.active.append(["Name", "Note", "Extra"])
    book.active.append(["Ana", "one\ttwo", "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    read = table(buffer.getvalue(), name="rows.xlsx")
    assert [(row.line, row.get("name"), row.get("note")) for row in read.rows] == [
        (3, "Ana", "one two")
    ]
    assert read.ignored == ["Extra"]
