"""A small consortium with people in every articulation role, and helpers to build on it."""

import datetime
from dataclasses import dataclass

import pytest

from accounts.models import Role, RoleMembership, User
from articulations.models import Articulation, ArticulationStatusChange, CollegeCourse
from organisations.models import AcademicYear, College, Consortium, District, HighSchool
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    DistrictFactory,
    HighSchoolCourseFactory,
    HighSchoolFactory,
    TeacherQualificationFactory,
    UserFactory,
    cluster,
    make_staff,
)

TODAY = datetime.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """Every test runs on 1 December 2026, inside school year 2026-27."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)


def make_teacher(school: HighSchool, **fields) -> User:
    user = UserFactory(**fields)
    RoleMembership.objects.create(user=user, role=Role.TEACHER, high_school=school)
    return user


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

    def articulation(self, **fields) -> Articulation:
        """An agreement of this consortium at `school`, valid this year, with `teacher`."""
        status = fields.pop("status", Articulation.Status.ACTIVE)
        schools = fields.pop("schools", [self.school])
        teachers = fields.pop("teachers", [self.teacher])
        college = fields.pop("college", self.college)
        courses = fields.pop("college_courses", None) or [CollegeCourseFactory(college=college)]
        articulation = ArticulationFactory(
            consortium=self.consortium,
            college=college,
            status=status,
            college_courses=courses,
            valid_years=fields.pop("valid_years", [self.year]),
            high_school_course=fields.pop("high_school_course", None)
            or HighSchoolCourseFactory(consortium=self.consortium),
            **fields,
        )
        articulation.high_schools.add(*schools)
        for teacher in teachers:
            TeacherQualificationFactory(articulation=articulation, teacher=teacher)
        return articulation


@pytest.fixture
def world(db) -> World:
    year = AcademicYearFactory(start_year=2026)
    last_year = AcademicYearFactory(start_year=2025)
    consortium = ConsortiumFactory(name="Cascade Consortium", contact_name="Pat Office")
    college = CollegeFactory(consortium=consortium, name="Cascade College", code="CASC")
    other_college = CollegeFactory(consortium=consortium, name="Valley College", code="VALC")
    district = DistrictFactory(consortium=consortium, name="North District")
    other_district = DistrictFactory(consortium=consortium, name="South District")
    school = HighSchoolFactory(district=district, name="North High", code="NH001")
    other_school = HighSchoolFactory(district=other_district, name="South High", code="SH001")
    skills_center = HighSchoolFactory(
        district=district,
        name="Tri-County Skills Center",
        code="SC001",
        kind=HighSchool.Kind.SKILLS_CENTER,
    )
    skills_center.served_districts.add(district, other_district)
    course = CollegeCourseFactory(
        college=college, prefix="ACCT", number="101", title="Principles of Accounting"
    )
    teacher = make_teacher(school, first_name="Tess", last_name="Teacher")
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
