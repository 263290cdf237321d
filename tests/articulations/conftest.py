"""A small consortium with people in every articulation role, and helpers to build on it.
Built with tests/world.py (`year` and `today` come from tests/conftest.py)."""

from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from articulations.models import Articulation, ArticulationStatusChange, CollegeCourse
from organisations.models import AcademicYear, College, Consortium, District, HighSchool
from tests.factories import (
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    DistrictFactory,
    HighSchoolCourseFactory,
    HighSchoolFactory,
    cluster,
    make_staff,
)
from tests.world import add_agreement, add_skills_center, add_teacher, school_year


@pytest.fixture(autouse=True)
def _today(today):
    """Every test runs on 1 December 2026, inside school year 2026-27."""


@dataclass
class World:
    consortium: Consortium
    college: College
    other_college: College
    district: District
    other_district: District
    school: HighSchool
    other_school: HighSchool
    skills_center: HighSchool
    year: AcademicYear
    last_year: AcademicYear
    course: CollegeCourse
    admin: User
    approver: User
    registrar: User
    state: User
    teacher: User
    active: Articulation

    def articulation(
        self,
        *,
        college=None,
        college_courses=None,
        valid_years=None,
        schools=None,
        teachers=None,
        **fields,
    ) -> Articulation:
        """An agreement of this consortium (active unless `status` says otherwise) at
        `school`, valid this year, with `teacher`, and a new college course."""
        return add_agreement(
            self.consortium,
            college or self.college,
            [self.year] if valid_years is None else valid_years,
            courses=college_courses,
            schools=[self.school] if schools is None else schools,
            teachers=[self.teacher] if teachers is None else teachers,
            **fields,
        )


@pytest.fixture
def world(year) -> World:
    last_year = school_year(2025)
    consortium = ConsortiumFactory(name="Cascade Consortium", contact_name="Pat Office")
    college = CollegeFactory(consortium=consortium, name="Cascade College", code="CASC")
    other_college = CollegeFactory(consortium=consortium, name="Valley College", code="VALC")
    district = DistrictFactory(consortium=consortium, name="North District")
    other_district = DistrictFactory(consortium=consortium, name="South District")
    school = HighSchoolFactory(district=district, name="North High", code="NH001")
    other_school = HighSchoolFactory(district=other_district, name="South High", code="SH001")
    skills_center = add_skills_center(
        district,
        serves=[district, other_district],
        name="Tri-County Skills Center",
        code="SC001",
    )
    course = CollegeCourseFactory(
        college=college, prefix="ACCT", number="101", title="Principles of Accounting"
    )
    teacher = add_teacher(school, first_name="Tess", last_name="Teacher")
    w = World(
        consortium=consortium,
        college=college,
        other_college=other_college,
        district=district,
        other_district=other_district,
        school=school,
        other_school=other_school,
        skills_center=skills_center,
        year=year,
        last_year=last_year,
        course=course,
        admin=make_staff(Role.CONSORTIUM_ADMIN, consortium),
        approver=make_staff(Role.COLLEGE_APPROVER, college),
        registrar=make_staff(Role.REGISTRAR, college),
        state=make_staff(Role.STATE_STAFF),
        teacher=teacher,
        active=None,
    )
    w.active = w.articulation(
        agreement_number="CASC-001",
        college_courses=[course],
        high_school_course=HighSchoolCourseFactory(
            consortium=consortium, title="Accounting 1", cip_code="52.0301"
        ),
        cluster=cluster("FN"),
    )
    return w


@pytest.fixture
def outsider_admin(db) -> User:
    """A consortium admin of another consortium."""
    return make_staff(Role.CONSORTIUM_ADMIN, ConsortiumFactory())


def history(articulation: Articulation) -> list[tuple[str, str]]:
    return list(
        ArticulationStatusChange.objects.filter(articulation=articulation)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
