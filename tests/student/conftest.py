"""Fixtures for the student journey: a consortium with an open registration window, a
high school and a skills center with classes this year, and a signed-in student. Built
with tests/world.py (`year` and `today` come from tests/conftest.py)."""

import datetime

import pytest

from tests.factories import (
    CollegeFactory,
    ConsortiumFactory,
    DistrictFactory,
    HighSchoolFactory,
    StudentProfileFactory,
)
from tests.world import Place, add_policy, add_skills_center, make_class


@pytest.fixture
def world(year, today) -> Place:
    """Riverside High School and the Valley Skills Center (in another district, serving
    Riverside's) with three classes: two at the high school, one at the center."""
    consortium = ConsortiumFactory(payment_instructions="Pay at the Cascade College cashier.")
    policy = add_policy(
        consortium,
        year,
        grading_deadline=year.end_date,
        school_email_domains="k12.example.us\nstudents.example.org",
    )
    college = CollegeFactory(consortium=consortium)
    district = DistrictFactory(consortium=consortium)
    school = HighSchoolFactory(district=district, name="Riverside High School")
    skills_center = add_skills_center(
        DistrictFactory(consortium=consortium), serves=[district], name="Valley Skills Center"
    )
    w = Place(year, consortium, policy, college, district, school, skills_center=skills_center)
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
