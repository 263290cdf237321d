"""A world of synthetic records that can grow, for the query-count tests.

`build_world()` lays down one consortium with a person for every role and one *unit* of
everything the pages list; `World.grow(units)` adds more units around the same objects,
so the page of one class, one student or one fee shows more rows, and the lists (classes,
fees, duplicates, class requests, report jobs, roll-over runs, agreements, teachers,
colleges' courses, consortia) get longer. A unit adds, among others:

- a past school year with its policy, and a transcribed credit and a paid fee in it for
  the student (more years of history);
- a high school, an agreement taught there and at the main school (with a second college
  course and a qualified teacher), a class of it for the main teacher this year;
- four students in the main class (registered, ready to transcribe, waiting on a fee,
  transcribed), with fees and history;
- a status-history row on the main enrollment, a change on the main fee, an applied
  legal-name correction and a merged record for the main student, a retired version of
  the main agreement;
- an open possible-duplicate pair, a pending class request, an invited teacher;
- a finished transcript-credit report (with its file and rows), a roll-over run;
- another consortium with its own college, school, agreement and class.

Statuses and grades are written directly (with history rows from the factories): these
are fixtures, not a test of the transition rules. Built with the blocks of tests/world.py.
Synthetic data only.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import count

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accesslog.services import access_log_record
from accounts.models import Role, RoleMembership
from articulations.models import Articulation, RolloverRun, TeacherQualification
from enrollment.models import (
    FeeChange,
    IdentityChange,
    PossibleDuplicate,
    SectionRequest,
    SisClass,
    SisClassMapping,
    SisEnrollment,
    SisImport,
    SisStudent,
    StudentMerge,
)
from enrollment.services.signup import email_verification_token
from organisations.models import AcademicYear, CareerCluster
from organisations.services import teacher_activation_token
from reports.models import ReportJob, TranscriptReportRow
from tests.factories import (
    ArticulationStatusChangeFactory,
    CollegeCourseFactory,
    CollegeFactory,
    ConsortiumFactory,
    ConsortiumPolicyFactory,
    DistrictFactory,
    EnrollmentStatusChangeFactory,
    HighSchoolCourseFactory,
    HighSchoolFactory,
    make_staff,
)
from tests.world import (
    S,
    add_agreement,
    add_enrollment,
    add_fee,
    add_policy,
    add_section,
    add_skills_center,
    add_student,
    add_teacher,
    school_year,
)

# Every student of the world shares this last name, so one staff lookup finds them all.
LOOKUP_NAME = "Scaleby"
GENDERS = ["female", "male", "nonbinary", "not_listed"]
RACES = ["asian", "black", "hispanic", "white", "multiracial"]
_serial = count(1)


def _n() -> int:
    return next(_serial)


@dataclass
class World:
    year: AcademicYear
    next_year: AcademicYear
    consortium: object
    policy: object
    college: object
    course: object
    district: object
    school: object
    articulation: object
    draft: object
    teacher: object
    section: object
    registrar: object
    approver: object
    specialist: object
    admin: object
    state: object
    student: object  # the main student's profile
    unverified: object  # a student who has not confirmed their email yet
    dup_student: object  # the other half of the main possible-duplicate pair
    enrollment: object  # the main student's registration in the main class
    ready: object  # attained, fee waived: in the registrar's "ready" list
    transcribed: object
    fee: object  # the main student's fee this year
    duplicate: object
    invited: object  # a teacher invited and not yet activated
    job: object  # a finished transcript-credit report with a file
    sis_import: object  # the main school's class lists (its SIS), the main class mapped
    units: int = 0
    past_years: list = field(default_factory=list)

    # --- tokens for the pages reached from an email -------------------------------------------

    def password_reset_path(self) -> tuple[str, str]:
        user = self.student.user
        return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)

    def activation_path(self) -> tuple[str, str]:
        user = self.invited
        return urlsafe_base64_encode(force_bytes(user.pk)), teacher_activation_token.make_token(
            user
        )

    def verification_token(self) -> str:
        return email_verification_token(user=self.unverified.user)

    # --- growing --------------------------------------------------------------------------------

    def grow(self, units: int = 1) -> "World":
        for _ in range(units):
            self.units += 1
            _add_unit(self, self.units)
        return self


# The world's people are numbered (one count for students, teachers and receipts), and
# every enrollment has history (each row by a person, so a page that shows who changed
# what without loading them at once shows it).


def _student(school, *, verified: bool = True, **fields):
    n = _n()
    fields.setdefault("legal_last_name", LOOKUP_NAME)
    fields.setdefault("legal_first_name", f"Pat{n}")
    fields.setdefault("gender", GENDERS[n % len(GENDERS)])
    fields.setdefault("race_ethnicity", RACES[n % len(RACES)])
    return add_student(
        school,
        verified=verified,
        birth_date=datetime.date(2009, 1, 1) + datetime.timedelta(days=n),
        user__email=f"scale-student{n}@example.org",
        **fields,
    )


def _teacher(school, *, invited: bool = False):
    n = _n()
    return add_teacher(
        school,
        invited=invited,
        email=f"scale-teacher{n}@example.org",
        first_name="Terry",
        last_name=f"T{n}",
    )


def _fee(student, consortium, year, status="unpaid", **fields):
    if status == "paid":
        fields["receipt_number"] = f"R{_n()}"
    return add_fee(student, consortium, year, status, **fields)


_enroll = partial(add_enrollment, history=1)


def build_world() -> World:
    """The smallest world: the skeleton and one unit."""
    year = school_year(2026)
    next_year = school_year(2027)
    consortium = ConsortiumFactory(name="Scale Consortium", show_teacher_names_publicly=True)
    policy = add_policy(consortium, year)
    college = CollegeFactory(consortium=consortium, name="Scale College")
    course = CollegeCourseFactory(college=college, prefix="CS", number="110")
    district = DistrictFactory(consortium=consortium, name="Scale District")
    school = HighSchoolFactory(district=district, name="Scale High School")
    articulation = add_agreement(
        consortium,
        college,
        [year],
        courses=[course],
        schools=[school],
        agreement_number="AG-SCALE",
        version=50,
        high_school_course__title="Scale Web Design",
    )
    draft = add_agreement(
        consortium,
        college,
        [year],
        courses=[course],
        schools=[school],
        status=Articulation.Status.DRAFT,
        high_school_course__title="Scale Draft Course",
    )
    teacher = _teacher(school)
    TeacherQualification.objects.create(articulation=articulation, teacher=teacher)
    section = add_section(articulation, school=school, year=year, teacher=teacher)
    admin = make_staff(Role.CONSORTIUM_ADMIN, consortium, email="scale-admin@example.org")
    student = _student(school, legal_first_name="Main")
    unverified = _student(school, verified=False)
    dup_student = _student(school, legal_first_name="Mayn")
    enrollment = _enroll(student, section, S.REGISTERED)
    _enroll(dup_student, section, S.REGISTERED)
    ready_student = _student(school)
    ready = _enroll(ready_student, section, S.ATTAINED)
    _fee(ready_student, consortium, year, "waived")
    done_student = _student(school)
    transcribed = _enroll(done_student, section, S.TRANSCRIBED)
    _fee(done_student, consortium, year, "paid")
    fee = _fee(student, consortium, year)
    _fee(dup_student, consortium, year)
    registrar = make_staff(Role.REGISTRAR, college, email="scale-registrar@example.org")
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        requested_by=registrar,
        college=college,
        academic_year=year,
        status=ReportJob.Status.DONE,
        progress=100,
        row_count=0,
        rows_saved=True,
        finished_at=timezone.now(),
        file_name="transcript-credit.csv",
    )
    job.file = default_storage.save(f"scale-reports/{job.pk}.csv", ContentFile(b"a,b\n1,2\n"))
    job.export_log_entry = access_log_record(
        actor=registrar, action="export", what="scale report", student_ids=[ready_student.pk]
    )
    job.save(update_fields=["file", "export_log_entry"])
    TranscriptReportRow.objects.create(job=job, enrollment=ready)
    world = World(
        year=year,
        next_year=next_year,
        consortium=consortium,
        policy=policy,
        college=college,
        course=course,
        district=district,
        school=school,
        articulation=articulation,
        draft=draft,
        teacher=teacher,
        section=section,
        registrar=registrar,
        approver=make_staff(Role.COLLEGE_APPROVER, college, email="scale-approver@example.org"),
        specialist=make_staff(
            Role.CAREER_SPECIALIST, district, email="scale-specialist@example.org"
        ),
        admin=admin,
        state=make_staff(Role.STATE_STAFF, email="scale-state@example.org"),
        student=student,
        unverified=unverified,
        dup_student=dup_student,
        enrollment=enrollment,
        ready=ready,
        transcribed=transcribed,
        fee=fee,
        duplicate=PossibleDuplicate.objects.create(
            student=dup_student,
            existing_student=student,
            match_kind="variant",
            source=PossibleDuplicate.Source.SIGN_UP,
        ),
        invited=_teacher(school, invited=True),
        job=job,
        sis_import=SisImport.objects.create(high_school=school, imported_by=admin),
    )
    SisClassMapping.objects.create(
        high_school=school, class_sourced_id="class-main", section=section, decided_by=admin
    )
    SisClass.objects.create(sis_import=world.sis_import, sourced_id="class-main", title="Web")
    return world.grow(1)


def _add_unit(w: World, i: int) -> None:
    """One more of everything the pages list (see the module docstring)."""
    # A past school year: its policy, a transcribed credit and a paid fee for the student.
    past = school_year(2026 - i)
    w.past_years.append(past)
    ConsortiumPolicyFactory(consortium=w.consortium, academic_year=past, annual_fee=Decimal("25"))
    w.articulation.valid_years.add(past)

    # A school and an agreement taught there and at the main school.
    school = HighSchoolFactory(district=w.district, name=f"Scale School {i}")
    course = CollegeCourseFactory(college=w.college, prefix="CS", number=f"{200 + i}")
    teacher = _teacher(school)
    RoleMembership.objects.create(user=teacher, role=Role.TEACHER, high_school=w.school)
    # The main teacher teaches at the new school too.
    RoleMembership.objects.create(user=w.teacher, role=Role.TEACHER, high_school=school)
    articulation = add_agreement(
        w.consortium,
        w.college,
        [w.year, past],
        courses=[w.course, course],
        schools=[w.school, school],
        teachers=[w.teacher, teacher],
        high_school_course=HighSchoolCourseFactory(consortium=w.consortium),
    )
    ArticulationStatusChangeFactory(articulation=articulation, changed_by=w.admin)
    ArticulationStatusChangeFactory(
        articulation=articulation,
        from_status=Articulation.Status.SUBMITTED,
        to_status=Articulation.Status.APPROVED,
        changed_by=w.approver,
    )
    # The main agreement gets a school, a course, a teacher, history and an old version.
    w.articulation.high_schools.add(school)
    w.articulation.college_courses.add(course)
    TeacherQualification.objects.create(articulation=w.articulation, teacher=teacher)
    ArticulationStatusChangeFactory(
        articulation=w.articulation,
        from_status=Articulation.Status.APPROVED,
        to_status=Articulation.Status.ACTIVE,
        changed_by=w.admin,
    )
    add_agreement(
        w.consortium,
        w.college,
        [past],
        courses=[w.course],
        schools=[w.school],
        agreement_number=w.articulation.agreement_number,
        version=w.articulation.version - i,
        status=Articulation.Status.RETIRED,
        high_school_course=w.articulation.high_school_course,
    )
    w.draft.high_schools.add(school)
    # A skills center in another district that serves the main district, teaching it too.
    center = add_skills_center(
        DistrictFactory(consortium=w.consortium),
        serves=[w.district],
        name=f"Scale Skills Center {i}",
    )
    articulation.high_schools.add(center)
    center_section = add_section(articulation, school=center, year=w.year, teacher=teacher)
    w.draft.college_courses.add(course)

    # This year: a class of the new agreement for the main teacher, with the main student
    # (and the other half of the duplicate pair) in it.
    section = add_section(articulation, school=w.school, year=w.year, teacher=w.teacher)
    _enroll(w.student, section, S.CONFIRMED, history=2)
    _enroll(w.dup_student, section, S.REGISTERED)
    # A past class: transcribed credit, paid fee, for the student and the duplicate.
    past_section = add_section(
        articulation,
        school=w.school,
        year=past,
        teacher=teacher,
        completed_at=timezone.now(),
        completed_by=teacher,
    )
    _enroll(w.student, past_section, S.TRANSCRIBED, history=3)
    _enroll(w.dup_student, past_section, S.NOT_ATTAINED, grade="D")
    _fee(w.student, w.consortium, past, "paid", recorded_by=w.admin)
    _fee(w.dup_student, w.consortium, past, "waived", recorded_by=w.admin)

    # Four more students in the main class.
    for status, fee_status in (
        (S.REGISTERED, "unpaid"),
        (S.ATTAINED, "waived"),
        (S.ATTAINED, "unpaid"),
        (S.TRANSCRIBED, "paid"),
    ):
        other = _student(school if status == S.ATTAINED else w.school)
        enrollment = _enroll(other, w.section, status, history=2, registered_by=w.specialist)
        _fee(other, w.consortium, w.year, fee_status, recorded_by=w.admin)
        if status == S.TRANSCRIBED:
            TranscriptReportRow.objects.create(job=w.job, enrollment=enrollment)

    # Every other status in the main class, and a withdrawal for the student.
    for status in (S.CONFIRMED, S.GRADED, S.NOT_ATTAINED, S.WITHDRAWN, S.REMOVED):
        other = _student(w.school)
        _enroll(other, w.section, status, grade="D", history=2, registered_by=w.admin)
        _fee(other, w.consortium, w.year, "unpaid")
    _enroll(w.student, center_section, S.WITHDRAWN, history=2)

    # History on the main records.
    EnrollmentStatusChangeFactory(
        enrollment=w.enrollment,
        from_status=S.REGISTERED,
        to_status=S.REGISTERED,
        changed_by=w.admin,
    )
    FeeChange.objects.create(
        fee=w.fee,
        from_status="unpaid",
        to_status="unpaid",
        note=f"Reminder {i}",
        changed_by=w.admin,
    )
    s = w.student
    IdentityChange.objects.create(
        student=s,
        old_first_name=s.legal_first_name,
        old_last_name=s.legal_last_name,
        old_birth_date=s.birth_date,
        new_first_name=s.legal_first_name,
        new_last_name=s.legal_last_name,
        new_birth_date=s.birth_date,
        reason=f"Spelling {i}",
        status=IdentityChange.Status.APPLIED,
        requested_by=s.user,
    )
    IdentityChange.objects.create(
        student=s,
        old_first_name=s.legal_first_name,
        old_last_name=s.legal_last_name,
        old_birth_date=s.birth_date,
        new_first_name=f"{s.legal_first_name}e",
        new_last_name=s.legal_last_name,
        new_birth_date=s.birth_date,
        reason=f"Nickname {i}",
        status=IdentityChange.Status.REJECTED,
        requested_by=s.user,
        decided_by=w.admin,
        decided_at=timezone.now(),
        decision_note="Not on the birth certificate",
    )
    merged = _student(w.school, legal_first_name=f"Old{i}")
    _enroll(merged, past_section, S.WITHDRAWN)
    merged.merged_into = s
    merged.save(update_fields=["merged_into"])
    StudentMerge.objects.create(survivor=s, merged=merged, merged_by=w.admin, reason="Same person")

    # The school's class lists: an older upload, a class nobody mapped, and two students
    # in the main class at school (one registered, one not).
    SisImport.objects.create(high_school=w.school, imported_by=w.specialist, is_current=False)
    SisClass.objects.create(sis_import=w.sis_import, sourced_id=f"class-{i}", title=f"Art {i}")
    main_class = SisClass.objects.get(sis_import=w.sis_import, sourced_id="class-main")
    for given, family in ((s.legal_first_name, s.legal_last_name), ("Sam", f"Absent{i}")):
        sis_student = SisStudent.objects.create(
            sis_import=w.sis_import,
            sourced_id=f"user-{_n()}",
            given_name=given,
            family_name=family,
        )
        SisEnrollment.objects.create(sis_class=main_class, sis_student=sis_student)

    # Work queues: a possible duplicate, a class request, an invited teacher.
    a, b = _student(w.school), _student(school)
    _enroll(a, section, S.REGISTERED)
    _enroll(b, section, S.REGISTERED)
    PossibleDuplicate.objects.create(
        student=a,
        existing_student=b,
        match_kind="same",
        source=PossibleDuplicate.Source.STAFF_CHECK,
    )
    SectionRequest.objects.create(
        teacher=teacher,
        articulation=articulation,
        high_school=w.school,
        academic_year=w.year,
        section_code=f"R{i}",
        note="Please",
    )
    SectionRequest.objects.create(  # one of the main teacher's, already declined
        teacher=w.teacher,
        articulation=articulation,
        high_school=school,
        academic_year=w.year,
        section_code=f"D{i}",
        status=SectionRequest.Status.DECLINED,
        decided_by=w.admin,
        decided_at=timezone.now(),
        decision_note="No room",
    )
    PossibleDuplicate.objects.create(  # reviewed: out of the queue
        student=b,
        existing_student=a,
        match_kind="close",
        source=PossibleDuplicate.Source.SIGN_UP,
        status=PossibleDuplicate.Status.DIFFERENT_PEOPLE,
        reviewed_by=w.admin,
        reviewed_at=timezone.now(),
    )
    # Admin-log history of the policy and of the main teacher, by different people.
    for actor, obj in ((w.admin, w.policy), (w.state, w.policy), (w.admin, w.teacher)):
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[obj],
            action_flag=CHANGE,
            change_message=f"Change {i}",
            single_object=True,
        )
    _teacher(school, invited=True)
    # The access log: the teacher viewed the class, the admin exported some records.
    access_log_record(
        actor=w.teacher, action="view", what="class roster", student_ids=[s.pk, a.pk, b.pk]
    )
    access_log_record(
        actor=w.admin, action="export", what="fee list", student_ids=[s.pk, w.dup_student.pk]
    )

    # Reports: a finished transcript report for the registrar and a table for state staff.
    ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        requested_by=w.registrar,
        college=w.college,
        academic_year=past,
        status=ReportJob.Status.DONE,
        progress=100,
        row_count=0,
        finished_at=timezone.now(),
        file_name=f"report-{i}.csv",
        file=w.job.file,
    )
    ReportJob.objects.create(  # a re-run of the main report
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        requested_by=w.registrar,
        college=w.college,
        academic_year=w.year,
        source_job=w.job,
        status=ReportJob.Status.FAILED,
        error="Worker lost",
    )
    ReportJob.objects.create(
        kind=ReportJob.Kind.DASHBOARD_TABLE,
        requested_by=w.state,
        academic_year=w.year,
        parameters={"table": "breakdown", "dimension": "college"},
        status=ReportJob.Status.QUEUED,
    )
    ReportJob.objects.create(  # the consortium admin's export of a year's enrollments
        kind=ReportJob.Kind.ENROLLMENTS,
        requested_by=w.admin,
        academic_year=past,
        status=ReportJob.Status.DONE,
        progress=100,
        row_count=3,
        finished_at=timezone.now(),
        file_name=f"enrollments-{i}.csv",
        file=w.job.file,
    )
    RolloverRun.objects.create(
        consortium=w.consortium,
        from_year=past,
        to_year=w.year,
        requested_by=w.admin,
        status=RolloverRun.Status.DONE,
        finished_at=timezone.now(),
        renewed_count=i,
    )

    # Another consortium, with everything in it, for the statewide pages.
    other = ConsortiumFactory(name=f"Scale Other Consortium {i}")
    ConsortiumPolicyFactory(consortium=other, academic_year=w.year)
    other_college = CollegeFactory(consortium=other)
    other_school = HighSchoolFactory(district=DistrictFactory(consortium=other))
    other_articulation = add_agreement(
        other,
        other_college,
        [w.year],
        schools=[other_school],
        cluster=CareerCluster.objects.filter(framework="2008").order_by("code")[i % 16],
    )
    other_section = add_section(
        other_articulation, school=other_school, year=w.year, teacher=_teacher(other_school)
    )
    for status in (S.REGISTERED, S.ATTAINED):
        st = _student(other_school)
        _enroll(st, other_section, status)
        _fee(st, other, w.year, "paid")
