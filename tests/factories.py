"""factory_boy factories for every model. Synthetic data only."""

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, RoleMembership, SentEmail, User
from articulations.models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    TeacherQualification,
)
from enrollment.models import Enrollment, EnrollmentStatusChange, Fee, Section, StudentProfile
from enrollment.services.signup import generate_sers_id
from organisations.models import (
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AcademicYearFactory(DjangoModelFactory):
    class Meta:
        model = AcademicYear
        django_get_or_create = ("code",)

    class Params:
        start_year = 2026

    code = factory.LazyAttribute(lambda o: AcademicYear.code_for_start(o.start_year))
    start_date = factory.LazyAttribute(lambda o: datetime.date(o.start_year, 7, 1))
    end_date = factory.LazyAttribute(lambda o: datetime.date(o.start_year + 1, 6, 30))


class ConsortiumFactory(DjangoModelFactory):
    class Meta:
        model = Consortium

    name = factory.Sequence(lambda n: f"Test Consortium {n}")
    slug = factory.Sequence(lambda n: f"consortium-{n}")
    contact_email = factory.Sequence(lambda n: f"contact{n}@consortium.example.org")
    payment_instructions = "Pay at the college cashier."


class ConsortiumPolicyFactory(DjangoModelFactory):
    class Meta:
        model = ConsortiumPolicy

    consortium = factory.SubFactory(ConsortiumFactory)
    academic_year = factory.SubFactory(AcademicYearFactory)
    registration_opens = factory.LazyAttribute(lambda o: o.academic_year.start_date)
    registration_closes = factory.LazyAttribute(lambda o: o.academic_year.end_date)
    payment_deadline = factory.LazyAttribute(lambda o: o.academic_year.end_date)
    grading_deadline = factory.LazyAttribute(lambda o: o.academic_year.end_date)
    annual_fee = Decimal("50.00")


class CollegeFactory(DjangoModelFactory):
    class Meta:
        model = College

    consortium = factory.SubFactory(ConsortiumFactory)
    name = factory.Sequence(lambda n: f"Test Community College {n}")
    code = factory.Sequence(lambda n: f"COL{n}")
    registrar_email = factory.Sequence(lambda n: f"registrar{n}@college.example.edu")


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District

    consortium = factory.SubFactory(ConsortiumFactory)
    name = factory.Sequence(lambda n: f"Test School District {n}")
    code = factory.Sequence(lambda n: f"D{n:05d}")


class HighSchoolFactory(DjangoModelFactory):
    class Meta:
        model = HighSchool

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Test High School {n}")
    code = factory.Sequence(lambda n: f"HS{n:05d}")
    kind = HighSchool.Kind.HIGH_SCHOOL


def cluster(code: str = "IT") -> CareerCluster:
    """One of the 16 national clusters loaded by the data migration."""
    return CareerCluster.objects.get(framework="2008", code=code)


class CollegeCourseFactory(DjangoModelFactory):
    class Meta:
        model = CollegeCourse

    college = factory.SubFactory(CollegeFactory)
    prefix = "CS"
    # Numbers from 5000 up: hand-picked ones in tests (CS 110, ACCT 101...) stay below,
    # so a factory course never collides with one on (college, prefix, number).
    number = factory.Sequence(lambda n: f"{5000 + n}")
    title = factory.Sequence(lambda n: f"Computing Essentials {n}")
    credits = Decimal("5.0")


class HighSchoolCourseFactory(DjangoModelFactory):
    class Meta:
        model = HighSchoolCourse

    consortium = factory.SubFactory(ConsortiumFactory)
    title = factory.Sequence(lambda n: f"Computer Applications {n}")
    cip_code = "11.0601"


class ArticulationFactory(DjangoModelFactory):
    class Meta:
        model = Articulation
        skip_postgeneration_save = True

    consortium = factory.SubFactory(ConsortiumFactory)
    college = factory.SubFactory(CollegeFactory, consortium=factory.SelfAttribute("..consortium"))
    agreement_number = factory.Sequence(lambda n: f"AG-{n:05d}")
    high_school_course = factory.SubFactory(
        HighSchoolCourseFactory, consortium=factory.SelfAttribute("..consortium")
    )
    cluster = factory.LazyFunction(cluster)
    minimum_grade_scale = "letter"
    minimum_grade = "B"
    competencies = "Use spreadsheets\nWrite a business letter"
    status = Articulation.Status.ACTIVE

    @factory.post_generation
    def college_courses(obj, create, extracted, **kwargs):
        if create:
            obj.college_courses.add(*(extracted or [CollegeCourseFactory(college=obj.college)]))

    @factory.post_generation
    def valid_years(obj, create, extracted, **kwargs):
        if create:
            obj.valid_years.add(*(extracted or [AcademicYearFactory()]))


class TeacherQualificationFactory(DjangoModelFactory):
    class Meta:
        model = TeacherQualification

    articulation = factory.SubFactory(ArticulationFactory)
    teacher = factory.SubFactory(UserFactory)


class RoleMembershipFactory(DjangoModelFactory):
    class Meta:
        model = RoleMembership

    user = factory.SubFactory(UserFactory)
    role = Role.STATE_STAFF


def make_staff(role: str, scope=None, **user_fields) -> User:
    """A user holding `role` in `scope` (a Consortium, College, District or HighSchool)."""
    user = UserFactory(**user_fields)
    scope_field = {
        Consortium: "consortium",
        College: "college",
        District: "district",
        HighSchool: "high_school",
    }
    fields = {scope_field[type(scope)]: scope} if scope is not None else {}
    RoleMembership.objects.create(user=user, role=role, **fields)
    return user


class StudentProfileFactory(DjangoModelFactory):
    class Meta:
        model = StudentProfile

    user = factory.SubFactory(
        UserFactory,
        email_verified_at=factory.LazyFunction(
            lambda: datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC)
        ),
    )
    sers_id = factory.LazyFunction(generate_sers_id)
    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    birth_date = factory.Faker(
        "date_between", start_date=datetime.date(2008, 1, 1), end_date=datetime.date(2010, 12, 31)
    )
    high_school = factory.SubFactory(HighSchoolFactory)
    graduation_year = 2027


class SectionFactory(DjangoModelFactory):
    class Meta:
        model = Section

    articulation = factory.SubFactory(ArticulationFactory)
    teacher = factory.SubFactory(UserFactory)
    high_school = factory.SubFactory(
        HighSchoolFactory, district__consortium=factory.SelfAttribute("...articulation.consortium")
    )
    academic_year = factory.SubFactory(AcademicYearFactory)
    section_code = factory.Sequence(lambda n: f"P{n}")


class EnrollmentFactory(DjangoModelFactory):
    """An enrollment at its initial status. Move it on with enrollment_change_status."""

    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentProfileFactory)
    section = factory.SubFactory(SectionFactory)


class FeeFactory(DjangoModelFactory):
    class Meta:
        model = Fee

    student = factory.SubFactory(StudentProfileFactory)
    consortium = factory.SubFactory(ConsortiumFactory)
    academic_year = factory.SubFactory(AcademicYearFactory)
    amount = Decimal("50.00")


class SentEmailFactory(DjangoModelFactory):
    class Meta:
        model = SentEmail

    user = factory.SubFactory(UserFactory)
    kind = "welcome"
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


class ArticulationStatusChangeFactory(DjangoModelFactory):
    """A history row written directly (the real ones come from the articulation services)."""

    class Meta:
        model = ArticulationStatusChange

    articulation = factory.SubFactory(ArticulationFactory)
    from_status = Articulation.Status.DRAFT
    to_status = Articulation.Status.SUBMITTED
    changed_by = factory.SubFactory(UserFactory)


class EnrollmentStatusChangeFactory(DjangoModelFactory):
    """A history row written directly; real ones come from enrollment_change_status."""

    class Meta:
        model = EnrollmentStatusChange

    enrollment = factory.SubFactory(EnrollmentFactory)
    from_status = ""
    to_status = factory.SelfAttribute("enrollment.status")
    changed_by = factory.SubFactory(UserFactory)
