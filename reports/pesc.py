"""PESC College Transcript v1.8.0 documents of the transcript-credit report.

A batch for one college is a zip: one CollegeTranscript document per student (the schema's
root is one student's transcript) named `<SERS ID>.xml`, and `manifest.json` listing each
file with its SERS ID, number of courses and SHA-256. Each document validates against
PESC's published schema set (CollegeTranscript_v1.8.0.xsd with CoreMain v1.19.0 and
AcademicRecord v1.13.0); tests/reports/test_pesc_documents.py checks it.

The layout of a document (element order, lengths and codes as the schema has them):

- TransmissionData: DocumentID `SERS-<job>-<SERS ID>`, DocumentTypeCode
  "InstitutionRequest", TransmissionType "Original" ("Reissue" for a re-run of an earlier
  report), Source SERS and Destination the college (LocalOrganizationID: the code, with
  the state as qualifier), DocumentProcessCode "PRODUCTION".
- Student/Person: AgencyAssignedID and AgencyIdentifier (the SERS ID, a state agency's
  id), RecipientAssignedID (the college student id, when known and it fits), BirthDate
  (only when the reader may see it: the exporter blanks it), the legal Name.
- One AcademicRecord per high school the student took classes at (School: its name and
  state building code), one AcademicSession per school year and term, one Course per
  college course: CourseCreditBasis "HighSchoolDualCredit", CourseCreditLevel
  "DualHighSchoolCollege", credits, the letter grade, quality points, prefix, number,
  title and the teacher (CourseInstructor).
- What PESC has no element for goes in UserDefinedExtensions, in the namespace
  urn:sers:pesc-extensions:1 (reports/pesc_extensions.xsd): the report job, the SERS ID,
  the enrollment, agreement number and version, the grade as entered and its scale, and
  any value PESC's length limits cut, in full.

Documents are built one student at a time and written straight into the zip, so memory
holds one student's transcript whatever the size of the batch.
"""

import datetime
import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from lxml import etree

from .transcript_credit import TranscriptRecord, grade_equivalents

PESC_NAMESPACE = "urn:org:pesc:message:CollegeTranscript:v1.8.0"
SERS_NAMESPACE = "urn:sers:pesc-extensions:1"
# The schema set the documents follow, kept outside the project (PESC's own files); tests
# and operators validate against it (docs/connecting-college-systems.md).
SCHEMA_DIR = Path(settings.BASE_DIR).parent / "shared/standards/pesc-collegetranscript-1.8.0"
SCHEMA_FILE = "CollegeTranscript_v1.8.0.xsd"
EXTENSIONS_SCHEMA = Path(__file__).with_name("pesc_extensions.xsd")
MANIFEST_NAME = "manifest.json"
BATCH_FORMAT = "sers-pesc-college-transcript-batch"
BATCH_FORMAT_VERSION = 1

# Codes from the schema's enumerations.
CREDIT_BASIS = "HighSchoolDualCredit"
CREDIT_LEVEL = "DualHighSchoolCollege"
DOCUMENT_TYPE = "InstitutionRequest"
AGENCY_CODE = "State"
MUTUALLY_DEFINED_QUALIFIER = "ZZ"  # a LocalOrganizationIDQualifier: "mutually defined"
# CoreMain's StateProvinceCodeType (US states and territories, Canadian provinces).
STATE_CODES = frozenset((
    "AA", "AB", "AE", "AK", "AL", "AP", "AR", "AS", "AZ", "BC", "CA", "CO", "CT", "CZ", "DC",
    "DE", "FL", "FM", "GA", "GU", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MB",
    "MD", "ME", "MH", "MI", "MN", "MO", "MP", "MS", "MT", "NB", "NC", "ND", "NE", "NF", "NH",
    "NJ", "NL", "NM", "NS", "NT", "NU", "NV", "NY", "OH", "OK", "ON", "OR", "PA", "PE", "PR",
    "PW", "QC", "RI", "SC", "SD", "SK", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV",
    "WY", "YT",
))  # fmt: skip
SESSION_TYPES = {"year": "FullYear", "fall": "Semester", "spring": "Semester"}
# English on purpose: a data file reads the same whatever language the site speaks.
TERM_NAMES = {"year": "Full year", "fall": "Fall", "spring": "Spring"}

# PESC's length limits (characters).
NAME_MAX = 35  # FirstName, MiddleName, LastName
ORGANIZATION_NAME_MAX = 60
COURSE_TITLE_MAX = 120
RECIPIENT_ID_MAX = 20
SUBJECT_MAX = 10
COURSE_NUMBER_MAX = 15
SESSION_NAME_MAX = 30

# Characters XML 1.0 cannot hold (control characters, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Batch:
    """What every document of one batch shares."""

    job_id: int
    college_code: str
    college_name: str
    created: datetime.datetime
    reissue: bool = False

    @property
    def state_code(self) -> str:
        code = settings.SERS_STATE_CODE.strip().upper()
        return code if code in STATE_CODES else ""

    @property
    def qualifier(self) -> str:
        return self.state_code or MUTUALLY_DEFINED_QUALIFIER


def _text(value) -> str:
    """The text of a value, without what XML cannot hold and without outer spaces."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never an exponent: xs:decimal has none
    return _NOT_XML.sub("", str(value)).strip()


def _cut(value, limit: int) -> str:
    return _text(value)[:limit].rstrip()


_CONTAINER = object()


def _add(parent, tag: str, value=_CONTAINER, *, limit: int | None = None):
    """A child element: a container, or one with a text, only when the text is not
    empty (else None)."""
    if value is _CONTAINER:
        return etree.SubElement(parent, tag)
    text = _cut(value, limit) if limit else _text(value)
    if not text:
        return None
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _sers(parent, tag: str, value=_CONTAINER):
    return _add(parent, f"{{{SERS_NAMESPACE}}}{tag}", value)


def _organization_id(parent, tag: str, code: str, batch: Batch) -> None:
    """A LocalOrganizationID: the code and, as qualifier, the state that assigned it."""
    code = _cut(code, 35)
    if not code:
        return
    local = _add(parent, tag)
    _add(local, "LocalOrganizationIDCode", code)
    _add(local, "LocalOrganizationIDQualifier", batch.qualifier)


def _organization(parent, tag: str, *, name: str, code: str, batch: Batch) -> None:
    organization = _add(_add(parent, tag), "Organization")
    _organization_id(organization, "LocalOrganizationID", code, batch)
    _add(organization, "OrganizationName", name or code, limit=ORGANIZATION_NAME_MAX)


def _transmission(root, student_id: str, batch: Batch) -> None:
    data = _add(root, "TransmissionData")
    _add(data, "DocumentID", f"SERS-{batch.job_id}-{student_id}"[:36])
    _add(data, "CreatedDateTime", batch.created.replace(microsecond=0).isoformat())
    _add(data, "DocumentTypeCode", DOCUMENT_TYPE)
    _add(data, "TransmissionType", "Reissue" if batch.reissue else "Original")
    _organization(
        data, "Source", name=f"{settings.SERS_SITE_NAME} CTE Dual Credit", code="SERS", batch=batch
    )
    _organization(
        data, "Destination", name=batch.college_name, code=batch.college_code, batch=batch
    )
    _add(data, "DocumentProcessCode", "PRODUCTION")
    extension = _sers(_add(data, "UserDefinedExtensions"), "Transmission")
    _sers(extension, "ReportJobID", batch.job_id)
    _sers(extension, "CollegeCode", batch.college_code)


def _person(student, first: TranscriptRecord, records: Sequence[TranscriptRecord], batch):
    person = _add(student, "Person")
    _add(person, "AgencyAssignedID", first.sers_id, limit=30)
    agency = _add(person, "AgencyIdentifier")
    _add(agency, "AgencyAssignedID", first.sers_id, limit=30)
    _add(agency, "AgencyCode", AGENCY_CODE)
    _add(agency, "AgencyName", f"{settings.SERS_SITE_NAME} CTE Dual Credit", limit=60)
    if batch.state_code:
        _add(agency, "StateProvinceCode", batch.state_code)
    recipient_id = next((_text(r.college_student_id) for r in records if r.college_student_id), "")
    if recipient_id and len(recipient_id) <= RECIPIENT_ID_MAX:
        _add(person, "RecipientAssignedID", recipient_id)
    if first.birth_date is not None:
        _add(_add(person, "Birth"), "BirthDate", first.birth_date.isoformat())
    name = _add(person, "Name")
    _add(name, "NameCode", "Legal")
    _add(name, "FirstName", first.first_name, limit=NAME_MAX)
    _add(name, "MiddleName", first.middle_name, limit=NAME_MAX)
    _add(name, "LastName", first.last_name, limit=NAME_MAX)


def _name_was_cut(record: TranscriptRecord) -> bool:
    parts = (record.first_name, record.middle_name, record.last_name)
    return any(len(_text(part)) > NAME_MAX for part in parts)


def _student_extension(student, first: TranscriptRecord) -> None:
    extension = _sers(_add(student, "UserDefinedExtensions"), "Student")
    _sers(extension, "SERSID", first.sers_id)
    if _name_was_cut(first):
        full = _sers(extension, "FullLegalName")
        _sers(full, "FirstName", first.first_name)
        _sers(full, "MiddleName", first.middle_name)
        _sers(full, "LastName", first.last_name)


def _session_designator(record: TranscriptRecord) -> tuple[str, str]:
    """The session's year-month (a full year and the fall start in September, the spring
    in January) and its school year as PESC writes it (2026-2027)."""
    start = int(record.year_code[:4])
    month = f"{start + 1}-01" if record.term == "spring" else f"{start}-09"
    return month, f"{start}-{start + 1}"


def _course(session, record: TranscriptRecord) -> None:
    letter, points = grade_equivalents(record.grade_scale, record.grade)
    course = _add(session, "Course")
    _add(course, "CourseCreditBasis", CREDIT_BASIS)
    _add(course, "CourseCreditLevel", CREDIT_LEVEL)
    _add(course, "CourseCreditValue", record.credits)
    _add(course, "CourseCreditEarned", record.credits)
    _add(course, "CourseAcademicGrade", letter)
    if points is not None and record.credits is not None:
        _add(course, "CourseQualityPointsEarned", Decimal(points) * Decimal(record.credits))
    _add(course, "CourseSubjectAbbreviation", record.course_prefix, limit=SUBJECT_MAX)
    _add(course, "CourseNumber", record.course_number, limit=COURSE_NUMBER_MAX)
    _add(course, "CourseTitle", record.course_title, limit=COURSE_TITLE_MAX)
    if _text(record.teacher_first_name) or _text(record.teacher_last_name):
        teacher = _add(_add(course, "CourseInstructor"), "Name")
        _add(teacher, "FirstName", record.teacher_first_name, limit=NAME_MAX)
        _add(teacher, "LastName", record.teacher_last_name, limit=NAME_MAX)
    extension = _sers(_add(course, "UserDefinedExtensions"), "Course")
    _sers(extension, "EnrollmentID", record.enrollment_id)
    _sers(extension, "AgreementNumber", record.agreement_number)
    _sers(extension, "AgreementVersion", record.articulation_version)
    _sers(extension, "ArticulationID", record.articulation_id)
    _sers(extension, "SchoolYear", record.year_code)
    _sers(extension, "Term", record.term)
    _sers(extension, "HighSchoolCode", record.high_school_code)
    _sers(extension, "GradeAsEntered", record.grade)
    _sers(extension, "GradeScale", record.grade_scale)
    _sers(extension, "GradePoints", points)
    _sers(extension, "CollegeStudentID", record.college_student_id)
    if len(_text(record.course_title)) > COURSE_TITLE_MAX:
        _sers(extension, "FullCourseTitle", record.course_title)


def _academic_records(student, records: Sequence[TranscriptRecord], batch: Batch) -> None:
    """One AcademicRecord per high school, one AcademicSession per school year and term,
    in the order the records come (school year, then term)."""
    schools: dict[str, dict[tuple[str, str], list[TranscriptRecord]]] = {}
    for record in records:
        sessions = schools.setdefault(record.high_school_code, {})
        sessions.setdefault((record.year_code, record.term), []).append(record)
    for sessions in schools.values():
        first = next(iter(sessions.values()))[0]
        academic_record = _add(student, "AcademicRecord")
        school = _add(academic_record, "School")
        _add(
            school,
            "OrganizationName",
            first.high_school or first.high_school_code,
            limit=ORGANIZATION_NAME_MAX,
        )
        _organization_id(school, "LocalOrganizationID", first.high_school_code, batch)
        _add(school, "SchoolLevel", "HighSchool")
        for (year_code, term), courses in sessions.items():
            session = _add(academic_record, "AcademicSession")
            detail = _add(session, "AcademicSessionDetail")
            designator, school_year = _session_designator(courses[0])
            _add(detail, "SessionDesignator", designator)
            _add(
                detail,
                "SessionName",
                f"{year_code} {TERM_NAMES.get(term, term)}",
                limit=SESSION_NAME_MAX,
            )
            _add(detail, "SessionType", SESSION_TYPES.get(term, "Other"))
            _add(detail, "SessionSchoolYear", school_year)
            for record in courses:
                _course(session, record)


def transcript_document(records: Sequence[TranscriptRecord], *, batch: Batch) -> bytes:
    """One student's CollegeTranscript document (UTF-8 XML) from their records."""
    first = records[0]
    root = etree.Element(
        f"{{{PESC_NAMESPACE}}}CollegeTranscript",
        nsmap={"ColTrn": PESC_NAMESPACE, "sers": SERS_NAMESPACE},
    )
    _transmission(root, first.sers_id, batch)
    student = _add(root, "Student")
    _person(student, first, records, batch)
    _academic_records(student, records, batch)
    _student_extension(student, first)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def records_by_student(records: Iterable[TranscriptRecord]) -> Iterator[list[TranscriptRecord]]:
    """Consecutive records of one student, together (the report orders them so)."""
    current: list[TranscriptRecord] = []
    for record in records:
        if current and record.student_id != current[0].student_id:
            yield current
            current = []
        current.append(record)
    if current:
        yield current


def document_file_name(sers_id: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', sers_id)}.xml"


def write_transcript_zip(path, records: Iterable[TranscriptRecord], *, batch: Batch) -> int:
    """The batch: one document per student and the manifest. Returns the number of
    records (college courses), as the CSV and XLSX writers return their rows."""
    stamp = batch.created.astimezone(datetime.UTC).timetuple()[:6]
    documents = []
    count = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for student_records in records_by_student(records):
            first = student_records[0]
            content = transcript_document(student_records, batch=batch)
            name = document_file_name(first.sers_id)
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content, zipfile.ZIP_DEFLATED)
            documents.append(
                {
                    "file": name,
                    "sers_id": first.sers_id,
                    "courses": len(student_records),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
            count += len(student_records)
        manifest = {
            "format": BATCH_FORMAT,
            "format_version": BATCH_FORMAT_VERSION,
            "document_namespace": PESC_NAMESPACE,
            "extension_namespace": SERS_NAMESPACE,
            "report_job": batch.job_id,
            "college": batch.college_code,
            "created": batch.created.replace(microsecond=0).isoformat(),
            "document_count": len(documents),
            "course_count": count,
            "documents": documents,
        }
        archive.writestr(
            zipfile.ZipInfo(MANIFEST_NAME, date_time=stamp),
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
            zipfile.ZIP_DEFLATED,
        )
    return count
