"""The database itself refuses bad data, whatever code path tries to write it.

Each case writes straight through the ORM (no forms, no services) and expects an
IntegrityError; they run on SQLite and on PostgreSQL alike.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role, RoleMembership, User
from articulations.models import CollegeCourse, HighSchoolCourse
from enrollment.models import Enrollment, Fee, StudentProfile
from enrollment.services.transitions import enrollment_change_status
from organisations.models import AcademicYear, ConsortiumPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db


def rejected(write):
    """Run `write` in its own savepoint and report whether the database refused it."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


def assert_rejected(write):
    assert rejected(write), "the database accepted a row it must refuse"


def assert_accepted(write):
    assert not rejected(write), "the database refused a valid row"


# --- accounts and memberships ---------------------------------------------------------------


@pytest.mark.parametrize("other", ["Someone@Example.org", "SOMEONE@EXAMPLE.ORG"])
def test_user_email_is_unique_ignoring_case(other):
    User.objects.create(email="someone@example.org")
    assert_rejected(lambda: User.objects.create(email=other))


def test_users_with_different_emails_are_fine():
    User.objects.create(email="one@example.org")
    assert_accepted(lambda: User.objects.create(email="two@example.org"))


def _scopes():
    consortium = f.ConsortiumFactory()
    college = f.CollegeFactory(consortium=consortium)
    district = f.DistrictFactory(consortium=consortium)
    school = f.HighSchoolFactory(district=district)
    return {
        "consortium": consortium,
        "college": college,
        "district": district,
        "high_school": school,
    }


@pytest.mark.parametrize(
    ("role", "scope_fields"),
    [
        (Role.TEACHER, ["college"]),
        (Role.TEACHER, ["district"]),
        (Role.TEACHER, []),
        (Role.TEACHER, ["high_school", "district"]),
        (Role.STATE_STAFF, ["consortium"]),
        (Role.STATE_STAFF, ["high_school"]),
        (Role.REGISTRAR, []),
        (Role.REGISTRAR, ["consortium"]),
        (Role.COLLEGE_APPROVER, ["district"]),
        (Role.CAREER_SPECIALIST, ["college"]),
        (Role.CAREER_SPECIALIST, ["district", "high_school"]),
        (Role.CONSORTIUM_ADMIN, ["college"]),
        (Role.CONSORTIUM_ADMIN, []),
        ("janitor", []),
    ],
)
def test_membership_scope_must_fit_the_role(role, scope_fields):
    scopes = _scopes()
    user = f.UserFactory()
    fields = {name: scopes[name] for name in scope_fields}
    assert_rejected(lambda: RoleMembership.objects.create(user=user, role=role, **fields))


@pytest.mark.parametrize(
    ("role", "scope_field"),
    [
        (Role.TEACHER, "high_school"),
        (Role.CAREER_SPECIALIST, "district"),
        (Role.CAREER_SPECIALIST, "high_school"),
        (Role.REGISTRAR, "college"),
        (Role.COLLEGE_APPROVER, "college"),
        (Role.CONSORTIUM_ADMIN, "consortium"),
        (Role.STATE_STAFF, None),
    ],
)
def test_membership_with_a_fitting_scope_is_accepted_once(role, scope_field):
    scopes = _scopes()
    user = f.UserFactory()
    fields = {scope_field: scopes[scope_field]} if scope_field else {}
    assert_accepted(lambda: RoleMembership.objects.create(user=user, role=role, **fields))
    assert_rejected(lambda: RoleMembership.objects.create(user=user, role=role, **fields))


def test_same_role_in_two_scopes_is_fine():
    user = f.UserFactory()
    RoleMembership.objects.create(user=user, role=Role.TEACHER, high_school=f.HighSchoolFactory())
    assert_accepted(
        lambda: RoleMembership.objects.create(
            user=user, role=Role.TEACHER, high_school=f.HighSchoolFactory()
        )
    )


# --- calendar and policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime.date(2026, 7, 1), datetime.date(2026, 6, 30)),
        (datetime.date(2026, 7, 1), datetime.date(2026, 7, 1)),
    ],
)
def test_academic_year_must_end_after_it_starts(start, end):
    assert_rejected(
        lambda: AcademicYear.objects.create(code="2026-27", start_date=start, end_date=end)
    )


@pytest.mark.parametrize("code", ["2026", "26-2027", "26-27", "2026/27", "abcd-ef"])
def test_academic_year_code_format(code):
    assert_rejected(
        lambda: AcademicYear.objects.create(
            code=code, start_date=datetime.date(2026, 7, 1), end_date=datetime.date(2027, 6, 30)
        )
    )


def _policy_fields(**overrides):
    year = f.AcademicYearFactory()
    fields = {
        "consortium": f.ConsortiumFactory(),
        "academic_year": year,
        "registration_opens": datetime.date(2026, 12, 1),
        "registration_closes": datetime.date(2027, 6, 15),
        "payment_deadline": datetime.date(2027, 6, 20),
        "grading_deadline": datetime.date(2027, 6, 25),
        "annual_fee": Decimal("50.00"),
        "grade_scale": "letter",
        "default_minimum_grade": "B",
    }
    return {**fields, **overrides}


def test_valid_policy_is_accepted():
    assert_accepted(lambda: ConsortiumPolicy.objects.create(**_policy_fields()))


def test_second_policy_for_the_same_consortium_and_year_is_refused():
    fields = _policy_fields()
    ConsortiumPolicy.objects.create(**fields)
    assert_rejected(lambda: ConsortiumPolicy.objects.create(**fields))


def test_registration_window_cannot_close_before_it_opens():
    fields = _policy_fields(
        registration_opens=datetime.date(2027, 6, 15),
        registration_closes=datetime.date(2026, 12, 1),
    )
    assert_rejected(lambda: ConsortiumPolicy.objects.create(**fields))


def test_policy_fee_cannot_be_negative():
    fields = _policy_fields(annual_fee=Decimal("-0.01"))
    assert_rejected(lambda: ConsortiumPolicy.objects.create(**fields))


@pytest.mark.parametrize(
    ("scale", "minimum"),
    [
        ("letter", "85"),
        ("letter", "3.0"),
        ("letter", "E"),
        ("letter", "b"),
        ("points", "B"),
        ("points", "5.0"),
        ("points", "3"),
        ("percent", "101"),
        ("percent", "B"),
        ("percent", "85.5"),
        ("stars", "B"),
    ],
)
def test_policy_minimum_grade_must_fit_its_scale(scale, minimum):
    fields = _policy_fields(grade_scale=scale, default_minimum_grade=minimum)
    assert_rejected(lambda: ConsortiumPolicy.objects.create(**fields))


@pytest.mark.parametrize(
    ("scale", "minimum"),
    [("letter", "B+"), ("letter", "C"), ("points", "3.0"), ("percent", "85"), ("percent", "100")],
)
def test_policy_minimum_grade_that_fits_is_accepted(scale, minimum):
    fields = _policy_fields(grade_scale=scale, default_minimum_grade=minimum)
    assert_accepted(lambda: ConsortiumPolicy.objects.create(**fields))


@pytest.mark.parametrize(("scale", "minimum"), [("letter", "85"), ("points", "B")])
def test_articulation_minimum_grade_must_fit_its_scale(scale, minimum):
    assert_rejected(lambda: f.ArticulationFactory(minimum_grade_scale=scale, minimum_grade=minimum))


# --- courses --------------------------------------------------------------------------------


@pytest.mark.parametrize("cip", ["110601", "11.601", "11.060a", "1.0601", "ab.cdef", ""])
def test_cip_code_must_be_xx_xxxx(cip):
    consortium = f.ConsortiumFactory()
    assert_rejected(
        lambda: HighSchoolCourse.objects.create(consortium=consortium, title="Web", cip_code=cip)
    )


def test_duplicate_college_course_is_refused():
    course = f.CollegeCourseFactory(prefix="ACCT", number="101")
    assert_rejected(
        lambda: CollegeCourse.objects.create(
            college=course.college, prefix="ACCT", number="101", title="Other", credits=5
        )
    )
    # The same course number at another college is a different course.
    assert_accepted(
        lambda: CollegeCourse.objects.create(
            college=f.CollegeFactory(), prefix="ACCT", number="101", title="Other", credits=5
        )
    )


# --- students, enrollments, fees ------------------------------------------------------------


@pytest.mark.parametrize("sers_id", ["12345678", "12345678a", "abcdefghi", "", "1234 5678"])
def test_sers_id_must_be_nine_digits(sers_id):
    student = f.StudentProfileFactory()

    def write():
        StudentProfile.objects.filter(pk=student.pk).update(sers_id=sers_id)

    assert_rejected(write)


def test_two_active_enrollments_of_one_student_in_one_class_are_refused():
    enrollment = f.EnrollmentFactory()
    assert_rejected(
        lambda: Enrollment.objects.create(student=enrollment.student, section=enrollment.section)
    )


@pytest.mark.parametrize(("to_status", "reason"), [("withdrawn", ""), ("removed", "Not mine")])
def test_a_new_enrollment_after_an_inactive_one_is_allowed(to_status, reason):
    enrollment = f.EnrollmentFactory()
    enrollment_change_status(
        enrollment_id=enrollment.pk, to_status=to_status, actor=None, reason=reason
    )
    assert_accepted(
        lambda: Enrollment.objects.create(student=enrollment.student, section=enrollment.section)
    )
    # ...but still only one active one.
    assert_rejected(
        lambda: Enrollment.objects.create(student=enrollment.student, section=enrollment.section)
    )


@pytest.mark.parametrize("status", ["graded", "attained", "not_attained"])
def test_graded_status_needs_a_grade(status):
    enrollment = f.EnrollmentFactory()
    assert_rejected(lambda: Enrollment.objects.filter(pk=enrollment.pk).update(status=status))


def test_transcribed_needs_a_date():
    enrollment = f.EnrollmentFactory()
    assert_rejected(
        lambda: Enrollment.objects.filter(pk=enrollment.pk).update(
            status="transcribed", grade="A", transcribed_on=None
        )
    )
    assert_accepted(
        lambda: Enrollment.objects.filter(pk=enrollment.pk).update(
            status="transcribed", grade="A", transcribed_on=datetime.date(2027, 7, 1)
        )
    )


def test_unknown_enrollment_status_is_refused():
    enrollment = f.EnrollmentFactory()
    assert_rejected(lambda: Enrollment.objects.filter(pk=enrollment.pk).update(status="lost"))


def test_waived_fee_needs_a_reason():
    assert_rejected(lambda: f.FeeFactory(status="waived", waiver_reason=""))
    assert_accepted(lambda: f.FeeFactory(status="waived", waiver_reason="Financial hardship"))


def test_paid_fee_needs_a_date():
    assert_rejected(lambda: f.FeeFactory(status="paid", paid_on=None))
    assert_accepted(lambda: f.FeeFactory(status="paid", paid_on=datetime.date(2026, 10, 1)))


def test_fee_cannot_be_negative():
    assert_rejected(lambda: f.FeeFactory(amount=Decimal("-1.00")))


def test_unknown_fee_status_is_refused():
    assert_rejected(lambda: f.FeeFactory(status="forgiven"))


def test_one_fee_per_student_consortium_and_year():
    fee = f.FeeFactory()

    def same_again():
        Fee.objects.create(
            student=fee.student,
            consortium=fee.consortium,
            academic_year=fee.academic_year,
            amount=Decimal("50.00"),
        )

    assert_rejected(same_again)
    # Another year, or another consortium, is another fee.
    assert_accepted(
        lambda: Fee.objects.create(
            student=fee.student,
            consortium=fee.consortium,
            academic_year=f.AcademicYearFactory(start_year=2027),
            amount=Decimal("50.00"),
        )
    )
    assert_accepted(
        lambda: Fee.objects.create(
            student=fee.student,
            consortium=f.ConsortiumFactory(),
            academic_year=fee.academic_year,
            amount=Decimal("0.00"),
        )
    )
