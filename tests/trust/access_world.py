"""The world of the access matrix (tests/trust/test_access_matrix.py): our consortium
(`here`: a college, a district, a high school, a class, students and staff) owns one
object of every kind a URL can name. The "other_" personas hold the right role but not
the scope, with objects of their own: the other admin runs a second consortium (`there`);
the other registrar (a second college), the other teacher (a second school) and the other
student (a classmate of our student, registered in that teacher's class) are inside our
consortium (`neighbours`), so scoping by consortium where it should be by college,
school or person shows. Built with tests/world.py (`here` and `there` are its Places).
Synthetic data only."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Role, User
from articulations.models import TeacherQualification
from enrollment.models import (
    IdentityChange,
    PossibleDuplicate,
    SectionRequest,
    SisClass,
    SisImport,
)
from enrollment.services.signup import email_verification_token
from organisations.services import teacher_activation_token
from reports.models import ReportJob
from tests.factories import (
    CollegeCourseFactory,
    CollegeFactory,
    DistrictFactory,
    HighSchoolFactory,
    make_staff,
)
from tests.world import (
    Place,
    S,
    add_agreement,
    add_enrollment,
    add_fee,
    add_section,
    add_student,
    add_teacher,
    advance,
    build_place,
    school_year,
    settle_fee,
)

ANONYMOUS = "anonymous"
STUDENT = "student"
OTHER_STUDENT = "other_student"
TEACHER = "teacher"
OTHER_TEACHER = "other_teacher"
SPECIALIST = "specialist"
REGISTRAR = "registrar"
OTHER_REGISTRAR = "other_registrar"
ADMIN = "admin"
OTHER_ADMIN = "other_admin"
STATE = "state"
PERSONAS = (
    ANONYMOUS,
    STUDENT,
    OTHER_STUDENT,
    TEACHER,
    OTHER_TEACHER,
    SPECIALIST,
    REGISTRAR,
    OTHER_REGISTRAR,
    ADMIN,
    OTHER_ADMIN,
    STATE,
)


@dataclass
class World:
    year: object
    here: Place
    there: Place  # another consortium: its admin is the other_admin persona
    neighbours: object  # inside our consortium: the other student, teacher and registrar
    users: dict  # persona -> User (no entry for the anonymous visitor)
    sessions: dict  # persona -> session key of a signed-in session, made once
    student: object  # the student persona's profile (ours)
    enrollment: object  # the student's enrollment in our class: registered
    attained: object  # attained, fee settled: waiting for the registrar
    transcribed: object  # already on the college transcript
    fee: object
    identity_change: object
    duplicate: object  # an open pair of likely duplicates among our students
    duplicate_student: object  # the newer record of that pair
    section_request: object
    report_job: object
    sis_import: object  # our school's class lists, uploaded by our career specialist
    teacher_token: tuple  # (uidb64, token): our teacher's invitation (already used)
    reset_token: tuple  # (uidb64, token): a password-reset link of the student
    verify_token: str  # the student's email-confirmation link

    @property
    def section(self):
        return self.here.section


def signed_in_session(user) -> str:
    """The key of a session signed in as `user` (as the test client's force_login makes it)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@dataclass
class Neighbours:
    """Inside our consortium, but outside the scope of our objects: a second college with
    its registrar and a class at a second school with its teacher, where a classmate of
    our student (same high school) is registered."""

    college: object
    registrar: object
    school: object
    teacher: object
    section: object
    student: object
    enrollment: object


def make_neighbours(here: Place, year) -> Neighbours:
    college = CollegeFactory(consortium=here.consortium, name="Neighbour College")
    course = CollegeCourseFactory(college=college, prefix="BUS", number="101")
    school = HighSchoolFactory(
        district=DistrictFactory(consortium=here.consortium), name="Neighbour High School"
    )
    articulation = add_agreement(
        here.consortium, college, [year], courses=[course], schools=[school]
    )
    teacher = add_teacher(school)
    section = add_section(articulation, school=school, year=year, teacher=teacher)
    student = add_student(here.school)
    enrollment = add_enrollment(student, section)
    add_fee(student, here.consortium, year)
    return Neighbours(
        college=college,
        registrar=make_staff(Role.REGISTRAR, college),
        school=school,
        teacher=teacher,
        section=section,
        student=student,
        enrollment=enrollment,
    )


def build_world() -> World:
    year = school_year(2026)
    here = build_place(year, name="Cascade", students=3)
    there = build_place(year, name="Desert", students=1)
    student = here.students[0]
    enrollment = here.enrollments[0]
    attained = advance(here.enrollments[1], S.ATTAINED)
    settle_fee(attained)
    transcribed = advance(here.enrollments[2], S.TRANSCRIBED, actor=here.registrar)
    identity_change = IdentityChange.objects.create(
        student=student,
        old_first_name=student.legal_first_name,
        old_last_name=student.legal_last_name,
        old_birth_date=student.birth_date,
        new_first_name="Renamed",
        new_last_name=student.legal_last_name,
        new_birth_date=student.birth_date,
        reason="Court order",
        status=IdentityChange.Status.PENDING,
        requested_by=student.user,
    )
    duplicate_student = add_student(here.school)
    duplicate = PossibleDuplicate.objects.create(
        student=duplicate_student,
        existing_student=here.students[1],
        match_kind="close",
        source="sign_up",
    )
    section_request = SectionRequest.objects.create(
        teacher=here.teacher,
        articulation=here.articulation,
        high_school=here.school,
        academic_year=year,
        section_code="P9",
    )
    TeacherQualification.objects.create(articulation=here.articulation, teacher=here.teacher)
    report_job = ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        requested_by=here.registrar,
        college=here.college,
        academic_year=year,
    )
    sis_import = SisImport.objects.create(high_school=here.school, imported_by=here.specialist)
    SisClass.objects.create(sis_import=sis_import, sourced_id="class-1", title="Web Design")
    neighbours = make_neighbours(here, year)
    users = {
        STUDENT: student.user,
        OTHER_STUDENT: neighbours.student.user,
        TEACHER: here.teacher,
        OTHER_TEACHER: neighbours.teacher,
        SPECIALIST: here.specialist,
        REGISTRAR: here.registrar,
        OTHER_REGISTRAR: neighbours.registrar,
        ADMIN: here.admin,
        OTHER_ADMIN: there.admin,
        STATE: make_staff(Role.STATE_STAFF),
    }
    assert not User.objects.filter(is_staff=True).exists()  # the admin rule relies on it
    sessions = {persona: signed_in_session(user) for persona, user in users.items()}
    # Links made after signing in (a password-reset token changes with the last sign-in).
    teacher_token = (
        urlsafe_base64_encode(force_bytes(here.teacher.pk)),
        teacher_activation_token.make_token(here.teacher),
    )
    reset_token = (
        urlsafe_base64_encode(force_bytes(student.user.pk)),
        default_token_generator.make_token(student.user),
    )
    return World(
        year=year,
        here=here,
        there=there,
        neighbours=neighbours,
        users=users,
        sessions=sessions,
        student=student,
        enrollment=enrollment,
        attained=attained,
        transcribed=transcribed,
        fee=student.fees.get(),
        identity_change=identity_change,
        duplicate=duplicate,
        duplicate_student=duplicate_student,
        section_request=section_request,
        report_job=report_job,
        sis_import=sis_import,
        teacher_token=teacher_token,
        reset_token=reset_token,
        verify_token=email_verification_token(user=student.user),
    )
