"""The Django admin: every page loads, changelists stay at a fixed number of queries,
and the rules that protect the records hold (status only through the service,
history read only). One module over 600 lines: the admin is one site, and its pages share
the fixtures that fill every changelist."""

import datetime
import itertools

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesslog.models import AccessLogEntry, AccessLogStudent
from accesslog.services import access_log_record
from accounts.models import EmailFailure, Role, RoleMembership, SentEmail, User
from api.models import ApiToken
from api.services import api_token_create
from articulations.models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    RolloverRun,
    TeacherQualification,
)
from enrollment.models import (
    Enrollment,
    EnrollmentStatusChange,
    Fee,
    FeeChange,
    IdentityChange,
    PossibleDuplicate,
    Section,
    SectionRequest,
    SisClass,
    SisClassMapping,
    SisEnrollment,
    SisImport,
    SisStudent,
    StudentMerge,
    StudentProfile,
)
from enrollment.services.transitions import enrollment_change_status
from operations.models import ScheduledJobRun
from organisations.models import (
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)
from reports.models import DashboardAggregate, ReportJob, TranscriptReportRow
from tests import factories as f

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"consortia", "articulations", "enrollment", "reports", "api"}
MAX_CHANGELIST_QUERIES = 20
_numbers = itertools.count(1)


def _membership():
    n = next(_numbers)
    role, scope = [
        (Role.TEACHER, {"high_school": f.HighSchoolFactory()}),
        (Role.REGISTRAR, {"college": f.CollegeFactory()}),
        (Role.CAREER_SPECIALIST, {"district": f.DistrictFactory()}),
        (Role.CONSORTIUM_ADMIN, {"consortium": f.ConsortiumFactory()}),
        (Role.STATE_STAFF, {}),
    ][n % 5]
    return RoleMembership.objects.create(user=f.UserFactory(), role=role, **scope)


def _enrollment():
    enrollment = f.EnrollmentFactory()
    enrollment_change_status(
        enrollment_id=enrollment.pk, to_status="confirmed", actor=enrollment.section.teacher
    )
    return Enrollment.objects.get(pk=enrollment.pk)


def _enrollment_history():
    return _enrollment().status_changes.get()


def _user():
    user = f.UserFactory()
    f.RoleMembershipFactory(user=user, role=Role.STATE_STAFF)
    f.StudentProfileFactory(user=user)
    return user


def _rollover_run():
    policy = f.ConsortiumPolicyFactory()
    return RolloverRun.objects.create(
        consortium=policy.consortium,
        from_year=policy.academic_year,
        to_year=f.AcademicYearFactory(start_year=policy.academic_year.start_date.year + 1),
        requested_by=f.UserFactory(),
        status="done",
        renewed_count=3,
    )


def _possible_duplicate():
    existing = f.StudentProfileFactory()
    return PossibleDuplicate.objects.create(
        student=f.StudentProfileFactory(birth_date=existing.birth_date),
        existing_student=existing,
        match_kind="close",
        source="sign_up",
    )


def _access_log_entry():
    return access_log_record(
        actor=f.UserFactory(),
        action=AccessLogEntry.Action.VIEW,
        what="admin test",
        student_ids=[f.StudentProfileFactory().pk],
    )


def _report_job():
    return ReportJob.objects.create(
        kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
        requested_by=f.UserFactory(),
        college=f.CollegeFactory(),
        academic_year=f.AcademicYearFactory(),
    )


def _identity_change():
    student = f.StudentProfileFactory()
    return IdentityChange.objects.create(
        student=student,
        old_first_name=student.legal_first_name,
        old_last_name=student.legal_last_name,
        old_birth_date=student.birth_date,
        new_first_name=student.legal_first_name,
        new_last_name="Corrected",
        new_birth_date=student.birth_date,
        reason="Spelling on my birth certificate",
        status="applied",
        requested_by=student.user,
    )


def _fee_change():
    fee = f.FeeFactory()
    return FeeChange.objects.create(
        fee=fee, from_status="unpaid", to_status="waived", waiver_reason="Foster youth"
    )


def _section_request():
    section = f.SectionFactory()
    return SectionRequest.objects.create(
        teacher=section.teacher,
        articulation=section.articulation,
        high_school=section.high_school,
        academic_year=section.academic_year,
        section_code=f"R{next(_numbers)}",
    )


def _student_merge():
    return StudentMerge.objects.create(
        survivor=f.StudentProfileFactory(),
        merged=f.StudentProfileFactory(),
        merged_by=f.UserFactory(),
        reason="Signed up twice",
    )


def _sis_import():
    school = f.HighSchoolFactory()
    # Each new import is the school's only one: an earlier current import is set aside.
    return SisImport.objects.create(
        high_school=school, imported_by=f.UserFactory(), is_current=False, classes_count=1
    )


def _sis_class():
    return SisClass.objects.create(
        sis_import=_sis_import(), sourced_id=f"class-{next(_numbers)}", title="Welding 1"
    )


def _sis_student():
    return SisStudent.objects.create(
        sis_import=_sis_import(),
        sourced_id=f"student-{next(_numbers)}",
        given_name="Ana",
        family_name="Ruiz",
    )


def _sis_enrollment():
    sis_class = _sis_class()
    student = SisStudent.objects.create(
        sis_import=sis_class.sis_import,
        sourced_id=f"student-{next(_numbers)}",
        given_name="Ana",
        family_name="Ruiz",
    )
    return SisEnrollment.objects.create(sis_class=sis_class, sis_student=student)


def _sis_class_mapping():
    section = f.SectionFactory()
    return SisClassMapping.objects.create(
        high_school=section.high_school,
        class_sourced_id=f"class-{next(_numbers)}",
        section=section,
        decided_by=f.UserFactory(),
    )


def _api_token():
    college = f.CollegeFactory()
    token, _secret = api_token_create(
        actor=f.make_staff(Role.REGISTRAR, college), college=college, label="Nightly", days=30
    )
    return token


# One more row of each model registered in the admin.
_JOB_NUMBERS = itertools.count()
BUILDERS = {
    User: _user,
    Group: lambda: Group.objects.create(name=f"Group {next(_numbers)}"),
    AcademicYear: lambda: f.AcademicYearFactory(start_year=1990 + next(_numbers)),
    Consortium: f.ConsortiumFactory,
    ConsortiumPolicy: f.ConsortiumPolicyFactory,
    College: f.CollegeFactory,
    District: f.DistrictFactory,
    HighSchool: f.HighSchoolFactory,
    CareerCluster: lambda: CareerCluster.objects.create(
        framework="2024", code=f"T{next(_numbers)}", name=f"Test cluster {next(_numbers)}"
    ),
    RoleMembership: _membership,
    SentEmail: f.SentEmailFactory,
    ScheduledJobRun: lambda: ScheduledJobRun.objects.create(
        name=f"job-{next(_JOB_NUMBERS)}", task="reports.tasks.expire_report_files"
    ),
    EmailFailure: lambda: EmailFailure.objects.create(
        user=f.UserFactory(), kind="welcome", error="SMTPRecipientsRefused"
    ),
    CollegeCourse: f.CollegeCourseFactory,
    HighSchoolCourse: f.HighSchoolCourseFactory,
    Articulation: f.ArticulationFactory,
    ArticulationStatusChange: f.ArticulationStatusChangeFactory,
    TeacherQualification: f.TeacherQualificationFactory,
    StudentProfile: f.StudentProfileFactory,
    Section: f.SectionFactory,
    Enrollment: _enrollment,
    EnrollmentStatusChange: _enrollment_history,
    Fee: f.FeeFactory,
    RolloverRun: _rollover_run,
    PossibleDuplicate: _possible_duplicate,
    IdentityChange: _identity_change,
    FeeChange: _fee_change,
    SectionRequest: _section_request,
    StudentMerge: _student_merge,
    AccessLogEntry: _access_log_entry,
    AccessLogStudent: lambda: _access_log_entry().students.get(),
    ReportJob: _report_job,
    DashboardAggregate: lambda: DashboardAggregate.objects.create(
        refreshed_at=timezone.now(), scope_kind="state", scope_id=0, students=1, enrollments=1
    ),
    TranscriptReportRow: lambda: TranscriptReportRow.objects.create(
        job=_report_job(), enrollment=_enrollment()
    ),
    SisImport: _sis_import,
    SisClass: _sis_class,
    SisStudent: _sis_student,
    SisEnrollment: _sis_enrollment,
    SisClassMapping: _sis_class_mapping,
    ApiToken: _api_token,
}
REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
READ_ONLY = [
    SentEmail,
    EmailFailure,
    ScheduledJobRun,
    ArticulationStatusChange,
    EnrollmentStatusChange,
    RolloverRun,
    PossibleDuplicate,
    IdentityChange,
    FeeChange,
    SectionRequest,
    StudentMerge,
    AccessLogEntry,
    AccessLogStudent,
    ReportJob,
    DashboardAggregate,
    TranscriptReportRow,
    SisImport,
    SisClass,
    SisStudent,
    SisEnrollment,
    SisClassMapping,
    ApiToken,
]


def _id(model) -> str:
    return model._meta.label


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _management_data(response) -> dict:
    """The inline formsets' management forms of a rendered admin form page."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            value = formset.management_form[name].value()
            data[f"{formset.prefix}-{name}"] = "" if value is None else value
    return data


def _form_data(response) -> dict:
    """The values a rendered admin form would post back unchanged (simple widgets only)."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    return {**data, **_management_data(response)}


@pytest.fixture
def superuser(admin_user):
    return admin_user


def test_every_project_model_is_registered():
    from django.apps import apps

    models = {m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS}
    assert models <= set(admin.site._registry), models - set(admin.site._registry)
    assert set(REGISTERED) <= set(BUILDERS), set(REGISTERED) - set(BUILDERS)


def test_admin_index_loads(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=_id)
def test_changelist_change_and_add_pages_load(admin_client, rf, superuser, model):
    obj = BUILDERS[model]()
    model_admin = admin.site._registry[model]

    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200

    request = rf.get("/")
    request.user = superuser
    expected = 200 if model_admin.has_add_permission(request) else 403
    assert admin_client.get(_url(model, "add")).status_code == expected


@pytest.mark.parametrize("model", REGISTERED, ids=_id)
def test_changelist_query_count_is_fixed(admin_client, django_assert_max_num_queries, model):
    url = _url(model, "changelist")
    for _ in range(2):
        BUILDERS[model]()
    admin_client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(url)
    assert response.status_code == 200
    rows_before = response.context["cl"].result_count

    for _ in range(4):
        BUILDERS[model]()
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES) as many:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= rows_before + 4
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_user_password_change_page_loads(admin_client):
    user = f.UserFactory()
    # Django's UserAdmin names this URL after auth.User whatever the user model is.
    response = admin_client.get(reverse("admin:auth_user_password_change", args=[user.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=_id)
def test_autocomplete_fields_answer(admin_client, model):
    model_admin = admin.site._registry[model]
    fields = list(model_admin.autocomplete_fields)
    for inline in model_admin.inlines:
        fields += [(inline.model, name) for name in inline.autocomplete_fields]
    for entry in fields:
        source, name = entry if isinstance(entry, tuple) else (model, entry)
        response = admin_client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": source._meta.app_label,
                "model_name": source._meta.model_name,
                "field_name": name,
                "term": "a",
            },
        )
        assert response.status_code == 200, (source, name)


def test_no_list_shows_student_birth_dates_contact_or_demographics():
    private = ("birth_date", "gender", "race_ethnicity", "phone", "user__email")
    for model_admin in admin.site._registry.values():
        columns = {str(c).rsplit("__", 1)[-1] for c in model_admin.list_display}
        assert not columns & {"birth_date", "gender", "race_ethnicity"}, model_admin
    student_columns = set(admin.site._registry[StudentProfile].list_display)
    assert not student_columns & set(private)


def test_student_list_shows_name_and_sers_id_not_birth_date(admin_client):
    student = f.StudentProfileFactory(birth_date=datetime.date(2009, 3, 14))
    response = admin_client.get(_url(StudentProfile, "changelist"))
    content = response.content.decode()
    assert student.sers_id in content
    assert student.legal_last_name in content
    assert "2009" not in content
    assert "March 14" not in content


# --- the student-record access log ----------------------------------------------------------

LOGGED = {
    StudentProfile: lambda obj: {obj.pk},
    User: lambda obj: {obj.student_profile.pk},
    Enrollment: lambda obj: {obj.student_id},
    EnrollmentStatusChange: lambda obj: {obj.enrollment.student_id},
    Fee: lambda obj: {obj.student_id},
    IdentityChange: lambda obj: {obj.student_id},
    PossibleDuplicate: lambda obj: {obj.student_id, obj.existing_student_id},
}


def _logged_students(entry) -> set[int]:
    return set(entry.students.values_list("student_id", flat=True))


@pytest.mark.parametrize("model", list(LOGGED), ids=_id)
def test_admin_pages_showing_student_records_are_logged(admin_client, admin_user, model):
    obj = BUILDERS[model]()
    other = BUILDERS[model]()
    before = set(AccessLogEntry.objects.values_list("pk", flat=True))

    admin_client.get(_url(model, "change", obj.pk))
    entry = AccessLogEntry.objects.exclude(pk__in=before).get()
    assert (entry.actor, entry.action) == (admin_user, AccessLogEntry.Action.VIEW)
    assert _logged_students(entry) == LOGGED[model](obj)

    before.add(entry.pk)
    admin_client.get(_url(model, "changelist"))
    entry = AccessLogEntry.objects.exclude(pk__in=before).get()
    assert _logged_students(entry) >= LOGGED[model](obj) | LOGGED[model](other)


def test_pages_without_student_records_are_not_logged(admin_client):
    section = f.SectionFactory()
    admin_client.get(_url(Section, "change", section.pk))
    admin_client.get(_url(Section, "changelist"))
    admin_client.get(_url(User, "change", f.UserFactory().pk))
    assert not AccessLogEntry.objects.exists()


# --- users ----------------------------------------------------------------------------------


def test_user_add_form_creates_an_account_by_email_with_roles(admin_client, password):
    school = f.HighSchoolFactory()
    response = admin_client.get(_url(User, "add"))
    data = {
        **_management_data(response),
        "email": "New.Teacher@Example.ORG",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "usable_password": "true",
        "password1": password,
        "password2": password,
        "memberships-TOTAL_FORMS": "1",
        "memberships-0-role": Role.TEACHER,
        "memberships-0-high_school": str(school.pk),
    }
    response = admin_client.post(_url(User, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.teacher@example.org")
    assert user.check_password(password)
    assert list(user.memberships.values_list("role", "high_school")) == [(Role.TEACHER, school.pk)]


def test_user_add_form_refuses_an_email_taken_in_another_case(admin_client, password):
    f.UserFactory(email="taken@example.org")
    response = admin_client.get(_url(User, "add"))
    data = {
        **_management_data(response),
        "email": "TAKEN@example.org",
        "usable_password": "true",
        "password1": password,
        "password2": password,
    }
    response = admin_client.post(_url(User, "add"), data)
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1


def test_user_change_form_saves_and_lowercases_email(admin_client):
    user = f.UserFactory(email="someone@example.org")
    page = admin_client.get(_url(User, "change", user.pk))
    data = _form_data(page)
    data.pop("email_verified_at", None)
    data["email"] = "Someone.Else@Example.org"
    response = admin_client.post(_url(User, "change", user.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.email == "someone.else@example.org"


def test_membership_inline_explains_a_scope_that_does_not_fit_the_role(admin_client):
    user = f.UserFactory()
    college = f.CollegeFactory()
    page = admin_client.get(_url(User, "change", user.pk))
    data = _form_data(page)
    data.pop("email_verified_at", None)
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-role": Role.TEACHER,
            "memberships-0-college": str(college.pk),
        }
    )
    response = admin_client.post(_url(User, "change", user.pk), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "high school" in str(formset.errors)
    assert not RoleMembership.objects.filter(user=user).exists()


def test_user_list_finds_a_student_by_sers_id(admin_client):
    student = f.StudentProfileFactory()
    f.UserFactory()
    response = admin_client.get(_url(User, "changelist"), {"q": student.sers_id})
    assert list(response.context["cl"].result_list) == [student.user]


@pytest.mark.parametrize("role", ["student", Role.TEACHER, "none"])
def test_user_list_filters_by_role(admin_client, role):
    student = f.StudentProfileFactory().user
    teacher = f.make_staff(Role.TEACHER, f.HighSchoolFactory())
    nobody = f.UserFactory()
    response = admin_client.get(_url(User, "changelist"), {"role": role})
    expected = {"student": student, Role.TEACHER: teacher, "none": nobody}[role]
    assert expected in response.context["cl"].result_list
    others = {student, teacher, nobody} - {expected}
    assert not others & set(response.context["cl"].result_list)


# --- students and policies ------------------------------------------------------------------


def test_student_identity_is_read_only_and_students_are_not_added_here(admin_client):
    student = f.StudentProfileFactory()
    page = admin_client.get(_url(StudentProfile, "change", student.pk))
    form = page.context["adminform"].form
    for name in ("sers_id", "user", "legal_first_name", "legal_last_name", "birth_date"):
        assert name not in form.fields
    assert "high_school" in form.fields
    assert admin_client.get(_url(StudentProfile, "add")).status_code == 403

    data = {
        **_form_data(page),
        "sers_id": "123456782",
        "legal_last_name": "Changed",
        "graduation_year": "2028",
    }
    response = admin_client.post(_url(StudentProfile, "change", student.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    old_sers_id, old_name = student.sers_id, student.legal_last_name
    student.refresh_from_db()
    assert (student.sers_id, student.legal_last_name) == (old_sers_id, old_name)
    assert student.graduation_year == 2028


def test_policy_form_checks_the_minimum_grade_against_its_scale(admin_client):
    consortium = f.ConsortiumFactory()
    year = f.AcademicYearFactory()
    data = {
        "consortium": str(consortium.pk),
        "academic_year": str(year.pk),
        "registration_opens": "2026-12-01",
        "registration_closes": "2027-06-15",
        "payment_deadline": "2027-06-20",
        "grading_deadline": "2027-06-25",
        "annual_fee": "50.00",
        "waiver_reasons": "Financial hardship",
        "grade_scale": "letter",
        "default_minimum_grade": "85",
    }
    response = admin_client.post(_url(ConsortiumPolicy, "add"), data)
    assert response.status_code == 200
    assert "default_minimum_grade" in response.context["adminform"].form.errors

    data["default_minimum_grade"] = "b+"
    response = admin_client.post(_url(ConsortiumPolicy, "add"), data)
    assert response.status_code == 302
    assert ConsortiumPolicy.objects.get(consortium=consortium).default_minimum_grade == "B+"


def test_policy_form_refuses_a_window_that_closes_before_it_opens(admin_client):
    consortium = f.ConsortiumFactory()
    data = {
        "consortium": str(consortium.pk),
        "academic_year": str(f.AcademicYearFactory().pk),
        "registration_opens": "2027-06-15",
        "registration_closes": "2026-12-01",
        "payment_deadline": "2027-06-20",
        "grading_deadline": "2027-06-25",
        "annual_fee": "0",
        "grade_scale": "letter",
        "default_minimum_grade": "C",
    }
    response = admin_client.post(_url(ConsortiumPolicy, "add"), data)
    assert response.status_code == 200
    assert "registration_closes" in response.context["adminform"].form.errors
    assert not ConsortiumPolicy.objects.exists()


def test_articulation_status_change_in_admin_is_recorded(admin_client, admin_user):
    articulation = f.ArticulationFactory(status=Articulation.Status.APPROVED)
    articulation.high_schools.add(f.HighSchoolFactory())
    page = admin_client.get(_url(Articulation, "change", articulation.pk))
    data = _form_data(page)
    data["status"] = Articulation.Status.ACTIVE
    response = admin_client.post(_url(Articulation, "change", articulation.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = articulation.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by) == (
        "approved",
        "active",
        admin_user,
    )

    # Saving again without a status change writes nothing.
    page = admin_client.get(_url(Articulation, "change", articulation.pk))
    admin_client.post(_url(Articulation, "change", articulation.pk), _form_data(page))
    assert articulation.status_changes.count() == 1


# --- enrollments ----------------------------------------------------------------------------


def test_enrollment_status_is_not_an_editable_field(admin_client):
    enrollment = _enrollment()
    model_admin = admin.site._registry[Enrollment]
    page = admin_client.get(_url(Enrollment, "change", enrollment.pk))
    form = page.context["adminform"].form
    for name in ("status", "grade", "transcribed_on", "status_changed_at"):
        assert name not in form.fields
    assert "status" in model_admin.get_readonly_fields(page.wsgi_request, enrollment)

    assert admin_client.get(_url(Enrollment, "add")).status_code == 403

    data = {**_form_data(page), "status": "graded", "grade": "A", "college_student_id": "C-9"}
    response = admin_client.post(_url(Enrollment, "change", enrollment.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == ("confirmed", "")
    assert enrollment.college_student_id == "C-9"
    assert enrollment.status_changes.count() == 1


def test_enrollment_actions_go_through_the_status_service(admin_client, admin_user):
    first, second = f.EnrollmentFactory(), f.EnrollmentFactory()
    url = _url(Enrollment, "changelist")
    response = admin_client.post(
        url, {"action": "make_confirmed", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    for enrollment in (first, second):
        enrollment.refresh_from_db()
        assert enrollment.status == "confirmed"
        change = enrollment.status_changes.get()
        assert (change.from_status, change.to_status, change.changed_by) == (
            "registered",
            "confirmed",
            admin_user,
        )

    # Removing needs a reason: refused without one, nothing changes.
    response = admin_client.post(
        url, {"action": "make_removed", "_selected_action": [first.pk]}, follow=True
    )
    first.refresh_from_db()
    assert first.status == "confirmed"
    assert "reason" in response.content.decode().lower()

    admin_client.post(
        url, {"action": "make_removed", "_selected_action": [first.pk], "reason": "Not mine"}
    )
    first.refresh_from_db()
    assert first.status == "removed"
    assert first.status_changes.last().reason == "Not mine"


def test_fee_form_explains_missing_waiver_reason_and_records_who(admin_client, admin_user):
    fee = f.FeeFactory()
    page = admin_client.get(_url(Fee, "change", fee.pk))
    data = {**_form_data(page), "status": "waived", "waiver_reason": ""}
    response = admin_client.post(_url(Fee, "change", fee.pk), data)
    assert response.status_code == 200
    assert "waiver_reason" in response.context["adminform"].form.errors

    data = {**data, "status": "paid", "paid_on": "2026-10-01", "receipt_number": "R-1"}
    response = admin_client.post(_url(Fee, "change", fee.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    fee.refresh_from_db()
    assert (fee.status, fee.recorded_by) == ("paid", admin_user)


def test_enrollments_cannot_be_deleted_in_admin(admin_client):
    enrollment = f.EnrollmentFactory()
    assert admin_client.get(_url(Enrollment, "delete", enrollment.pk)).status_code == 403


# --- history and other read-only records ----------------------------------------------------


@pytest.mark.parametrize("model", READ_ONLY, ids=_id)
def test_history_cannot_be_added_changed_or_deleted(admin_client, rf, superuser, model):
    obj = BUILDERS[model]()
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert admin_client.get(_url(model, "add")).status_code == 403
    assert admin_client.get(_url(model, "delete", obj.pk)).status_code == 403
    assert admin_client.post(_url(model, "change", obj.pk), {}).status_code == 403
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.parametrize(
    ("parent", "history"),
    [
        (Enrollment, EnrollmentStatusChange),
        (Articulation, ArticulationStatusChange),
        (StudentProfile, IdentityChange),
    ],
    ids=["enrollment", "articulation", "student"],
)
def test_history_is_a_read_only_inline_on_its_parent(admin_client, rf, superuser, parent, history):
    row = BUILDERS[history]()
    owner = {
        EnrollmentStatusChange: lambda: row.enrollment,
        ArticulationStatusChange: lambda: row.articulation,
        IdentityChange: lambda: row.student,
    }[history]()
    model_admin = admin.site._registry[parent]
    request = rf.get("/")
    request.user = superuser
    inlines = [i for i in model_admin.get_inline_instances(request, owner) if i.model is history]
    assert len(inlines) == 1
    inline = inlines[0]
    assert not inline.has_add_permission(request, owner)
    assert not inline.has_change_permission(request, owner)
    assert not inline.has_delete_permission(request, owner)

    page = admin_client.get(_url(parent, "change", owner.pk))
    formset = next(
        i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is history
    )
    assert formset.queryset.count() >= 1
    assert not formset.can_delete
