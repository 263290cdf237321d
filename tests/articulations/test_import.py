"""Bulk import: every row checked first, all or nothing, and a re-import changes nothing."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from articulations.importers import COLUMN_NAMES
from articulations.models import Articulation, ArticulationStatusChange, HighSchoolCourse
from articulations.services.bulk_import import ImportRejected, articulation_import
from articulations.terms import TermsContext

from .conftest import history

pytestmark = pytest.mark.django_db
S = Articulation.Status
IMPORT = reverse("articulations:import")


def row(world, **overrides) -> dict:
    values = {
        "agreement_number": "IMP-1",
        "version": "1",
        "college_code": world.college.code,
        "high_school_course": "Auto Tech 1",
        "cip_code": "47.0604",
        "local_code": "AT1",
        "high_schools": f"{world.school.code}; {world.skills_center.code}",
        "college_courses": "acct 101",
        "cluster": "Transportation, Distribution & Logistics",
        "minimum_grade_scale": "points",
        "minimum_grade": "3",
        "valid_years": world.year.code,
        "competencies": "Brakes | Engines",
        "teachers": world.teacher.email.upper(),
        "renew_each_year": "yes",
    }
    values.update(overrides)
    return values


def as_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMN_NAMES)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def as_xlsx(rows: list[dict]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMN_NAMES)
    for values in rows:
        sheet.append([values[name] for name in COLUMN_NAMES])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def do_import(world, content: bytes, filename="agreements.csv"):
    return articulation_import(
        actor=world.admin, consortium_id=world.consortium.pk, filename=filename, content=content
    )


def state() -> tuple:
    return (
        sorted(
            Articulation.objects.values_list(
                "pk", "agreement_number", "version", "status", "minimum_grade", "updated_at"
            )
        ),
        sorted(
            Articulation.high_schools.through.objects.values_list(
                "articulation_id", "highschool_id"
            )
        ),
        sorted(
            Articulation.valid_years.through.objects.values_list(
                "articulation_id", "academicyear_id"
            )
        ),
        ArticulationStatusChange.objects.count(),
        HighSchoolCourse.objects.count(),
    )


def test_import_creates_drafts_and_a_reimport_changes_nothing(world):
    content = as_csv(
        [row(world), row(world, agreement_number="IMP-2", high_school_course="Auto Tech 2")]
    )
    result = do_import(world, content)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    imported = Articulation.objects.get(agreement_number="IMP-1")
    assert imported.status == S.DRAFT
    assert imported.minimum_grade == "3.0"
    assert imported.competencies == "Brakes\nEngines"
    assert set(imported.high_schools.all()) == {world.school, world.skills_center}
    assert list(imported.college_courses.all()) == [world.course]
    assert list(imported.qualified_teachers.all()) == [world.teacher]
    assert imported.cluster.code == "TR"
    assert history(imported) == [("", S.DRAFT)]
    assert "agreements.csv" in imported.status_changes.get().note
    before = state()
    again = do_import(world, content)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert state() == before


def test_xlsx_works_the_same(world):
    content = as_xlsx([row(world, version=1, minimum_grade=3.0)])
    assert do_import(world, content, "agreements.xlsx").created == 1
    assert do_import(world, content, "agreements.xlsx").unchanged == 1


def test_one_bad_row_stops_the_whole_file_and_each_problem_has_its_line(world):
    before = state()
    content = as_csv(
        [
            row(world),  # line 2: fine
            row(world, agreement_number="IMP-2", college_code="NOPE", minimum_grade="X"),
            row(world, agreement_number="IMP-3", high_schools="ZZZ", valid_years="1990-91"),
            row(
                world,
                agreement_number="IMP-4",
                college_courses="CS 999",
                teachers="who@example.org",
            ),
            row(world),  # line 6: the same key as line 2
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, content)
    problems = rejected.value.problems
    lines = {line for line, _message in problems}
    assert lines == {3, 4, 5, 6}
    text = " ".join(message for _line, message in problems)
    assert "NOPE is not a college" in text
    assert "ZZZ is not a school" in text
    assert "1990-91 is not a school year" in text
    assert "CS 999 is not in CASC's catalog" in text
    assert "who@example.org is not a teacher" in text
    assert "also on line 2" in text
    assert state() == before


def test_grade_and_cip_problems_are_reported_by_column(world):
    content = as_csv([row(world, minimum_grade="5.5", cip_code="4706")])
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, content)
    messages = [message for _line, message in rejected.value.problems]
    assert any(m.startswith("minimum_grade:") for m in messages)
    assert any(m.startswith("cip_code:") for m in messages)


def test_line_numbers_follow_the_file_with_multiline_cells(world):
    content = as_csv(
        [
            row(world, competencies="Brakes\nEngines\nTires"),
            row(world, agreement_number="IMP-2", cluster="Nope"),
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, content)
    assert [line for line, _m in rejected.value.problems] == [5]


def test_a_changed_draft_is_updated_but_a_changed_active_version_is_refused(world):
    do_import(world, as_csv([row(world)]))
    result = do_import(world, as_csv([row(world, minimum_grade="3.5")]))
    assert result.updated == 1
    assert Articulation.objects.get(agreement_number="IMP-1").minimum_grade == "3.5"
    existing = row(
        world,
        agreement_number="CASC-001",
        high_school_course="Accounting 1",
        cip_code="52.0301",
        local_code="",
        high_schools=world.school.code,
        cluster="FN",
        minimum_grade_scale="letter",
        minimum_grade="B",
        competencies="Use spreadsheets|Write a business letter",
    )
    assert do_import(world, as_csv([existing])).unchanged == 1
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, as_csv([{**existing, "minimum_grade": "A"}]))
    assert "import it as version 2" in rejected.value.problems[0][1]


def test_a_next_version_is_imported_as_a_revision(world):
    revision = row(
        world,
        agreement_number="CASC-001",
        version="2",
        high_school_course="Accounting 1",
        cip_code="52.0301",
        high_schools=world.school.code,
        cluster="FN",
        minimum_grade_scale="letter",
        minimum_grade="B-",
    )
    result = do_import(world, as_csv([revision]))
    assert result.created == 1
    new = Articulation.objects.get(agreement_number="CASC-001", version=2)
    assert new.status == S.DRAFT
    assert new.previous_version == world.active
    assert new.minimum_grade == "B-"
    assert do_import(world, as_csv([revision])).unchanged == 1
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, as_csv([{**revision, "version": "4"}]))
    assert "no version 3" in rejected.value.problems[0][1]


def test_agreements_of_another_consortium_are_refused(world, outsider_admin):
    from tests.factories import ArticulationFactory

    ArticulationFactory(agreement_number="THEIRS-1")
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, as_csv([row(world, agreement_number="THEIRS-1")]))
    assert "another consortium" in rejected.value.problems[0][1]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("a.txt", b"x", "Upload a file ending in .csv, .xlsx"),
        ("a.csv", b"", "The file is empty"),
        ("a.csv", b"agreement_number,colour\n", "Missing columns: version, college_code"),
        ("a.xlsx", b"not a zip", "not an Excel workbook"),
    ],
)
def test_unreadable_files_are_explained(world, filename, content, message):
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, content, filename)
    assert message in rejected.value.problems[0][1]


def test_only_a_consortium_admin_imports(world, outsider_admin):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        articulation_import(
            actor=outsider_admin, consortium_id=world.consortium.pk, filename="a.csv", content=b""
        )


# ---------------------------------------------------------------------------------------
# Views


def test_import_page_imports_and_lists_problems(client, world):
    client.force_login(world.admin)
    assert client.get(IMPORT).status_code == 200
    bad = SimpleUploadedFile("a.csv", as_csv([row(world, college_code="NOPE")]))
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": bad})
    assert response.status_code == 200
    assert response.context["problems"] == [
        (2, "college_code: NOPE is not a college of this consortium.")
    ]
    assert b"Nothing was imported" in response.content
    assert not Articulation.objects.filter(agreement_number="IMP-1").exists()
    good = SimpleUploadedFile("a.csv", as_csv([row(world)]))
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": good}, follow=True)
    assert b"1 created" in response.content
    assert Articulation.objects.filter(agreement_number="IMP-1").exists()


def test_import_page_anonymous_wrong_role_outsider(client, world, outsider_admin):
    assert client.get(IMPORT).status_code == 302
    client.force_login(world.approver)
    assert client.get(IMPORT).status_code == 403
    client.force_login(outsider_admin)
    upload = SimpleUploadedFile("a.csv", as_csv([row(world)]))
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": upload})
    assert "consortium" in response.context["form"].errors
    assert not Articulation.objects.filter(agreement_number="IMP-1").exists()


def test_templates_download_with_the_consortium_codes(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("articulations:import_template_csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == COLUMN_NAMES
    assert world.college.code in rows[1]
    response = client.get(reverse("articulations:import_template_xlsx"))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Agreements", "Instructions"]
    assert [c.value for c in workbook["Agreements"][1]] == COLUMN_NAMES
    client.force_login(world.approver)
    assert client.get(reverse("articulations:import_template_csv")).status_code == 403


def test_the_filled_in_template_imports(world):
    from articulations.importers import template_csv

    world.teacher.qualifications.all().delete()
    content = template_csv(context=TermsContext.load(world.consortium.pk))
    assert do_import(world, content).created == 1


def test_a_large_file_is_written_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    rows = [row(world, agreement_number=f"BULK-{i}", high_school_course=f"C {i}") for i in range(5)]
    with django_assert_max_num_queries(40) as few:
        do_import(world, as_csv(rows))
    rows = [
        row(world, agreement_number=f"MORE-{i}", high_school_course=f"D {i}") for i in range(60)
    ]
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert do_import(world, as_csv(rows)).created == 60
    imported = Articulation.objects.get(agreement_number="MORE-59")
    assert set(imported.high_schools.all()) == {world.school, world.skills_center}
    assert imported.high_school_course.local_code == "AT1"
    assert history(imported) == [("", S.DRAFT)]


def test_an_agreement_number_in_another_case_is_refused(world):
    with pytest.raises(ImportRejected) as rejected:
        do_import(world, as_csv([row(world, agreement_number="casc-001")]))
    assert "already has this agreement as CASC-001" in rejected.value.problems[0][1]


# ---------------------------------------------------------------------------------------
# A course title the consortium already has under another CIP code


def test_a_title_known_under_another_cip_code_becomes_a_second_course(world, client):
    """A high-school course is its title and CIP code together: the file's code does not
    change the existing course (its agreements keep theirs), and the page says so."""
    other = HighSchoolCourse.objects.create(
        consortium=world.consortium, title="Auto Tech 1", cip_code="11.0101", local_code="OLD"
    )
    result = do_import(world, as_csv([row(world)]))
    assert result.created == 1
    other.refresh_from_db()
    assert (other.cip_code, other.local_code) == ("11.0101", "OLD")
    course = Articulation.objects.get(agreement_number="IMP-1").high_school_course
    assert (course.title, course.cip_code, course.local_code) == ("Auto Tech 1", "47.0604", "AT1")
    (notice,) = result.notices
    assert notice.startswith("Line 2: SERS has the course “Auto Tech 1” with CIP code 11.0101;")
    assert "separate course with CIP code 47.0604" in notice
    again = do_import(world, as_csv([row(world)]))
    assert (again.unchanged, again.notices) == (1, [])

    # A draft moved to the other code uses that course; neither course changes.
    moved = do_import(world, as_csv([row(world, cip_code="11.0101", local_code="")]))
    assert moved.updated == 1
    assert Articulation.objects.get(agreement_number="IMP-1").high_school_course == other
    other.refresh_from_db()
    assert (other.cip_code, other.local_code) == ("11.0101", "OLD")

    client.force_login(world.admin)
    upload = SimpleUploadedFile(
        "a.csv", as_csv([row(world, agreement_number="IMP-9", cip_code="47.0605")])
    )
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": upload}, follow=True)
    assert "SERS has the course “Auto Tech 1” with CIP code 11.0101, 47.0604" in (
        response.content.decode()
    )


# ---------------------------------------------------------------------------------------
# The rules of the form, through the reader of every upload


def csv_with(rows: list[dict], *, delimiter=",", extra: dict | None = None) -> str:
    buffer = io.StringIO()
    names = [*COLUMN_NAMES, *(extra or {})]
    writer = csv.DictWriter(buffer, fieldnames=names, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([{**values, **(extra or {})} for values in rows])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("high_school_course", "Auto\x00Tech", "Null characters are not allowed."),
        (
            "competencies",
            "Brakes\x07",
            "Remove the control character (a character that cannot be typed) from this text.",
        ),
        (
            "high_school_course",
            "A" * 201,
            "Ensure this value has at most 200 characters (it has 201).",
        ),
        ("local_code", "L" * 21, "Ensure this value has at most 20 characters (it has 21)."),
        ("minimum_grade", "3.00000", "Ensure this value has at most 5 characters (it has 7)."),
    ],
    ids=["nul", "bell", "long-title", "long-local-code", "long-grade"],
)
def test_a_refused_cell_is_named_by_line_and_column_once(world, column, value, message):
    before = state()
    with pytest.raises(ImportRejected) as rejected:
        do_import(
            world, as_csv([row(world), row(world, agreement_number="IMP-2", **{column: value})])
        )
    assert rejected.value.problems == [(3, f"{column}: {message}")]
    assert state() == before


def test_tabs_and_line_breaks_are_normalised_as_the_form_does(world):
    values = row(
        world, high_school_course=" Auto\tTech  1 ", competencies="Brakes\t and more\r\nEngines\r"
    )
    do_import(world, as_csv([values]))
    imported = Articulation.objects.get(agreement_number="IMP-1")
    assert imported.high_school_course.title == "Auto Tech 1"
    assert imported.competencies == "Brakes and more\nEngines"


@pytest.mark.parametrize(
    "layout",
    ["blank-lines-before-the-header", "semicolons", "tabs", "excel-sep-line"],
)
def test_the_layouts_a_spreadsheet_writes(world, layout):
    text = {
        "blank-lines-before-the-header": lambda: "\r\n\r\n" + csv_with([row(world)]),
        "semicolons": lambda: csv_with([row(world)], delimiter=";"),
        "tabs": lambda: csv_with([row(world)], delimiter="\t"),
        "excel-sep-line": lambda: "sep=;\r\n" + csv_with([row(world)], delimiter=";"),
    }[layout]()
    result = do_import(world, text.encode())
    assert (result.created, result.notices) == (1, [])


def test_extra_columns_are_ignored_with_a_notice_on_the_page(world, client):
    text = csv_with([row(world)], extra={"Reviewer": "Pat", "Notes": "ok"})
    result = do_import(world, text.encode())
    assert result.created == 1
    assert result.notices == [
        "These columns are not used by this upload and were ignored: Reviewer, Notes."
    ]
    client.force_login(world.admin)
    upload = SimpleUploadedFile(
        "a.csv", csv_with([row(world, college_code="NOPE")], extra={"Notes": "x"}).encode()
    )
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": upload})
    assert "were ignored: Notes." in response.content.decode()
    assert response.context["problems"] == [
        (2, "college_code: NOPE is not a college of this consortium.")
    ]


def test_a_real_spreadsheet_export_bom_semicolons_and_windows_1252(world):
    """Excel's "CSV" in Spanish: semicolons and Windows-1252, with a byte-order mark in
    front as some tools add."""
    text = csv_with([row(world, high_school_course="Diseño Gráfico — Núñez")], delimiter=";")
    do_import(world, b"\xef\xbb\xbf" + text.encode("cp1252"))
    course = Articulation.objects.get(agreement_number="IMP-1").high_school_course
    assert course.title == "Diseño Gráfico — Núñez"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"x", "Upload a file ending in .csv, .xlsx."),
        ("a.csv", "agreement_number\r\n".encode("utf-16"), "saved as UTF-16"),
        ("a.xlsx", b"%PDF-1.7", "not an Excel workbook"),
    ],
)
def test_the_page_checks_the_file_as_every_upload_is_checked(client, world, name, content, message):
    client.force_login(world.admin)
    upload = SimpleUploadedFile(name, content)
    response = client.post(IMPORT, {"consortium": world.consortium.pk, "file": upload})
    assert message in response.context["form"].errors["file"][0]
