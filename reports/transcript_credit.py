"""The transcript-credit report: which enrollments a report for a college takes (and
which an earlier report already sent), one record per college course of each, the letter
grade and grade points a college posts, and the batch of PESC College Transcript-style
XML documents. Its exporter (exporters.TranscriptCreditExporter) writes the same records
as CSV or XLSX too.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple
from xml.sax.saxutils import XMLGenerator

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from enrollment.models import Enrollment, Section
from enrollment.rules import eligible_for_transcription_q
from organisations.grades import LETTER_POINTS, PERCENT_LETTER_FLOORS, GradeError, GradeScale
from organisations.grades import normalize as grade_normalize

from .models import ReportJob, TranscriptReportRow

PESC_NAMESPACE = "urn:org:pesc:message:CollegeTranscript:v1.8.0"
# PESC's CourseCreditBasis code for a high-school class that earns college credit.
PESC_CREDIT_BASIS = "HighSchoolDualCredit"


def grade_equivalents(scale: str, grade: str) -> tuple[str, Decimal | None]:
    """The letter grade and grade points of a grade entered in `scale`.

    A college posting credit needs a letter and points whatever scale the high school
    graded in: a percent maps through the percent table, points to the highest letter
    they reach (3.2 is a B, 3.3 a B+). A grade that does not parse gives ("", None).
    """
    try:
        value = grade_normalize(scale, grade)
    except GradeError:
        return "", None
    if scale == GradeScale.LETTER:
        return value, LETTER_POINTS[value]
    if scale == GradeScale.PERCENT:
        percent = int(value)
        letter = next(letter for floor, letter in PERCENT_LETTER_FLOORS if percent >= floor)
        return letter, LETTER_POINTS[letter]
    points = Decimal(value)
    letter = next(
        letter
        for letter, letter_points in sorted(LETTER_POINTS.items(), key=lambda i: -i[1])
        if points >= letter_points
    )
    return letter, points


class TranscriptRecord(NamedTuple):
    """One college course of one enrollment, as the registrar posts it."""

    enrollment_id: int
    student_id: int
    sers_id: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: datetime.date | None  # None when the reader may not see it
    college_student_id: str
    course_prefix: str | None
    course_number: str | None
    course_title: str | None
    credits: Decimal | None
    grade: str
    grade_scale: str
    year_code: str
    term: str
    high_school: str
    high_school_code: str
    teacher_first_name: str
    teacher_last_name: str
    articulation_id: int
    agreement_number: str
    articulation_version: int


TRANSCRIPT_FIELDS = [
    "pk",
    "student_id",
    "student__sers_id",
    "student__legal_last_name",
    "student__legal_first_name",
    "student__legal_middle_name",
    "student__birth_date",
    "college_student_id",
    "section__articulation__college_courses__prefix",
    "section__articulation__college_courses__number",
    "section__articulation__college_courses__title",
    "section__articulation__college_courses__credits",
    "grade",
    "section__articulation__minimum_grade_scale",
    "section__academic_year__code",
    "section__term",
    "section__high_school__name",
    "section__high_school__code",
    "section__teacher__first_name",
    "section__teacher__last_name",
    "section__articulation_id",
    "section__articulation__agreement_number",
    "section__articulation__version",
]


def transcript_candidates(job: ReportJob) -> QuerySet[Enrollment]:
    """Enrollments a new transcript report for this job's college takes, and why.

    Included: the college's enrollments (through the agreement's college) that are
    eligible for transcription — attained, fee paid or waived, verified email — which
    also means not transcribed yet; in the job's school year and term when it has them.
    Left out with `only_new`: rows a report that marks rows as sent already took (unless
    that report failed).
    """
    queryset = Enrollment.objects.filter(
        eligible_for_transcription_q(), section__articulation__college_id=job.college_id
    )
    if job.academic_year_id:
        queryset = queryset.filter(section__academic_year_id=job.academic_year_id)
    if job.term:
        queryset = queryset.filter(section__term=job.term)
    if job.only_new:
        queryset = queryset.exclude(already_sent_q(exclude_job_id=job.pk))
    return queryset


def already_sent_q(*, exclude_job_id: int | None = None) -> Exists:
    """Enrollments already in a report that marked its rows as sent (and did not fail).

    An enrollment belongs to one college, so only that college's reports hold it.
    """
    sent = TranscriptReportRow.objects.filter(
        enrollment_id=OuterRef("pk"), job__marks_sent=True
    ).exclude(job__status=ReportJob.Status.FAILED)
    if exclude_job_id is not None:
        sent = sent.exclude(job_id=exclude_job_id)
    return Exists(sent)


def write_transcript_xml(path, records: Iterable[TranscriptRecord], *, job: ReportJob) -> int:
    """A batch of PESC College Transcript-style documents, one per student.

    Element names follow PESC's CollegeTranscript (Person, AcademicRecord,
    AcademicSession, Course with CourseCreditBasis "HighSchoolDualCredit"); what PESC has
    no element for (grade as entered, high school, teacher, agreement) goes in the
    course's UserDefinedExtensions. Written element by element, never held in memory.
    """
    terms = dict(Section.Term.choices)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)

        def element(name: str, text, attrs: dict | None = None) -> None:
            if text is None or text == "":
                return
            xml.startElement(name, attrs or {})
            xml.characters(str(text))
            xml.endElement(name)

        xml.startDocument()
        xml.startElement("CollegeTranscriptBatch", {"xmlns": PESC_NAMESPACE})
        xml.startElement("TransmissionData", {})
        element("DocumentID", f"SERS-{job.pk}")
        element("CreatedDateTime", timezone.now().replace(microsecond=0).isoformat())
        element("DocumentTypeCode", "Batch")
        element("TransmissionType", "Original")
        xml.startElement("Source", {})
        xml.startElement("Organization", {})
        element("OrganizationName", settings.SERS_SITE_NAME + " CTE Dual Credit")
        xml.endElement("Organization")
        xml.endElement("Source")
        xml.startElement("Destination", {})
        xml.startElement("Organization", {})
        element("LocalOrganizationID", job.college.code)
        element("OrganizationName", job.college.name)
        xml.endElement("Organization")
        xml.endElement("Destination")
        element("DocumentProcessCode", "PRODUCTION")
        xml.endElement("TransmissionData")

        student_open = session_open = None
        for record in records:
            count += 1
            if record.student_id != student_open:
                if session_open is not None:
                    xml.endElement("AcademicSession")
                    session_open = None
                if student_open is not None:
                    _xml_end_student(xml)
                _xml_start_student(xml, element, record)
                student_open = record.student_id
            session = (record.year_code, record.term, record.high_school_code)
            if session != session_open:
                if session_open is not None:
                    xml.endElement("AcademicSession")
                xml.startElement("AcademicSession", {})
                xml.startElement("AcademicSessionDetail", {})
                start_year = record.year_code[:4]
                element("SessionDesignator", f"{start_year}-{int(start_year) + 1}")
                element("SessionName", f"{record.year_code} {terms.get(record.term, record.term)}")
                element("SessionSchoolYear", f"{start_year}-{int(start_year) + 1}")
                xml.endElement("AcademicSessionDetail")
                xml.startElement("School", {})
                element("OrganizationName", record.high_school)
                element("LocalOrganizationID", record.high_school_code)
                xml.endElement("School")
                session_open = session
            _xml_course(xml, element, record)
        if session_open is not None:
            xml.endElement("AcademicSession")
        if student_open is not None:
            _xml_end_student(xml)
        xml.endElement("CollegeTranscriptBatch")
        xml.endDocument()
    return count


def _xml_start_student(xml, element, record: TranscriptRecord) -> None:
    xml.startElement("CollegeTranscript", {})
    xml.startElement("Student", {})
    xml.startElement("Person", {})
    element("AgencyAssignedID", record.sers_id)
    element("RecipientAssignedID", record.college_student_id)
    xml.startElement("Birth", {})
    element("BirthDate", record.birth_date.isoformat() if record.birth_date else None)
    xml.endElement("Birth")
    xml.startElement("Name", {})
    element("FirstName", record.first_name)
    element("MiddleName", record.middle_name)
    element("LastName", record.last_name)
    xml.endElement("Name")
    xml.endElement("Person")
    xml.startElement("AcademicRecord", {})


def _xml_end_student(xml) -> None:
    xml.endElement("AcademicRecord")
    xml.endElement("Student")
    xml.endElement("CollegeTranscript")


def _xml_course(xml, element, record: TranscriptRecord) -> None:
    letter, points = grade_equivalents(record.grade_scale, record.grade)
    xml.startElement("Course", {})
    element("CourseCreditBasis", PESC_CREDIT_BASIS)
    element("CourseCreditValue", record.credits)
    element("CourseCreditEarned", record.credits)
    element("CourseAcademicGrade", letter)
    element("CourseSubjectAbbreviation", record.course_prefix)
    element("CourseNumber", record.course_number)
    element("CourseTitle", record.course_title)
    xml.startElement("UserDefinedExtensions", {})
    xml.startElement("SERSCourse", {})
    element("GradeAsEntered", record.grade)
    element("GradeScale", record.grade_scale)
    element("GradePoints", points)
    element("Teacher", f"{record.teacher_first_name} {record.teacher_last_name}".strip())
    element("AgreementNumber", record.agreement_number)
    element("AgreementVersion", record.articulation_version)
    element("ArticulationID", record.articulation_id)
    element("EnrollmentID", record.enrollment_id)
    xml.endElement("SERSCourse")
    xml.endElement("UserDefinedExtensions")
    xml.endElement("Course")
