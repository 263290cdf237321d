"""The file writers on their own: what a spreadsheet program gets from write_xlsx."""

import datetime
from decimal import Decimal

from openpyxl import load_workbook

from reports.exporters import sheet_name, write_xlsx


def read(path):
    sheet = load_workbook(path).active
    return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_values_keep_their_types_and_text_stays_text(tmp_path):
    path = tmp_path / "f.xlsx"
    rows = [
        ["=SUM(A1)", Decimal("5.0"), datetime.date(2027, 7, 1), None, 42, "Ñandú\x01"],
        ["-3", Decimal("3.5"), None, "", 7, "@home"],
    ]
    count = write_xlsx(path, ["a", "b", "c", "d", "e", "f"], iter(rows), "Transcript credit")
    title, cells = read(path)
    assert count == 2
    assert title == "Transcript credit"
    assert cells[0] == ["a", "b", "c", "d", "e", "f"]
    first, second = cells[1], cells[2]
    assert first[0] == "=SUM(A1)"  # a text cell: never run as a formula
    assert (first[1], first[2], first[3], first[4]) == (5, datetime.datetime(2027, 7, 1), None, 42)
    assert first[5] == "Ñandú_x0001_"  # XML cannot hold \x01: escaped as Excel does
    assert second[0] == "-3"
    assert second[5] == "@home"
    sheet = load_workbook(path).active
    assert sheet["A2"].data_type == "s"
    assert sheet["C2"].number_format == "yyyy-mm-dd"


def test_no_rows_still_gives_the_header_row(tmp_path):
    path = tmp_path / "empty.xlsx"
    assert write_xlsx(path, ["SERS ID", "Grade"], iter([]), "Enrollments") == 0
    assert read(path) == ("Enrollments", [["SERS ID", "Grade"]])


def test_a_sheet_title_excel_refuses_is_made_acceptable():
    assert sheet_name("Students: by district / high school [2026-27]") == (
        "Students- by district - high sc"
    )
    assert sheet_name("") == "Sheet1"
