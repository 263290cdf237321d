"""The three staff uploads (a class list, fee payments, posted credits) follow the rules of
the forms, through one reader: the same limits and text rules, each problem named by line
and column, any layout a spreadsheet program writes. (The agreement import:
tests/articulations/test_import.py.)"""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.permissions import access_for
from enrollment import importers
from enrollment.models import Enrollment, Fee, FeeChange
from tests.world import S, advance, enroll, settle_fee

pytestmark = pytest.mark.django_db
PAID_ON = datetime.date(2026, 11, 20)


@dataclass
class Kind:
    """One upload: its columns, a good row for a student, and how to run it."""

    name: str
    columns: list[str]
    text_column: str  # a column whose text is stored as it is
    limit: int  # that column's limit

    def row(self, place, student) -> dict[str, str]:
        values = {"sers_id": student.sers_id}
        if self.name == "roster":
            values["grade"] = "B"
        elif self.name == "fees":
            values["receipt_number"] = "R-1"
        else:
            values |= {"course": "CS 110", "college_student_id": "C-1"}
        return values

    def run(self, place, content: bytes, name="file.csv"):
        upload = SimpleUploadedFile(name, content)
        if self.name == "roster":
            return importers.roster_import(
                actor=place.teacher, section=place.section, upload=upload
            )
        if self.name == "fees":
            return importers.fee_import(
                actor=place.admin,
                access=access_for(place.admin),
                academic_year=place.section.academic_year,
                upload=upload,
                default_status="paid",
                default_paid_on=PAID_ON,
            )
        return importers.posted_credits_import(
            actor=place.registrar,
            access=access_for(place.registrar),
            upload=upload,
            default_posted_on=PAID_ON,
        )

    def stored(self, enrollment) -> str:
        """The text column's value as stored for the enrollment's student."""
        if self.name == "roster":
            return Enrollment.objects.get(pk=enrollment.pk).grade
        if self.name == "fees":
            return Fee.objects.get(student=enrollment.student).receipt_number
        return Enrollment.objects.get(pk=enrollment.pk).college_student_id


KINDS = [
    Kind("roster", ["sers_id", "grade"], "grade", 5),
    Kind("fees", ["sers_id", "receipt_number"], "receipt_number", 60),
    Kind("posted", ["sers_id", "course", "college_student_id"], "college_student_id", 30),
]


@pytest.fixture(params=KINDS, ids=[k.name for k in KINDS])
def kind(request, here):
    if request.param.name == "posted":
        advance(here.enrollments[0], S.ATTAINED)
        settle_fee(here.enrollments[0])
    return request.param


def csv_text(kind, rows, delimiter=",") -> str:
    lines = [delimiter.join(kind.columns)]
    lines += [delimiter.join(row[c] for c in kind.columns) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def state() -> list:
    return [
        sorted(Enrollment.objects.values_list("pk", "status", "grade", "college_student_id")),
        sorted(Fee.objects.values_list("pk", "status", "receipt_number")),
    ]


# --- the rules of the forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("R\x002", "Null characters are not allowed."),
        ("R\x1b2", "Remove the control character"),
    ],
    ids=["nul", "escape"],
)
def test_a_control_character_in_a_cell_is_refused_by_line_and_column(kind, here, value, message):
    row = kind.row(here, here.enrollments[0].student) | {kind.text_column: value}
    before = state()
    result = kind.run(here, csv_text(kind, [row]).encode())
    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [(2, kind.text_column)]
    assert message in result.problems[0].message
    assert result.applied == 0
    assert state() == before


def test_an_overlong_cell_is_refused_with_the_limit_never_cut(kind, here):
    long = "X" * (kind.limit + 1)
    row = kind.row(here, here.enrollments[0].student) | {kind.text_column: long}
    before = state()
    result = kind.run(here, csv_text(kind, [row]).encode())
    (problem,) = result.problems
    assert problem.line == 2
    assert problem.message == (
        f"{kind.text_column}: Ensure this value has at most {kind.limit} characters "
        f"(it has {kind.limit + 1})."
    )
    assert state() == before


def test_tabs_and_line_breaks_are_normalised_as_the_forms_do(kind, here):
    enrollment = here.enrollments[0]
    value = {"roster": "\tb+ ", "fees": "R-\t 7", "posted": " C-\t7"}[kind.name]
    row = kind.row(here, enrollment.student) | {kind.text_column: f'"{value}"'}
    result = kind.run(here, csv_text(kind, [row]).encode())
    assert result.problems == []
    assert result.applied == 1
    assert kind.stored(enrollment) == {"roster": "B+", "fees": "R- 7", "posted": "C- 7"}[kind.name]


def test_a_fee_note_keeps_its_lines_without_tabs_or_carriage_returns(here):
    fees = KINDS[1]
    student = here.enrollments[0].student
    text = f'sers_id,receipt_number,note\r\n{student.sers_id},R-1,"Paid\tat the\r\ncashier  "\r\n'
    result = fees.run(here, text.encode())
    assert result.applied == 1
    history = FeeChange.objects.filter(fee__student=student).latest("pk")
    assert history.note == "Paid at the\ncashier"


# --- one reader: every layout a spreadsheet writes -------------------------------------------


LAYOUTS = {
    "blank-lines-before-the-header": lambda text: ("\r\n\r\n" + text).encode(),
    "semicolons": lambda text: text.replace(",", ";").encode(),
    "tabs": lambda text: text.replace(",", "\t").encode(),
    "utf-8-with-bom": lambda text: b"\xef\xbb\xbf" + text.encode(),
    "excel-sep-line": lambda text: ("sep=;\r\n" + text.replace(",", ";")).encode(),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_upload_reads_every_layout(kind, here, layout):
    row = kind.row(here, here.enrollments[0].student)
    result = kind.run(here, LAYOUTS[layout](csv_text(kind, [row])))
    assert result.problems == []
    assert result.applied == 1


def test_extra_columns_are_ignored_with_a_notice(kind, here):
    row = kind.row(here, here.enrollments[0].student)
    text = csv_text(kind, [row])
    header, line, _end = text.split("\r\n")
    result = kind.run(here, f"Homeroom,{header},Notes\r\n7B,{line},call mum\r\n".encode())
    assert result.applied == 1
    assert result.notices == [
        "These columns are not used by this upload and were ignored: Homeroom, Notes."
    ]


def test_a_real_spreadsheet_export_with_accents_semicolons_and_a_bom(kind, here, year):
    """Excel's "CSV" in a European language (semicolons, Windows-1252), a byte-order mark
    in front: students matched by name and birth date, accents and all."""
    jose = enroll(
        here,
        year,
        legal_first_name="José",
        legal_last_name="Núñez",
        birth_date=datetime.date(2009, 4, 12),
    )
    if kind.name == "posted":
        advance(jose, S.ATTAINED)
        settle_fee(jose)
    row = {k: v for k, v in kind.row(here, jose.student).items() if k != "sers_id"}
    header = ["Nombre", "First Name", "Last Name", "Birth Date", *row]
    line = ["Peña", "José", "Núñez", "4/12/2009", *row.values()]
    text = ";".join(header) + "\r\n" + ";".join(line) + "\r\n"
    result = kind.run(here, b"\xef\xbb\xbf" + text.encode("cp1252"))
    assert result.problems == []
    assert result.applied == 1
    assert result.notices == ["These columns are not used by this upload and were ignored: Nombre."]


# --- every problem of a line ---------------------------------------------------------------


def test_a_repeated_student_does_not_hide_a_bad_grade_on_the_same_line(here):
    student = here.enrollments[0].student
    text = f"sers_id,grade\n{student.sers_id},A\n{student.sers_id},87\n"
    result = KINDS[0].run(here, text.encode())
    messages = [p.message for p in result.problems if p.line == 3]
    assert len(messages) == 2
    assert "line 2 too" in messages[0] or "line 2 too" in messages[1]
    assert any("letter grade" in m for m in messages)


def test_every_problem_of_a_fee_line_is_listed(here):
    text = "sers_id,paid_amount,paid_on,status\n123456789,ten,31/31/2026,refunded\n"
    result = KINDS[1].run(here, text.encode())
    messages = [p.message for p in result.problems]
    assert {p.line for p in result.problems} == {2}
    assert any(m.startswith("paid_amount:") for m in messages)
    assert any(m.startswith("paid_on:") for m in messages)
    assert any("No student with SERS id" in m for m in messages)
    assert any("paid or waived" in m for m in messages)


def test_every_problem_of_a_posted_credit_line_is_listed(here):
    advance(here.enrollments[0], S.ATTAINED)
    settle_fee(here.enrollments[0])
    student = here.enrollments[0].student
    text = (
        "sers_id,course,college_student_id,posted_on\n"
        f"{student.sers_id},CS 110,{'C' * 31},2099-01-01\n"
        f"{student.sers_id},,,\n"
    )
    before = state()
    result = KINDS[2].run(here, text.encode())
    found = [(p.line, p.message) for p in result.problems]
    assert [line for line, _m in found] == [2, 2, 3]
    assert "at most 30 characters" in found[0][1]
    assert "in the future" in found[1][1]
    assert "Give the college course and the college student id." in found[2][1]
    assert state() == before


# --- on the page --------------------------------------------------------------------------


def test_the_page_names_the_line_and_column_and_shows_the_notice(client, here):
    client.force_login(here.teacher)
    sers_id = here.enrollments[0].student.sers_id
    text = f"\r\nsers_id;grade;Period\r\n{sers_id};B;3\r\n{sers_id};ABCDEFG;3\r\n"
    response = client.post(
        reverse("enrollment:teacher_upload", args=[here.section.pk]),
        {"file": SimpleUploadedFile("list.csv", text.encode())},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 line needs fixing" in page  # two problems, one line
    assert "Line 4: grade: Ensure this value has at most 5 characters (it has 7)." in page
    assert "Line 4: The same student is on line 3 too." in page
    assert "were ignored: Period." in page
