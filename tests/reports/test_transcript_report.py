"""The transcript-credit report: which rows, which columns, every format parses back."""

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from lxml import etree
from openpyxl import load_workbook

from articulations.models import Articulation
from enrollment.models import EnrollmentStatus as S
from enrollment.models import Section
from organisations.models import ConsortiumPolicy
from reports.models import ReportJob, TranscriptReportRow
from reports.pesc import PESC_NAMESPACE, SERS_NAMESPACE
from reports.services import report_job_run
from reports.transcript_credit import grade_equivalents
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    CollegeCourseFactory,
    ConsortiumPolicyFactory,
    EnrollmentFactory,
    SectionFactory,
    StudentProfileFactory,
)
from tests.reports.conftest import POSTED, College
from tests.world import advance, waive_fee

pytestmark = pytest.mark.django_db

NS = {"s": SERS_NAMESPACE}


def build(college: College, file_format="csv", **fields) -> ReportJob:
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        file_format=file_format,
        requested_by=college.registrar,
        college=college.college,
        **fields,
    )
    assert report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


def read_csv(job: ReportJob) -> list[dict]:
    with default_storage.open(job.file, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_rows_included_and_excluded_and_why(college, year):
    included = college.eligible(legal_last_name="Aguilar", legal_first_name="Ana")

    unpaid = EnrollmentFactory(section=college.section)
    advance(unpaid)  # attained, but the fee is not paid or waived
    unverified = EnrollmentFactory(section=college.section, student__user__email_verified_at=None)
    advance(unverified)
    waive_fee(unverified)  # fee settled, but the email is not verified
    not_attained = EnrollmentFactory(section=college.section)
    advance(not_attained, S.NOT_ATTAINED, grade="D")
    waive_fee(not_attained)
    transcribed = EnrollmentFactory(section=college.section)
    advance(transcribed, S.TRANSCRIBED, transcribed_on=POSTED, college_student_id=None)
    waive_fee(transcribed)
    still_graded = EnrollmentFactory(section=college.section)
    advance(still_graded, S.GRADED)
    waive_fee(still_graded)
    other_college = College(year).eligible()

    job = build(college)

    rows = read_csv(job)
    assert {row["SERS enrollment id"] for row in rows} == {str(included.pk)}
    assert job.row_count == 2  # one row per college course of the agreement
    assert set(
        TranscriptReportRow.objects.filter(job=job).values_list("enrollment", flat=True)
    ) == {included.pk}
    assert other_college.pk not in {int(row["SERS enrollment id"]) for row in rows}


def test_no_fee_charged_counts_as_settled(college, year):
    ConsortiumPolicyFactory(consortium=college.consortium, academic_year=year, annual_fee=0)
    free = EnrollmentFactory(section=college.section)
    advance(free)  # no fee row at all: the consortium charges nothing this year

    rows = read_csv(build(college))

    assert {row["SERS enrollment id"] for row in rows} == {str(free.pk)}
    assert ConsortiumPolicy.objects.count() == 1


def test_columns_hold_what_a_registrar_needs(college):
    enrollment = college.eligible(
        legal_first_name="María",
        legal_middle_name="José",
        legal_last_name="Núñez",
        birth_date=datetime.date(2009, 3, 14),
    )
    teacher = college.section.teacher

    rows = read_csv(build(college))

    first, second = rows
    assert first["SERS ID"] == enrollment.student.sers_id
    assert (first["Legal last name"], first["Legal first name"], first["Legal middle name"]) == (
        "Núñez",
        "María",
        "José",
    )
    assert first["Birth date"] == "2009-03-14"
    assert (first["Course prefix"], first["Course number"], first["Course title"]) == (
        "ACCT",
        "101",
        "Accounting I",
    )
    assert (second["Course number"], second["Credits"]) == ("102", "3.0")
    assert first["Credits"] == "5.0"
    assert first["Grade as entered"] == "A"
    assert (first["Letter grade"], first["Grade points"]) == ("A", "4.0")
    assert first["School year"] == "2026-27"
    assert first["Term"] == "Full year"
    assert first["High school"] == college.section.high_school.name
    assert first["Teacher"] == f"{teacher.first_name} {teacher.last_name}"
    assert first["Articulation"] == college.articulation.agreement_number
    assert first["Articulation version"] == "1"


def test_college_student_id_when_known(college):
    enrollment = college.eligible()
    # Known from an earlier transcription at this college: the registrar entered it.
    type(enrollment).objects.filter(pk=enrollment.pk).update(college_student_id="C-778899")

    rows = read_csv(build(college))

    assert {row["College student ID"] for row in rows} == {"C-778899"}


@pytest.mark.parametrize(
    ("scale", "grade", "letter", "points"),
    [
        ("letter", "B+", "B+", Decimal("3.3")),
        ("percent", "87", "B+", Decimal("3.3")),
        ("percent", "59", "F", Decimal("0.0")),
        ("points", "3.2", "B", Decimal("3.2")),
        ("points", "4.0", "A", Decimal("4.0")),
        ("letter", "nonsense", "", None),
    ],
)
def test_grade_equivalents(scale, grade, letter, points):
    assert grade_equivalents(scale, grade) == (letter, points)


def test_grade_in_a_percent_scale_is_converted(college, year):
    articulation = ArticulationFactory(
        consortium=college.consortium,
        college=college.college,
        college_courses=[CollegeCourseFactory(college=college.college)],
        minimum_grade_scale="percent",
        minimum_grade="80",
        valid_years=[year],
    )
    section = SectionFactory(articulation=articulation, academic_year=year)
    college.eligible(section=section, grade="87")

    (row,) = read_csv(build(college))

    assert (row["Grade as entered"], row["Grade scale"]) == ("87", "Percent (0-100)")
    assert (row["Letter grade"], row["Grade points"]) == ("B+", "3.3")


def test_year_and_term_filters(college, year):
    next_year = AcademicYearFactory(start_year=2027)
    college.articulation.valid_years.add(next_year)
    fall = SectionFactory(
        articulation=college.articulation, academic_year=year, term=Section.Term.FALL
    )
    later = SectionFactory(articulation=college.articulation, academic_year=next_year)
    in_fall = college.eligible(section=fall)
    full_year = college.eligible()
    next_years = college.eligible(section=later)

    def ids(job):
        return {int(row["SERS enrollment id"]) for row in read_csv(job)}

    assert ids(build(college, academic_year=year)) == {in_fall.pk, full_year.pk}
    assert ids(build(college, academic_year=year, term=Section.Term.FALL)) == {in_fall.pk}
    assert ids(build(college)) == {in_fall.pk, full_year.pk, next_years.pk}


def test_marking_as_sent_and_only_new_rows(college):
    first = college.eligible()
    sent = build(college, marks_sent=True)
    assert sent.row_count == 2
    second = college.eligible()

    only_new = build(college, only_new=True, marks_sent=True)
    everything = build(college)

    assert {int(r["SERS enrollment id"]) for r in read_csv(only_new)} == {second.pk}
    assert {int(r["SERS enrollment id"]) for r in read_csv(everything)} == {first.pk, second.pk}
    # Nothing new now: the next "only new" report is empty, and touches no enrollment.
    empty = build(college, only_new=True, marks_sent=True)
    assert empty.row_count == 0
    first.refresh_from_db()
    assert first.status == S.ATTAINED


def test_a_failed_report_does_not_count_as_sent(college):
    enrollment = college.eligible()
    failed = build(college, marks_sent=True)
    ReportJob.objects.filter(pk=failed.pk).update(status=ReportJob.Status.FAILED)

    again = build(college, only_new=True)

    assert {int(r["SERS enrollment id"]) for r in read_csv(again)} == {enrollment.pk}


def test_xlsx_parses_back_with_typed_cells(college):
    enrollment = college.eligible(birth_date=datetime.date(2009, 5, 6))
    job = build(college, file_format="xlsx")

    with default_storage.open(job.file, "rb") as handle:
        workbook = load_workbook(handle, read_only=True)
        rows = list(workbook.active.iter_rows(values_only=True))

    header, first, second = rows
    assert header[0] == "SERS ID"
    assert first[0] == enrollment.student.sers_id
    assert first[header.index("Birth date")].date() == datetime.date(2009, 5, 6)
    assert first[header.index("Credits")] == 5
    assert second[header.index("Course number")] == "102"
    assert job.file_name.endswith(".xlsx")


def test_text_that_looks_like_a_formula_stays_text(college):
    college.eligible(legal_last_name='=HYPERLINK("http://x")', legal_first_name="+1")

    (row, _second) = read_csv(build(college))
    assert row["Legal last name"] == '\'=HYPERLINK("http://x")'
    assert row["Legal first name"] == "'+1"

    job = build(college, file_format="xlsx")
    with default_storage.open(job.file, "rb") as handle:
        sheet = load_workbook(handle).active
        assert sheet["B2"].value == '=HYPERLINK("http://x")'
        assert sheet["B2"].data_type == "s"


def test_pesc_batch_parses_back(college, year):
    articulation = ArticulationFactory(
        consortium=college.consortium,
        college=college.college,
        college_courses=[CollegeCourseFactory(college=college.college, prefix="CS", number="110")],
        minimum_grade_scale="points",
        minimum_grade="2.0",
        valid_years=[year],
    )
    second_class = SectionFactory(articulation=articulation, academic_year=year)
    student = StudentProfileFactory(legal_first_name="Lin", legal_last_name="Ortega")
    for section, grade in ((college.section, "B"), (second_class, "3.2")):
        enrollment = EnrollmentFactory(student=student, section=section)
        advance(enrollment, grade=grade)
    waive_fee(enrollment)
    other = college.eligible(legal_last_name="Zeller")

    job = build(college, file_format="pesc")
    with default_storage.open(job.file, "rb") as handle, zipfile.ZipFile(handle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        documents = [etree.fromstring(archive.read(d["file"])) for d in manifest["documents"]]

    assert job.file_name.endswith(".zip")
    assert [d["sers_id"] for d in manifest["documents"]] == [student.sers_id, other.student.sers_id]
    assert len(documents) == 2  # one per student
    lin = documents[0]
    assert lin.tag == f"{{{PESC_NAMESPACE}}}CollegeTranscript"
    assert (
        lin.findtext(
            "TransmissionData/Destination/Organization/LocalOrganizationID/LocalOrganizationIDCode"
        )
        == college.college.code
    )
    assert lin.findtext("Student/Person/AgencyAssignedID") == student.sers_id
    assert lin.findtext("Student/Person/Name/LastName") == "Ortega"
    assert lin.findtext("Student/Person/Birth/BirthDate") == student.birth_date.isoformat()
    courses = lin.findall("Student/AcademicRecord/AcademicSession/Course")
    assert len(courses) == 3  # ACCT 101, ACCT 102 and CS 110
    assert {c.findtext("CourseCreditBasis") for c in courses} == {"HighSchoolDualCredit"}
    cs = next(c for c in courses if c.findtext("CourseSubjectAbbreviation") == "CS")
    assert cs.findtext("CourseAcademicGrade") == "B"
    assert cs.findtext("UserDefinedExtensions/s:Course/s:GradeAsEntered", namespaces=NS) == "3.2"
    assert cs.findtext("CourseCreditValue") == "5.0"
    assert job.row_count == 3 + 2
    assert documents[1].findtext("Student/Person/Name/LastName") == "Zeller"


def test_a_revised_agreement_reports_its_version(college, year):
    Articulation.objects.filter(pk=college.articulation.pk).update(status="expired")
    revision = ArticulationFactory(
        consortium=college.consortium,
        college=college.college,
        agreement_number=college.articulation.agreement_number,
        version=2,
        previous_version=college.articulation,
        college_courses=[college.courses[0]],
        valid_years=[year],
    )
    college.eligible(section=SectionFactory(articulation=revision, academic_year=year))

    (row,) = read_csv(build(college))

    assert (row["Articulation"], row["Articulation version"]) == (revision.agreement_number, "2")
    assert row["Articulation id"] == str(revision.pk)
