"""The test suite's one world builder: the places, people, classes and enrollments the
tests stand on, built with the factories of tests/factories.py. Synthetic data only.

The calendar: every world lives in the 2026-27 school year, and "today" is TODAY
(1 December 2026), frozen by the `today` fixture of tests/conftest.py.

Building blocks (each makes exactly the rows it says, nothing more):

- `school_year(start_year)`; `add_policy(consortium, year)`: the usual registration
  window, fee and grading deadlines; `add_skills_center(district, serves=[...])`;
- people: `add_teacher(school)` (make_staff in tests/factories.py for other roles),
  `add_student(school)`;
- agreements and classes: `add_agreement(consortium, college, years, ...)`,
  `add_section(articulation, ...)`, `make_class(world=...)` (both at once);
- enrollments and fees: `add_enrollment(student, section, status)` (any status, written
  directly), `add_fee(student, consortium, year, status)`; `advance(enrollment, status)`
  moves one through the real transition service; `settle_fee` and `waive_fee`.

Worlds: `Place` is one consortium and what is in it. `build_place(year, name=...)` makes
the staff workflows' place (a class of students and a member of staff for every role);
the student journey's place (an open registration window, a high school and a skills
center with classes) is built in tests/student/conftest.py from the same blocks. The
worlds of a single area compose these blocks where they live: tests/articulations/
conftest.py (people in every agreement role), tests/reports/conftest.py (a college ready
for transcript reports), tests/trust/access_world.py (the access matrix's personas) and
tests/scale/world.py (a world that grows, for the query counts).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import Role
from enrollment.models import Enrollment, EnrollmentStatus
from enrollment.services.transitions import enrollment_change_status
from organisations.models import HighSchool
from tests.factories import (
    AcademicYearFactory,
    ArticulationFactory,
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    ConsortiumPolicyFactory,
    DistrictFactory,
    EnrollmentFactory,
    EnrollmentStatusChangeFactory,
    FeeFactory,
    HighSchoolFactory,
    SectionFactory,
    StudentProfileFactory,
    TeacherQualificationFactory,
    make_staff,
)

S = EnrollmentStatus
TODAY = datetime.date(2026, 12, 1)  # inside the 2026-27 school year
VERIFIED = datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC)  # when students confirmed
_real_localdate = timezone.localdate


# --- the calendar ----------------------------------------------------------------------------


def localdate(value=None, timezone=None):
    """timezone.localdate with today frozen at TODAY (other datetimes convert as usual)."""
    return TODAY if value is None else _real_localdate(value, timezone)


def freeze_today(monkeypatch) -> datetime.date:
    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return TODAY


def school_year(start_year: int = 2026):
    """The school year from 1 July `start_year` to 30 June (one row per year)."""
    return AcademicYearFactory(start_year=start_year)


# --- organisations -----------------------------------------------------------------------------


def add_policy(consortium, year, **fields):
    """The consortium's policy for `year`: registration open 1 September to 15 March, fees
    due 20 June, grades 25 June, a $50 fee (any of them can be given instead)."""
    start = year.start_date.year
    window = {
        "registration_opens": datetime.date(start, 9, 1),
        "registration_closes": datetime.date(start + 1, 3, 15),
        "payment_deadline": datetime.date(start + 1, 6, 20),
        "grading_deadline": datetime.date(start + 1, 6, 25),
        "annual_fee": Decimal("50.00"),
    }
    return ConsortiumPolicyFactory(consortium=consortium, academic_year=year, **window | fields)


def add_skills_center(district, *, serves, **fields):
    """A skills center in `district` that serves the districts `serves`."""
    center = HighSchoolFactory(district=district, kind=HighSchool.Kind.SKILLS_CENTER, **fields)
    center.served_districts.add(*serves)
    return center


# --- people ------------------------------------------------------------------------------------


def add_teacher(school, *, invited: bool = False, **user_fields):
    """A teacher at `school`. Invited: not activated yet (inactive, no usable password, as
    organisations.services leaves an invited teacher)."""
    user = make_staff(Role.TEACHER, school, **user_fields)
    if invited:
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
    return user


def add_student(school=None, *, verified: bool = True, **fields):
    """A student of `school` (by default a school of their own, in a consortium of its
    own), whose email is confirmed unless `verified` is False; `fields` go to
    StudentProfileFactory (user__email=... for the account)."""
    if school is not None:
        fields["high_school"] = school
    if not verified:
        fields["user__email_verified_at"] = None
    return StudentProfileFactory(**fields)


# --- agreements and classes ----------------------------------------------------------------


def add_agreement(consortium, college, years, *, courses=None, schools=(), teachers=(), **fields):
    """An agreement (active unless `status` says otherwise) of `college`, valid in `years`,
    offered at `schools`, with `teachers` qualified to teach it. Without `courses`, a new
    college course of its own."""
    if courses is not None:
        fields["college_courses"] = courses
    agreement = ArticulationFactory(
        consortium=consortium, college=college, valid_years=list(years), **fields
    )
    if schools:
        agreement.high_schools.add(*schools)
    for teacher in teachers:
        TeacherQualificationFactory(articulation=agreement, teacher=teacher)
    return agreement


def add_section(articulation, *, school=None, year=None, teacher=None, **fields):
    """A class of `articulation`. Left out: a new school (in the agreement's consortium),
    the factories' year (2026-27), a new teacher account without a role."""
    given = {"high_school": school, "academic_year": year, "teacher": teacher}
    fields.update({name: value for name, value in given.items() if value is not None})
    return SectionFactory(articulation=articulation, **fields)


def make_class(*, world, school=None, year=None, teacher=None, title=None, **articulation):
    """An active agreement of the world's college valid for the year (the world's unless
    given), with a class of it at `school` (the world's high school) taught by `teacher`
    (a new account). `title` names the high school course."""
    year = year or world.year
    if title:
        articulation["high_school_course__title"] = title
    agreement = add_agreement(world.consortium, world.college, [year], **articulation)
    return add_section(agreement, school=school or world.school, year=year, teacher=teacher)


# --- enrollments and fees ------------------------------------------------------------------


FINAL_GRADE = (S.GRADED, S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED)


def add_enrollment(
    student, section, status=S.REGISTERED, *, grade="A", history=0, actor=None, registered_by=None
) -> Enrollment:
    """`student` in `section` at `status`, written directly (a fixture, not a transition:
    `advance` goes through the rules), with `history` rows of status history, changed by
    `actor` or else in turn by the teacher and by `registered_by`."""
    extra = {"registered_by": registered_by}
    if status in FINAL_GRADE:
        extra.update(grade=grade, graded_at=timezone.now(), graded_by=section.teacher)
    if status == S.TRANSCRIBED:
        extra.update(transcribed_on=TODAY, college_student_id=f"C{student.pk:06d}")
    enrollment = EnrollmentFactory(student=student, section=section, status=status, **extra)
    for n in range(history):
        EnrollmentStatusChangeFactory(
            enrollment=enrollment,
            from_status="" if n == 0 else status,
            to_status=status,
            changed_by=actor or (section.teacher if n % 2 == 0 else registered_by),
        )
    return enrollment


def add_fee(student, consortium, year, status="unpaid", *, amount=Decimal("50.00"), **fields):
    """The student's fee for `year`: unpaid, paid in full today, or waived for financial
    hardship (`fields`: receipt_number, recorded_by...)."""
    if status == "paid":
        fields = {"paid_amount": amount, "paid_on": TODAY} | fields
    if status == "waived":
        fields = {"waiver_reason": "Financial hardship"} | fields
    return FeeFactory(
        student=student,
        consortium=consortium,
        academic_year=year,
        amount=amount,
        status=status,
        **fields,
    )


PATHS = {
    S.CONFIRMED: [S.CONFIRMED],
    S.GRADED: [S.CONFIRMED, S.GRADED],
    S.ATTAINED: [S.CONFIRMED, S.GRADED, S.ATTAINED],
    S.NOT_ATTAINED: [S.CONFIRMED, S.GRADED, S.NOT_ATTAINED],
    S.TRANSCRIBED: [S.CONFIRMED, S.GRADED, S.ATTAINED, S.TRANSCRIBED],
}


def advance(
    enrollment: Enrollment,
    to_status: str = S.ATTAINED,
    *,
    grade: str = "A",
    actor=None,
    transcribed_on=TODAY,
    college_student_id="C-100",
) -> Enrollment:
    """Move an enrollment along the usual path through the one transition service, as the
    teacher (or `actor`) would: confirmed, graded `grade`, and on to `to_status`."""
    actor = actor or enrollment.section.teacher
    for status in PATHS[to_status]:
        extra = {}
        if status == S.GRADED:
            extra["grade"] = grade
        if status == S.TRANSCRIBED:
            extra = {"transcribed_on": transcribed_on, "college_student_id": college_student_id}
        enrollment_change_status(
            enrollment_id=enrollment.pk, to_status=status, actor=actor, **extra
        )
    enrollment.refresh_from_db()
    return enrollment


def settle_fee(enrollment: Enrollment) -> None:
    """Waive the student's fee (their only one) for financial hardship."""
    fee = enrollment.student.fees.get()
    fee.status = "waived"
    fee.waiver_reason = "Financial hardship"
    fee.save()


def waive_fee(enrollment: Enrollment):
    """A waived fee of the student for the class's consortium and year (for a student who
    has no fee there yet)."""
    section = enrollment.section
    return add_fee(
        enrollment.student, section.articulation.consortium, section.academic_year, "waived"
    )


# --- the usual place -------------------------------------------------------------------------


@dataclass
class Place:
    """One consortium and what is in it. Only what a world builds is set."""

    year: object
    consortium: object
    policy: object
    college: object
    district: object
    school: object
    course: object = None
    articulation: object = None
    teacher: object = None
    section: object = None
    registrar: object = None
    specialist: object = None
    admin: object = None
    skills_center: object = None
    sections: list = field(default_factory=list)  # more classes, where a world has them
    students: list = field(default_factory=list)
    enrollments: list = field(default_factory=list)


def build_place(year, *, name: str, students: int = 3) -> Place:
    """`name` Consortium with its policy for `year`, a college with a course, a district
    with a high school, an agreement (minimum grade B) taught there in a class of `year`
    by a teacher, a registrar, a career specialist of the district and a consortium admin;
    `students` students in the class, each with an unpaid fee."""
    consortium = ConsortiumFactory(name=f"{name} Consortium")
    policy = add_policy(consortium, year)
    college = CollegeFactory(consortium=consortium, name=f"{name} College")
    course = CollegeCourseFactory(college=college, prefix="CS", number="110")
    district = DistrictFactory(consortium=consortium)
    school = HighSchoolFactory(district=district, name=f"{name} High School")
    articulation = add_agreement(
        consortium,
        college,
        [year],
        courses=[course],
        schools=[school],
        minimum_grade_scale="letter",
        minimum_grade="B",
        high_school_course__title=f"{name} Web Design",
    )
    teacher = add_teacher(school, first_name="Terry", last_name=f"{name}")
    place = Place(
        year=year,
        consortium=consortium,
        policy=policy,
        college=college,
        district=district,
        school=school,
        course=course,
        articulation=articulation,
        teacher=teacher,
        section=add_section(articulation, school=school, year=year, teacher=teacher),
        registrar=make_staff(Role.REGISTRAR, college),
        specialist=make_staff(Role.CAREER_SPECIALIST, district),
        admin=make_staff(Role.CONSORTIUM_ADMIN, consortium),
    )
    for _ in range(students):
        enroll(place)
    return place


def enroll(place: Place, year=None, **student_fields) -> Enrollment:
    """A new student of the place's school, registered in its class, with an unpaid fee for
    `year` (the place's); `student_fields` go to add_student."""
    year = year or place.year
    student = add_student(place.school, **student_fields)
    enrollment = add_enrollment(student, place.section)
    add_fee(student, place.consortium, year)
    place.students.append(student)
    place.enrollments.append(enrollment)
    return enrollment
