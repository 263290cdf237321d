"""Fixtures for the staff workflows: one consortium with a college, a district, a high
school, a class of students, and a member of staff for every role; plus an outside
consortium with the same, to show that nobody reaches another's records."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Role
from enrollment.models import Enrollment, EnrollmentStatus
from enrollment.services import enrollment_change_status
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    ConsortiumPolicyFactory,
    DistrictFactory,
    EnrollmentFactory,
    FeeFactory,
    HighSchoolFactory,
    SectionFactory,
    StudentProfileFactory,
    make_staff,
)

S = EnrollmentStatus
TODAY = datetime.date(2026, 12, 1)
_real_localdate = timezone.localdate


@dataclass
class Place:
    """One consortium and everything in it."""

    consortium: object
    policy: object
    college: object
    course: object
    district: object
    school: object
    articulation: object
    teacher: object
    section: object
    registrar: object
    specialist: object
    admin: object
    students: list = field(default_factory=list)
    enrollments: list = field(default_factory=list)


def make_place(year, *, name: str, students: int = 3) -> Place:
    consortium = ConsortiumFactory(name=f"{name} Consortium")
    policy = ConsortiumPolicyFactory(
        consortium=consortium,
        academic_year=year,
        registration_opens=datetime.date(2026, 9, 1),
        registration_closes=datetime.date(2027, 3, 15),
        payment_deadline=datetime.date(2027, 6, 20),
        grading_deadline=datetime.date(2027, 6, 25),
        annual_fee=Decimal("50.00"),
    )
    college = CollegeFactory(consortium=consortium, name=f"{name} College")
    course = CollegeCourseFactory(college=college, prefix="CS", number="110")
    district = DistrictFactory(consortium=consortium)
    school = HighSchoolFactory(district=district, name=f"{name} High School")
    articulation = ArticulationFactory(
        consortium=consortium,
        college=college,
        college_courses=[course],
        valid_years=[year],
        minimum_grade_scale="letter",
        minimum_grade="B",
        high_school_course__title=f"{name} Web Design",
    )
    articulation.high_schools.add(school)
    teacher = make_staff(Role.TEACHER, school, first_name="Terry", last_name=f"{name}")
    section = SectionFactory(
        articulation=articulation, teacher=teacher, high_school=school, academic_year=year
    )
    place = Place(
        consortium=consortium,
        policy=policy,
        college=college,
        course=course,
        district=district,
        school=school,
        articulation=articulation,
        teacher=teacher,
        section=section,
        registrar=make_staff(Role.REGISTRAR, college),
        specialist=make_staff(Role.CAREER_SPECIALIST, district),
        admin=make_staff(Role.CONSORTIUM_ADMIN, consortium),
    )
    for _ in range(students):
        enroll(place, year)
    return place


def enroll(place: Place, year, **student_fields) -> Enrollment:
    student = StudentProfileFactory(high_school=place.school, **student_fields)
    enrollment = EnrollmentFactory(student=student, section=place.section)
    FeeFactory(
        student=student, consortium=place.consortium, academic_year=year, amount=Decimal("50.00")
    )
    place.students.append(student)
    place.enrollments.append(enrollment)
    return enrollment


STEPS = {
    S.CONFIRMED: [S.CONFIRMED],
    S.GRADED: [S.CONFIRMED, S.GRADED],
    S.ATTAINED: [S.CONFIRMED, S.GRADED, S.ATTAINED],
    S.NOT_ATTAINED: [S.CONFIRMED, S.GRADED, S.NOT_ATTAINED],
    S.TRANSCRIBED: [S.CONFIRMED, S.GRADED, S.ATTAINED, S.TRANSCRIBED],
}


def advance(enrollment: Enrollment, to_status: str, *, grade: str = "A", actor=None) -> Enrollment:
    """Move an enrollment along the usual path (through the one transition service)."""
    actor = actor or enrollment.section.teacher
    for status in STEPS[to_status]:
        extra = {}
        if status == S.GRADED:
            extra["grade"] = grade
        if status == S.NOT_ATTAINED and grade == "A":
            extra = {}
        if status == S.TRANSCRIBED:
            extra = {"transcribed_on": TODAY, "college_student_id": "C-100"}
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=actor, **extra
        )
    enrollment.refresh_from_db()
    return enrollment


def settle_fee(enrollment: Enrollment) -> None:
    fee = enrollment.student.fees.get()
    fee.status = "waived"
    fee.waiver_reason = "Financial hardship"
    fee.save()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today(monkeypatch):
    def localdate(value=None, timezone=None):
        return TODAY if value is None else _real_localdate(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return TODAY


@pytest.fixture
def year(db):
    return AcademicYearFactory(start_year=2026)


@pytest.fixture
def here(year, today) -> Place:
    return make_place(year, name="Cascade")


@pytest.fixture
def there(year, today) -> Place:
    """Another consortium: its records are outside every scope of `here`'s staff."""
    return make_place(year, name="Desert", students=1)


@pytest.fixture
def twin_records(here, year):
    """The same student signed up twice: once at registration, once with a typo."""
    kept = here.students[0]
    copy = StudentProfileFactory(
        high_school=here.school,
        legal_first_name=kept.legal_first_name,
        legal_last_name=kept.legal_last_name,
        birth_date=kept.birth_date,
    )
    other_class = SectionFactory(
        articulation=here.articulation, high_school=here.school, academic_year=year
    )
    moved = EnrollmentFactory(student=copy, section=other_class)
    return kept, copy, moved
