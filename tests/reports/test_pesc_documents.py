"""PESC College Transcript documents: every one SERS builds validates against PESC's
published schema set, read from the shared standards folder (never copied here).

One module-wide batch is built once from realistic synthetic data: students whose names
carry accents, hyphens, apostrophes, middle names and more than PESC's 35 characters,
three school years, every term, every grade scale of organisations/grades.py, several
high schools (a skills center among them) and college courses with long titles. Each
document is validated with lxml and the test fails on the first invalid one with the
schema's own message; SERS's extension elements are validated against
reports/pesc_extensions.xsd too.
"""

import datetime
import hashlib
import io
import json
import uuid
import zipfile
from decimal import Decimal

import factory.random
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from lxml import etree

from accounts.models import Role
from enrollment.models import Enrollment, EnrollmentStatus, Section
from organisations.grades import GradeScale
from reports import pesc
from reports.models import ReportJob
from reports.services import report_job_run
from tests.factories import (
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    DistrictFactory,
    HighSchoolFactory,
    UserFactory,
    make_staff,
)
from tests.world import add_agreement, add_enrollment, add_fee, add_skills_center, add_student
from tests.world import school_year as make_school_year

SCHEMA_PATH = pesc.SCHEMA_DIR / pesc.SCHEMA_FILE
pytestmark = pytest.mark.skipif(
    not SCHEMA_PATH.exists(),
    reason=f"PESC's College Transcript v1.8.0 schema set is not at {pesc.SCHEMA_DIR}",
)

STUDENTS = 240
FIRST_NAMES = [
    "María José", "Zoë", "Renée", "José", "Siobhán", "D'Andre", "Jean-Luc", "Anne-Marie",
    "Łukasz", "Søren", "Chloé", "Mary Kate", "Nguyễn Thị", "Ana-Sofía", "O'Neal", "Ümit",
]  # fmt: skip
LAST_NAMES = [
    "O'Brien", "Núñez-García", "D'Angelo", "Smith-Jones", "Ngô", "Müller", "St. John",
    "de la Cruz", "Ó Súilleabháin", "Van der Berg", "Kowalczyk-Wiśniewska", "Peña",
    "Ruiz-O'Connor", "Çelik", "N'Diaye", "Åberg",
]  # fmt: skip
MIDDLE_NAMES = ["", "Inés", "Lee", "", "Marie-Claire", "", "D'Arcy", ""]
LONG_FIRST = "Maximiliana Esperanza Guadalupe-Inés"  # 36 characters
LONG_LAST = "Fernández de Córdoba y Montenegro-O'Sullivan"  # 44 characters
# A well-formed grade in each scale that meets the agreement's minimum.
GRADES = {
    GradeScale.LETTER: ["A", "A-", "B+", "B", "C+", "C"],
    GradeScale.POINTS: ["4.0", "3.7", "3.2", "2.5", "2.0"],
    GradeScale.PERCENT: ["100", "93", "87", "78", "70"],
}
MINIMUMS = {GradeScale.LETTER: "C", GradeScale.POINTS: "2.0", GradeScale.PERCENT: "70"}
TERMS = [Section.Term.FULL_YEAR, Section.Term.FALL, Section.Term.SPRING]
LONG_TITLE = (
    "Introduction to Computer-Aided Drafting, Design and Manufacturing for Building "
    "Trades: Blueprints, Estimating, Codes and Safety on the Job Site"
)  # 141 characters: PESC's CourseTitle holds 120


class BatchWorld:
    """A college with an agreement in each grade scale, classes in three school years and
    every term at three schools, and STUDENTS students with attained, ready credits."""

    def __init__(self):
        self.years = [make_school_year(start) for start in (2024, 2025, 2026)]
        consortium = ConsortiumFactory(name="Cascadia Ridge Consortium")
        self.college = CollegeFactory(
            consortium=consortium, name="Cascadia Ridge Community College", code="CRCC"
        )
        district = DistrictFactory(consortium=consortium, name="Ridge School District")
        self.schools = [
            HighSchoolFactory(district=district, name="Lincoln-Roosevelt High School"),
            HighSchoolFactory(
                district=district,
                name="École Internationale Saint-Exupéry d'Olympia, Campus Nord-Ouest",
            ),
            add_skills_center(district, serves=[district], name="Ridge Skills Center"),
        ]
        self.registrar = make_staff(Role.REGISTRAR, self.college)
        self.state = make_staff(Role.STATE_STAFF)
        teachers = [
            UserFactory(first_name="Zoë", last_name="Hernández-O'Malley"),
            UserFactory(first_name="Kwame", last_name="Mensah"),
            UserFactory(first_name="Brigitte", last_name="Lefèvre"),
        ]
        courses = {
            GradeScale.LETTER: [
                CollegeCourseFactory(
                    college=self.college, prefix="ACCT", number="101", title="Accounting I",
                    credits=Decimal("5.0"),
                ),
                CollegeCourseFactory(
                    college=self.college, prefix="ACCT", number="102", title="Accounting II",
                    credits=Decimal("3.0"),
                ),
            ],
            GradeScale.POINTS: [
                CollegeCourseFactory(
                    college=self.college, prefix="DRFT", number="110L", title=LONG_TITLE,
                    credits=Decimal("4.5"),
                )
            ],
            GradeScale.PERCENT: [
                CollegeCourseFactory(
                    college=self.college, prefix="NURS", number="100", title="Nursing Assistant",
                    credits=Decimal("2.0"),
                )
            ],
        }  # fmt: skip
        self.sections = []
        for scale in GradeScale.values:
            agreement = add_agreement(
                consortium,
                self.college,
                self.years,
                courses=courses[scale],
                schools=self.schools,
                minimum_grade_scale=scale,
                minimum_grade=MINIMUMS[scale],
            )
            for y, year in enumerate(self.years):
                for t, term in enumerate(TERMS):
                    self.sections.append(
                        Section.objects.create(
                            articulation=agreement,
                            teacher=teachers[(y + t) % len(teachers)],
                            high_school=self.schools[(y + t) % len(self.schools)],
                            academic_year=year,
                            term=term,
                            section_code=f"P{t + 1}",
                        )
                    )
        self.students = []
        for n in range(STUDENTS):
            student = add_student(
                self.schools[n % 2],
                legal_first_name=LONG_FIRST if n % 50 == 7 else FIRST_NAMES[n % 16],
                legal_middle_name=MIDDLE_NAMES[n % 8],
                legal_last_name=LONG_LAST if n % 50 == 11 else LAST_NAMES[(n // 16) % 16],
                birth_date=datetime.date(2007, 9, 1) + datetime.timedelta(days=11 * n),
            )
            self.students.append(student)
            # One to three classes, in different years, scales and terms.
            taken = {(n * 7 + k * 10) % len(self.sections) for k in range(1 + n % 3)}
            years_paid = set()
            for index in sorted(taken):
                section = self.sections[index]
                scale = section.articulation.minimum_grade_scale
                enrollment = add_enrollment(
                    student,
                    section,
                    EnrollmentStatus.ATTAINED,
                    grade=GRADES[scale][(n + index) % len(GRADES[scale])],
                )
                if n % 9 == 4:  # known from an earlier posting, one too long for PESC
                    college_id = f"C{n:07d}" if n % 2 else f"CRCC-STUDENT-{n:010d}"
                    Enrollment.objects.filter(pk=enrollment.pk).update(
                        college_student_id=college_id
                    )
                if section.academic_year_id not in years_paid:
                    add_fee(student, consortium, section.academic_year, "waived")
                    years_paid.add(section.academic_year_id)


def run_job(world: BatchWorld, requested_by, **fields) -> ReportJob:
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        file_format=ReportJob.Format.PESC,
        requested_by=requested_by,
        college=world.college,
        origin=ReportJob.Origin.SITE if requested_by else ReportJob.Origin.NIGHTLY,
        nightly_key=None if requested_by else f"transcript:pesc-test:{uuid.uuid4().hex}",
        **fields,
    )
    assert report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


def read_zip(job: ReportJob) -> dict[str, bytes]:
    with default_storage.open(job.file, "rb") as handle, zipfile.ZipFile(handle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The data and the registrar's batch, built once for the module (rolled back after)."""
    factory.random.reseed_random("sers:pesc-documents")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("m")):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = BatchWorld()
            built.job = run_job(built, built.registrar)
            built.files = read_zip(built.job)
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


@pytest.fixture(scope="module")
def extensions_schema():
    return etree.XMLSchema(etree.parse(str(pesc.EXTENSIONS_SCHEMA)))


def documents(files: dict[str, bytes]) -> list[tuple[str, etree._Element]]:
    return [
        (name, etree.fromstring(content))
        for name, content in files.items()
        if name != pesc.MANIFEST_NAME
    ]


def validate_all(files, schema, extensions_schema) -> int:
    """Validate every document (and its SERS extensions); fail on the first invalid one."""
    count = 0
    for name, root in documents(files):
        if not schema.validate(root):
            pytest.fail(f"{name} is not a valid PESC College Transcript: {schema.error_log}")
        for element in root.iter(f"{{{pesc.SERS_NAMESPACE}}}*"):
            if element.getparent().tag != "UserDefinedExtensions":
                continue
            if not extensions_schema.validate(etree.ElementTree(element)):
                pytest.fail(f"{name}: SERS extension invalid: {extensions_schema.error_log}")
        count += 1
    return count


def by_sers_id(files) -> dict[str, etree._Element]:
    return {root.findtext("Student/Person/AgencyAssignedID"): root for _n, root in documents(files)}


# --- validity ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_document_validates_against_the_pesc_schema(
    world, schema, extensions_schema, record_property
):
    count = validate_all(world.files, schema, extensions_schema)

    assert count == STUDENTS  # one document per student
    record_property("pesc_documents_validated", count)
    print(f"\nPESC College Transcript documents validated against the schema: {count}")


@pytest.mark.django_db
@pytest.mark.parametrize("start_year", [2024, 2025, 2026])
@pytest.mark.parametrize("term", TERMS)
def test_each_year_and_terms_batch_validates_too(
    world, schema, extensions_schema, start_year, term
):
    year = next(y for y in world.years if y.start_date.year == start_year)
    job = run_job(world, world.registrar, academic_year=year, term=term)

    files = read_zip(job)

    assert validate_all(files, schema, extensions_schema) == len(files) - 1 > 0
    session_types = {
        root.findtext("Student/AcademicRecord/AcademicSession/AcademicSessionDetail/SessionType")
        for _name, root in documents(files)
    }
    assert session_types == {"FullYear" if term == "year" else "Semester"}


# --- what the documents carry -------------------------------------------------------------


@pytest.mark.django_db
def test_legal_names_survive_with_accents_hyphens_and_apostrophes(world):
    docs = by_sers_id(world.files)
    cut = 0
    for student in world.students:
        name = docs[student.sers_id].find("Student/Person/Name")
        assert name.findtext("NameCode") == "Legal"
        for tag, value in (
            ("FirstName", student.legal_first_name),
            ("MiddleName", student.legal_middle_name),
            ("LastName", student.legal_last_name),
        ):
            assert name.findtext(tag) == (value[: pesc.NAME_MAX].rstrip() or None), tag
        full = docs[student.sers_id].find(
            "Student/UserDefinedExtensions/{*}Student/{*}FullLegalName"
        )
        if max(len(student.legal_first_name), len(student.legal_last_name)) > pesc.NAME_MAX:
            cut += 1
            assert full.findtext(f"{{{pesc.SERS_NAMESPACE}}}FirstName") == student.legal_first_name
            assert full.findtext(f"{{{pesc.SERS_NAMESPACE}}}LastName") == student.legal_last_name
        else:
            assert full is None
    assert cut >= 2
    text = b"".join(world.files.values()).decode()
    for sample in ("Núñez-García", "O'Brien", "Ruiz-O'Connor", "Nguyễn Thị", "Łukasz", "Çelik"):
        assert sample in text


@pytest.mark.django_db
def test_every_grade_scale_school_year_and_term_is_carried(world):
    courses = [
        course
        for _name, root in documents(world.files)
        for course in root.iterfind("Student/AcademicRecord/AcademicSession/Course")
    ]
    assert len(courses) == world.job.row_count
    ext = f"UserDefinedExtensions/{{{pesc.SERS_NAMESPACE}}}Course/{{{pesc.SERS_NAMESPACE}}}"
    assert {c.findtext(ext + "GradeScale") for c in courses} == set(GradeScale.values)
    assert {c.findtext(ext + "SchoolYear") for c in courses} == {y.code for y in world.years}
    assert {c.findtext(ext + "Term") for c in courses} == set(Section.Term.values)
    assert {c.findtext("CourseCreditBasis") for c in courses} == {"HighSchoolDualCredit"}
    for course in courses:
        entered = course.findtext(ext + "GradeAsEntered")
        scale = course.findtext(ext + "GradeScale")
        assert entered in GRADES[scale]
        letter = course.findtext("CourseAcademicGrade")
        assert letter[:1] in ("A", "B", "C")
        points = Decimal(course.findtext(ext + "GradePoints"))
        credits = Decimal(course.findtext("CourseCreditValue"))
        assert Decimal(course.findtext("CourseQualityPointsEarned")) == points * credits
    long_titles = [c for c in courses if c.findtext(ext + "FullCourseTitle")]
    assert long_titles
    assert {len(c.findtext("CourseTitle")) for c in long_titles} == {pesc.COURSE_TITLE_MAX}
    assert {c.findtext(ext + "FullCourseTitle") for c in long_titles} == {LONG_TITLE}


@pytest.mark.django_db
def test_ids_schools_and_agreements(world):
    docs = by_sers_id(world.files)
    student = world.students[13]  # n % 9 == 4 and odd: a college student id that fits
    root = docs[student.sers_id]
    person = root.find("Student/Person")
    assert person.findtext("AgencyAssignedID") == student.sers_id
    assert person.findtext("AgencyIdentifier/AgencyAssignedID") == student.sers_id
    assert person.findtext("AgencyIdentifier/AgencyCode") == "State"
    assert person.findtext("RecipientAssignedID") == "C0000013"
    too_long = docs[world.students[4].sers_id]  # even: 23 characters, PESC holds 20
    assert too_long.find("Student/Person/RecipientAssignedID") is None
    assert "CRCC-STUDENT-0000000004" in etree.tostring(too_long).decode()

    assert (
        root.findtext("TransmissionData/Destination/Organization/LocalOrganizationID/"
                      "LocalOrganizationIDCode")
        == "CRCC"
    )  # fmt: skip
    school_codes = {s.code: s for s in world.schools}
    for _name, doc in documents(world.files):
        for record in doc.iterfind("Student/AcademicRecord"):
            school = record.find("School")
            code = school.findtext("LocalOrganizationID/LocalOrganizationIDCode")
            assert school.findtext("OrganizationName") == school_codes[code].name[:60].rstrip()
            qualifier = school.findtext("LocalOrganizationID/LocalOrganizationIDQualifier")
            assert qualifier == settings.SERS_STATE_CODE
    agreements = {
        node.text
        for _name, doc in documents(world.files)
        for node in doc.iter(f"{{{pesc.SERS_NAMESPACE}}}AgreementNumber")
    }
    assert agreements == {s.articulation.agreement_number for s in world.sections}


# --- the zip and its manifest ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_manifest_lists_every_document_with_its_checksum(world):
    manifest = json.loads(world.files[pesc.MANIFEST_NAME])

    assert world.job.file_name.endswith(".zip")
    assert manifest["format"] == pesc.BATCH_FORMAT
    assert manifest["document_namespace"] == pesc.PESC_NAMESPACE
    assert (manifest["report_job"], manifest["college"]) == (world.job.pk, "CRCC")
    assert manifest["document_count"] == len(manifest["documents"]) == STUDENTS
    assert manifest["course_count"] == world.job.row_count
    assert sorted(d["file"] for d in manifest["documents"]) == sorted(
        name for name in world.files if name != pesc.MANIFEST_NAME
    )
    for entry in manifest["documents"]:
        content = world.files[entry["file"]]
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        root = etree.fromstring(content)
        assert root.findtext("Student/Person/AgencyAssignedID") == entry["sers_id"]
        assert entry["file"] == f"{entry['sers_id']}.xml"
        assert (
            len(root.findall("Student/AcademicRecord/AcademicSession/Course")) == (entry["courses"])
        )
    assert sum(d["courses"] for d in manifest["documents"]) == world.job.row_count
    # The manifest names no one: SERS ids only.
    text = world.files[pesc.MANIFEST_NAME].decode()
    for student in world.students[:20]:
        assert student.legal_last_name not in text
        assert student.birth_date.isoformat() not in text


@pytest.mark.django_db
def test_an_empty_batch_is_a_zip_with_an_empty_manifest(world):
    job = run_job(world, world.registrar, only_new=True, marks_sent=True)
    again = run_job(world, world.registrar, only_new=True, marks_sent=True)

    assert job.row_count == world.job.row_count
    files = read_zip(again)
    assert list(files) == [pesc.MANIFEST_NAME]
    manifest = json.loads(files[pesc.MANIFEST_NAME])
    assert (manifest["document_count"], manifest["course_count"], manifest["documents"]) == (
        0,
        0,
        [],
    )


# --- the field-level policy: birth dates ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "shown"), [("registrar", True), (None, True), ("state", False)]
)
def test_birth_dates_follow_the_field_level_policy(
    world, schema, extensions_schema, persona, shown
):
    """The registrar's file and SERS's own (nightly, command) carry the birth date, to
    match the student; a file state staff ask for does not (exporters.shows_birth_date)."""
    requester = {"registrar": world.registrar, "state": world.state, None: None}[persona]
    job = run_job(world, requester, academic_year=world.years[0])
    files = read_zip(job)
    assert validate_all(files, schema, extensions_schema) > 0

    docs = by_sers_id(files)
    born = {s.sers_id: s.birth_date for s in world.students}
    for sers_id, root in docs.items():
        birth = root.findtext("Student/Person/Birth/BirthDate")
        assert birth == (born[sers_id].isoformat() if shown else None)
    archive_text = b"".join(files.values()).decode()
    assert any(born[s].isoformat() in archive_text for s in docs) is shown


@pytest.mark.django_db
def test_the_download_is_a_zip(client, world):
    client.force_login(world.registrar)
    job = run_job(world, world.registrar, academic_year=world.years[1], term="fall")

    response = client.get(reverse("reports:report_job_download", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="{job.file_name}"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert pesc.MANIFEST_NAME in archive.namelist()
