"""The reports dashboard: numbers by role scope, small-cell suppression, fixed queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from openpyxl import load_workbook

from accounts.models import Role
from accounts.permissions import access_for
from enrollment.models import EnrollmentStatus as S
from reports import services
from reports.selectors import dashboard as dashboard_selectors
from reports.selectors.dashboard import Cell, Column, Row, Table, suppress_small_cells
from tests.factories import (
    AcademicYearFactory,
    EnrollmentFactory,
    FeeFactory,
    HighSchoolFactory,
    SectionFactory,
    StudentProfileFactory,
    cluster,
    make_staff,
)
from tests.reports.conftest import POSTED, College
from tests.world import advance, waive_fee

pytestmark = pytest.mark.django_db


def enroll(section, n, *, to=None, **student_fields):
    enrollments = [
        EnrollmentFactory(section=section, student=StudentProfileFactory(**student_fields))
        for _ in range(n)
    ]
    for enrollment in enrollments:
        if to:
            advance(enrollment, to)
    return enrollments


def cells(table: Table, label: str) -> dict:
    row = next(r for r in [*table.rows, table.total] if r and r.label == label)
    return {c.key: cell.display for c, cell in zip(table.columns, row.cells, strict=True)}


# --- suppression ----------------------------------------------------------------------


def breakdown(*rows, total) -> Table:
    columns = [Column("students", "Students", "students"), Column("enrollments", "Enrollments")]

    def row(label, students, enrollments):
        return Row(label, [Cell(students, students), Cell(enrollments, students)])

    return Table(
        key="t",
        title="t",
        row_header="g",
        columns=columns,
        rows=[row(*r) for r in rows],
        total=row("Total", *total),
    )


def test_a_group_under_ten_students_is_hidden_with_the_next_smallest():
    table = suppress_small_cells(
        breakdown(("A", 40, 60), ("B", 25, 30), ("C", 4, 5), total=(69, 95))
    )
    # C alone hidden would be 69 - 40 - 25 = 4: B (the next smallest) is hidden too.
    assert cells(table, "C") == {"students": "<10", "enrollments": "<10"}
    assert cells(table, "B") == {"students": "<10", "enrollments": "<10"}
    assert cells(table, "A") == {"students": "40", "enrollments": "60"}
    assert cells(table, "Total") == {"students": "69", "enrollments": "95"}


def test_two_small_groups_need_no_complement():
    table = suppress_small_cells(breakdown(("A", 40, 60), ("B", 3, 3), ("C", 4, 5), total=(47, 68)))
    assert cells(table, "A") == {"students": "40", "enrollments": "60"}
    assert cells(table, "B")["students"] == cells(table, "C")["students"] == "<10"


def test_a_single_row_breakdown_hides_its_total():
    table = suppress_small_cells(breakdown(("A", 9, 12), total=(9, 12)))
    assert cells(table, "A") == cells(table, "Total") == {"students": "<10", "enrollments": "<10"}


def test_a_single_hidden_row_with_no_other_row_to_hide_hides_the_total():
    table = suppress_small_cells(breakdown(("A", 5, 5), ("B", 0, 0), total=(12, 14)))
    assert cells(table, "Total") == {"students": "<10", "enrollments": "<10"}
    assert cells(table, "B") == {"students": "0", "enrollments": "0"}


def test_zero_and_ten_are_shown():
    table = suppress_small_cells(breakdown(("A", 10, 10), ("B", 0, 0), total=(10, 10)))
    assert cells(table, "A") == {"students": "10", "enrollments": "10"}
    assert cells(table, "B") == {"students": "0", "enrollments": "0"}


def test_a_small_fee_count_is_hidden_on_its_own_and_complemented():
    columns = [Column("students", "Students", "students"), Column("paid", "Paid", "students")]
    table = Table(
        key="t",
        title="t",
        row_header="g",
        columns=columns,
        rows=[
            Row("A", [Cell(50, 50), Cell(30, 30)]),
            Row("B", [Cell(40, 40), Cell(3, 3)]),
            Row("C", [Cell(45, 45), Cell(20, 20)]),
        ],
        total=Row("Total", [Cell(135, 135), Cell(53, 53)]),
    )
    suppress_small_cells(table)
    assert cells(table, "B") == {"students": "40", "paid": "<10"}
    assert cells(table, "C") == {"students": "45", "paid": "<10"}  # complement: 20 < 30
    assert cells(table, "A") == {"students": "50", "paid": "30"}


# --- numbers, by role scope -----------------------------------------------------------


@pytest.fixture
def three_consortia(year):
    """Consortium one: 13 students in a class (8 attained, 2 not, 1 transcribed, 2 still
    registered), fees: 10 waived, 1 paid. Consortium two: 3 students registered;
    consortium three: 11."""
    one = College(year)
    students = enroll(one.section, 8, to=S.ATTAINED)
    students += enroll(one.section, 2, to=S.NOT_ATTAINED)
    transcribed = EnrollmentFactory(section=one.section)
    advance(transcribed, S.TRANSCRIBED, transcribed_on=POSTED, college_student_id=None)
    students += [transcribed, *enroll(one.section, 1)]
    for enrollment in students[:10]:
        waive_fee(enrollment)
    FeeFactory(
        student=students[10].student,
        consortium=one.consortium,
        academic_year=year,
        status="paid",
        paid_on="2026-10-01",
    )
    enroll(one.section, 1)  # a 13th student, still registered
    two = College(year)
    enroll(two.section, 3)
    three = College(year)
    enroll(three.section, 11)
    return one, two, three


def test_state_staff_see_every_consortium(three_consortia, year):
    one, two, three = three_consortia
    state = access_for(make_staff(Role.STATE_STAFF))

    table = dashboard_selectors.breakdown_table(
        access=state, academic_year_id=year.pk, dimension="consortium"
    )

    assert {row.label for row in table.rows} == {
        one.consortium.name,
        two.consortium.name,
        three.consortium.name,
    }
    numbers = cells(table, one.consortium.name)
    assert numbers["students"] == "13"
    assert numbers["enrollments"] == "13"
    assert numbers["credits_attempted"] == "104"  # 13 x (5 + 3)
    assert numbers["credits_attained"] == "72"  # 9 attained or transcribed, x 8
    assert numbers["attainment_rate"] == "81.8%"  # 9 of 11 final grades
    assert numbers["transcribed_rate"] == "11.1%"  # 1 of 9
    assert numbers["fees_waived"] == "10"
    assert numbers["fees_paid"] == "<10"
    # Consortium two has 3 students: hidden. The total would give it away, so the next
    # smallest group (three, 11 students) is hidden too.
    assert cells(table, two.consortium.name)["students"] == "<10"
    assert cells(table, three.consortium.name)["credits_attempted"] == "<10"
    assert cells(table, "Total")["students"] == "27"
    assert cells(table, "Total")["fees_paid"] == "<10"  # one student


def test_consortium_admin_sees_only_their_consortium(three_consortia, year):
    one, _two, _three = three_consortia
    admin = access_for(make_staff(Role.CONSORTIUM_ADMIN, one.consortium))

    table = dashboard_selectors.breakdown_table(
        access=admin, academic_year_id=year.pk, dimension="college"
    )

    assert [row.label for row in table.rows] == [one.college.name]
    assert cells(table, "Total")["students"] == "13"


def test_career_specialist_sees_their_district(three_consortia, year):
    one, _two, _three = three_consortia
    district = one.section.high_school.district
    specialist = access_for(make_staff(Role.CAREER_SPECIALIST, district))

    table = dashboard_selectors.breakdown_table(
        access=specialist, academic_year_id=year.pk, dimension="high_school"
    )

    assert [row.label for row in table.rows] == [one.section.high_school.name]
    # Their own student at a school elsewhere shows up through the student's school.
    assert cells(table, "Total")["enrollments"] == "13"


def test_a_teacher_role_adds_nothing_to_reports(three_consortia, year):
    one, two, _three = three_consortia
    user = make_staff(Role.CONSORTIUM_ADMIN, two.consortium)
    one.section.teacher = user
    one.section.save()
    table = dashboard_selectors.breakdown_table(
        access=access_for(user), academic_year_id=year.pk, dimension="consortium"
    )
    assert [row.label for row in table.rows] == [two.consortium.name]


def test_demographics_are_self_reported_with_not_reported(year):
    place = College(year)
    enroll(place.section, 11, gender="female")
    enroll(place.section, 12, gender="")
    enroll(place.section, 2, gender="male")
    state = access_for(make_staff(Role.STATE_STAFF))

    table = dashboard_selectors.breakdown_table(
        access=state, academic_year_id=year.pk, dimension="gender"
    )

    assert [row.label for row in table.rows] == ["Not reported", "Female", "Male"]
    assert cells(table, "Male")["students"] == "<10"
    assert cells(table, "Female")["students"] == "<10"  # the complement of Male
    assert cells(table, "Not reported")["students"] == "12"
    assert cells(table, "Total")["students"] == "25"


def test_funnel_and_year_cluster(three_consortia, year):
    one, _two, _three = three_consortia
    earlier = AcademicYearFactory(start_year=2025)
    one.articulation.valid_years.add(earlier)
    old_class = SectionFactory(articulation=one.articulation, academic_year=earlier)
    enroll(old_class, 10)
    state = access_for(make_staff(Role.STATE_STAFF))

    funnel = dashboard_selectors.funnel_table(access=state, academic_year_id=year.pk)
    assert cells(funnel, "Registered") == {"enrollments": "27", "share": "100.0%"}
    assert cells(funnel, "Attained")["enrollments"] == "<10"  # 9 enrollments, 9 students
    assert cells(funnel, "Graded")["enrollments"] == "11"

    grid = dashboard_selectors.year_cluster_table(access=state)
    assert [c.label for c in grid.columns] == ["2025-26", "2026-27"]
    assert cells(grid, cluster().name) == {"2025-26": "10", "2026-27": "27"}
    assert cells(grid, "All clusters") == {"2025-26": "10", "2026-27": "27"}


def test_the_dashboard_reads_in_a_fixed_number_of_queries(year, django_assert_max_num_queries):
    place = College(year)
    enroll(place.section, 3, to=S.ATTAINED)
    state = access_for(make_staff(Role.STATE_STAFF))
    # Counted live (no aggregates built: one query looks), in a fixed number of queries.
    with django_assert_max_num_queries(11) as few:
        dashboard_selectors.dashboard_report(
            access=state, academic_year_id=year.pk, dimension="high_school"
        )
    for _ in range(3):
        other = College(year)
        enroll(other.section, 4, to=S.ATTAINED)
        SectionFactory(
            articulation=other.articulation,
            academic_year=year,
            high_school=HighSchoolFactory(district__consortium=other.consortium),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        dashboard_selectors.dashboard_report(
            access=state, academic_year_id=year.pk, dimension="high_school"
        )


# --- exports of the dashboard tables --------------------------------------------------


def test_every_table_exports_as_csv_and_xlsx_with_suppression(
    three_consortia, year, django_capture_on_commit_callbacks
):
    one, two, _three = three_consortia
    user = make_staff(Role.STATE_STAFF)
    for table in ("breakdown", "year_cluster", "funnel"):
        for file_format in ("csv", "xlsx"):
            with django_capture_on_commit_callbacks(execute=True):
                job = services.dashboard_export_request(
                    requester=user,
                    table=table,
                    academic_year=year,
                    dimension="consortium",
                    file_format=file_format,
                )
            job.refresh_from_db()
            assert job.status == "done", job.error
            assert job.export_log_entry is None  # counts only: no student records
            with default_storage.open(job.file, "rb") as handle:
                data = handle.read()
            if file_format == "csv":
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            else:
                sheet = load_workbook(io.BytesIO(data), read_only=True).active
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            assert job.row_count == len(rows) - 1
            if table == "breakdown":
                assert rows[0][:3] == ["Consortium", "Students", "Enrollments"]
                by_label = {r[0]: r for r in rows[1:]}
                assert by_label[two.consortium.name][1] == "<10"
                # XLSX numbers are doubles: openpyxl reads 13 back as 13.0.
                assert float(by_label[one.consortium.name][1]) == 13
                assert float(by_label["Total"][1]) == 27


def test_the_enrollments_export_has_ids_but_no_names(
    three_consortia, year, django_capture_on_commit_callbacks
):
    one, _two, _three = three_consortia
    admin = make_staff(Role.CONSORTIUM_ADMIN, one.consortium)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enrollments_export_request(
            requester=admin, academic_year=year, file_format="csv"
        )
    job.refresh_from_db()
    assert job.status == "done", job.error
    with default_storage.open(job.file, "rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert len(rows) == job.row_count == 13
    assert {row["Consortium"] for row in rows} == {one.consortium.name}
    assert "Legal last name" not in rows[0]
    assert {row["Credits"] for row in rows} == {"8.0"}
    assert {row["Fee"] for row in rows} == {"Waived", "Paid", ""}
    assert job.export_log_entry.student_count == 13
    assert job.export_log_entry.role == "consortium_admin"
    assert Decimal(rows[0]["Credits"]) == Decimal("8.0")


@pytest.mark.postgres
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_enrollments_csv_written_by_copy_is_the_file_python_writes(
    three_consortia, year, language, tmp_path, monkeypatch
):
    """On PostgreSQL the statewide CSV is written by COPY; cell for cell it is the file
    the row-by-row writer makes: labels in the language, credits, blanks, the formula
    guard on text that a spreadsheet would run, dates as ISO."""
    from django.utils import translation

    from reports import exporters
    from reports.models import ReportJob

    one, _two, _three = three_consortia
    one.section.high_school.name = '=HYPERLINK("http://x.example") Ñandú High'
    one.section.high_school.save()
    one.section.high_school.district.name = '-Ridge, "North"\nDistrict'
    one.section.high_school.district.save()
    state = make_staff(Role.STATE_STAFF)
    job = ReportJob.objects.create(
        kind="enrollments", requested_by=state, academic_year=year, file_format="csv"
    )
    exporter = exporters.exporter_for(job, access_for(state))
    with translation.override(language):
        by_copy = exporter.write(tmp_path / "copy.csv", lambda done: None)
        monkeypatch.setattr(exporters, "can_copy", lambda queryset: False)
        by_rows = exporter.write(tmp_path / "rows.csv", lambda done: None)
    copied, written = (tmp_path / "copy.csv").read_bytes(), (tmp_path / "rows.csv").read_bytes()
    assert by_copy == by_rows == 27
    assert copied == written
    rows = list(csv.reader(io.StringIO(copied.decode("utf-8-sig"))))
    assert len(rows) == 28
    assert '\'=HYPERLINK("http://x.example") Ñandú High' in {row[6] for row in rows}
    assert '\'-Ridge, "North"\nDistrict' in {row[5] for row in rows}
    assert {row[16] for row in rows[1:]} >= {"8.0"}
    assert POSTED.isoformat() in {row[18] for row in rows}
