"""The transcript-credit report: which enrollments a report for a college takes (and
which an earlier report already sent), one record per college course of each, and the
letter grade and grade points a college posts. Its exporter
(exporters.TranscriptCreditExporter) writes the records as CSV, XLSX or a batch of PESC
College Transcript documents (pesc.py).
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from enrollment.models import Enrollment, Section
from enrollment.rules import eligible_for_transcription_q
from organisations.grades import LETTER_POINTS, PERCENT_LETTER_FLOORS, GradeError, GradeScale
from organisations.grades import normalize as grade_normalize

from .models import ReportJob, TranscriptReportRow


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
    also means not transcribed yet; in the job's school year and term when it has them,
    and attained on or after its `since` day when it has one. Left out with `only_new`:
    rows a report that marks rows as sent already took (unless that report failed).
    """
    # The college's classes first, as a subquery: the database then reads only their
    # enrollments (by the section index) instead of every attained enrollment statewide.
    sections = Section.objects.filter(articulation__college_id=job.college_id)
    if job.academic_year_id:
        sections = sections.filter(academic_year_id=job.academic_year_id)
    if job.term:
        sections = sections.filter(term=job.term)
    queryset = Enrollment.objects.filter(
        eligible_for_transcription_q(), section__in=sections.values("pk")
    )
    since = job_since(job)
    if since is not None:
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        queryset = queryset.filter(status_changed_at__gte=start)
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


def job_since(job: ReportJob) -> datetime.date | None:
    """The day from which a transcript report takes credits (attained that day or later),
    kept in the job's parameters; None: any day."""
    value = (job.parameters or {}).get("since")
    return datetime.date.fromisoformat(value) if value else None
