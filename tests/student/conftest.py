"""Fixtures for the student journey: a consortium with an open registration window, a
high school and a skills center with classes this year, and a signed-in student."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache

from organisations.models import HighSchool
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    ConsortiumPolicyFactory,
    DistrictFactory,
    HighSchoolFactory,
    SectionFactory,
    StudentProfileFactory,
    UserFactory,
)

TODAY = datetime.date(2026, 12, 1)


@dataclass
class World:
    year: object
    consortium: object
    policy: object
    college: object
    district: object
    school: object
    skills_center: object
    sections: list


def make_class(*, world, school=None, year=None, teacher=None, title=None, **articulation):
    """An active agreement valid for the year, taught by an active teacher at `school`."""
    year = year or world.year
    course = CollegeCourseFactory(college=world.college, credits=Decimal("5.0"))
    fields = {"consortium": world.consortium, "college": world.college}
    if title:
        fields["high_school_course__title"] = title
    fields.update(articulation)
    agreement = ArticulationFactory(college_courses=[course], valid_years=[year], **fields)
    return SectionFactory(
        articulation=agreement,
        high_school=school or world.school,
        academic_year=year,
        teacher=teacher or UserFactory(),
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # rate-limit counters
    yield
    cache.clear()


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def world(db, today) -> World:
    year = AcademicYearFactory(start_year=2026)
    consortium = ConsortiumFactory(payment_instructions="Pay at the Cascade College cashier.")
    policy = ConsortiumPolicyFactory(
        consortium=consortium,
        academic_year=year,
        registration_opens=datetime.date(2026, 9, 1),
        registration_closes=datetime.date(2027, 3, 15),
        payment_deadline=datetime.date(2027, 6, 20),
        annual_fee=Decimal("50.00"),
        school_email_domains="k12.example.us\nstudents.example.org",
    )
    college = CollegeFactory(consortium=consortium)
    district = DistrictFactory(consortium=consortium)
    school = HighSchoolFactory(district=district, name="Riverside High School")
    skills_center = HighSchoolFactory(
        district=DistrictFactory(consortium=consortium),
        name="Valley Skills Center",
        kind=HighSchool.Kind.SKILLS_CENTER,
    )
    skills_center.served_districts.add(district)
    w = World(year, consortium, policy, college, district, school, skills_center, [])
    w.sections = [
        make_class(world=w, title="Accounting Principles"),
        make_class(world=w, title="Web Design"),
        make_class(world=w, school=skills_center, title="Automotive Technology"),
    ]
    return w


@pytest.fixture
def student(world):
    return StudentProfileFactory(
        high_school=world.school,
        legal_first_name="Maria",
        legal_last_name="Lopez",
        birth_date=datetime.date(2009, 4, 12),
        user__email="maria.lopez@gmail.com",
    )


@pytest.fixture
def student_client(client, student):
    client.force_login(student.user)
    return client


@pytest.fixture
def other_student(world):
    return StudentProfileFactory(high_school=world.school)
