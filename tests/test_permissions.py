"""Roles → capabilities (access_for) and the rows each persona may see (the *_scope helpers).

One small world with two consortia is shared by every test:

    consortium c1: college col1, districts d1 (schools hs1, hs1x) and d2 (school hs2)
    consortium c2: college col2, district d3 (school hs3)

    sec1   art1 (col1) at hs1, taught by teacher1      e1 (s1 of hs1), e5 (s5 of hs2)
    sec1b  art1 (col1) at hs1, taught by teacher1b     e2 (s2 of hs1)
    sec2   art1 (col1) at hs2, taught by teacher2      e3 (s3 of hs2)
    sec3   art3 (col2) at hs3, taught by teacher3      e4 (s4 of hs3)
    s6 of hs1x has no enrollment; draft art1d (col1) has no class.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Role, RoleMembership
from accounts.permissions import (
    ANONYMOUS,
    ROLE_CAPABILITIES,
    STUDENT_CAPABILITIES,
    Capability,
    access_for,
    articulation_scope,
    enrollment_scope,
    get_in_scope,
    section_scope,
    student_scope,
)
from articulations.models import Articulation
from enrollment.models import Enrollment, Section, StudentProfile
from enrollment.services.transitions import enrollment_change_status
from tests import factories as f

pytestmark = pytest.mark.django_db
C = Capability


@pytest.fixture
def w():
    c1, c2 = f.ConsortiumFactory(), f.ConsortiumFactory()
    col1, col2 = f.CollegeFactory(consortium=c1), f.CollegeFactory(consortium=c2)
    d1, d2 = f.DistrictFactory(consortium=c1), f.DistrictFactory(consortium=c1)
    d3 = f.DistrictFactory(consortium=c2)
    hs1, hs1x = f.HighSchoolFactory(district=d1), f.HighSchoolFactory(district=d1)
    hs2, hs3 = f.HighSchoolFactory(district=d2), f.HighSchoolFactory(district=d3)
    art1 = f.ArticulationFactory(consortium=c1, college=col1)
    art1d = f.ArticulationFactory(consortium=c1, college=col1, status=Articulation.Status.DRAFT)
    art3 = f.ArticulationFactory(consortium=c2, college=col2)

    teacher1 = f.make_staff(Role.TEACHER, hs1)
    teacher1b = f.make_staff(Role.TEACHER, hs1)
    teacher2 = f.make_staff(Role.TEACHER, hs2)
    teacher3 = f.make_staff(Role.TEACHER, hs3)
    sec1 = f.SectionFactory(articulation=art1, teacher=teacher1, high_school=hs1)
    sec1b = f.SectionFactory(articulation=art1, teacher=teacher1b, high_school=hs1)
    sec2 = f.SectionFactory(articulation=art1, teacher=teacher2, high_school=hs2)
    sec3 = f.SectionFactory(articulation=art3, teacher=teacher3, high_school=hs3)

    s1, s2 = f.StudentProfileFactory(high_school=hs1), f.StudentProfileFactory(high_school=hs1)
    s3, s4 = f.StudentProfileFactory(high_school=hs2), f.StudentProfileFactory(high_school=hs3)
    s5, s6 = f.StudentProfileFactory(high_school=hs2), f.StudentProfileFactory(high_school=hs1x)
    e1 = f.EnrollmentFactory(student=s1, section=sec1)
    e2 = f.EnrollmentFactory(student=s2, section=sec1b)
    e3 = f.EnrollmentFactory(student=s3, section=sec2)
    e4 = f.EnrollmentFactory(student=s4, section=sec3)
    e5 = f.EnrollmentFactory(student=s5, section=sec1)

    return SimpleNamespace(**locals())


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def seen(user):
    """Everything a user may see, as sets of primary keys."""
    access = access_for(user)
    return SimpleNamespace(
        enrollments=ids(Enrollment.objects.filter(enrollment_scope(access))),
        students=ids(StudentProfile.objects.filter(student_scope(access))),
        sections=ids(Section.objects.filter(section_scope(access))),
        articulations=ids(Articulation.objects.filter(articulation_scope(access))),
    )


def pks(*objects) -> set[int]:
    return {o.pk for o in objects}


# --- access_for -----------------------------------------------------------------------------


@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_no_user_gets_no_access(user):
    access = access_for(user)
    assert access is ANONYMOUS
    assert not access.capabilities
    assert not access.is_staff_member


def test_an_inactive_user_gets_no_access(w):
    w.teacher1.is_active = False
    w.teacher1.save()
    assert access_for(w.teacher1) is ANONYMOUS


def test_a_user_with_no_role_has_no_capabilities():
    access = access_for(f.UserFactory())
    assert access.user_id is not None
    assert not access.roles
    assert not access.capabilities
    assert not access.is_student
    assert not access.is_staff_member


def test_student(w):
    access = access_for(w.s1.user)
    assert access.is_student
    assert access.student_id == w.s1.pk
    assert access.capabilities == STUDENT_CAPABILITIES
    assert not access.roles
    assert not access.is_staff_member


@pytest.mark.parametrize(
    ("role", "scope_name", "id_field"),
    [
        (Role.TEACHER, "hs1", "teacher_high_school_ids"),
        (Role.CAREER_SPECIALIST, "d1", "district_ids"),
        (Role.CAREER_SPECIALIST, "hs1", "high_school_ids"),
        (Role.REGISTRAR, "col1", "registrar_college_ids"),
        (Role.COLLEGE_APPROVER, "col1", "college_ids"),
        (Role.CONSORTIUM_ADMIN, "c1", "consortium_ids"),
        (Role.STATE_STAFF, None, None),
    ],
)
def test_access_for_each_role(w, role, scope_name, id_field):
    scope = getattr(w, scope_name) if scope_name else None
    user = f.make_staff(role, scope)
    access = access_for(user)

    assert access.roles == {role}
    assert access.capabilities == ROLE_CAPABILITIES[role]
    assert access.is_staff_member
    assert not access.is_student
    assert access.is_state == (role == Role.STATE_STAFF)
    assert access.is_teacher == (role == Role.TEACHER)
    all_id_fields = {
        "consortium_ids",
        "college_ids",
        "registrar_college_ids",
        "district_ids",
        "high_school_ids",
        "teacher_high_school_ids",
    }
    expected = {id_field} if id_field else set()
    if role == Role.REGISTRAR:
        expected.add("college_ids")  # registrars also count as college staff
    for name in all_id_fields:
        value = getattr(access, name)
        assert value == ({scope.pk} if name in expected else frozenset()), name


def test_access_is_computed_once_per_user_object(w, django_assert_num_queries):
    access = access_for(w.teacher1)
    with django_assert_num_queries(0):
        assert access_for(w.teacher1) is access


def test_a_user_with_two_roles_gets_both_sets_of_capabilities(w):
    user = f.make_staff(Role.TEACHER, w.hs1)
    RoleMembership.objects.create(user=user, role=Role.REGISTRAR, college=w.col1)
    access = access_for(user)
    assert access.roles == {Role.TEACHER, Role.REGISTRAR}
    assert access.capabilities == (
        ROLE_CAPABILITIES[Role.TEACHER] | ROLE_CAPABILITIES[Role.REGISTRAR]
    )
    assert access.teacher_high_school_ids == {w.hs1.pk}
    assert access.registrar_college_ids == {w.col1.pk}


# --- require: the wrong role gets 403 -------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "scope_name", "allowed", "refused"),
    [
        (Role.TEACHER, "hs1", C.ENTER_GRADES, C.TRANSCRIBE),
        (Role.TEACHER, "hs1", C.MANAGE_ROSTER, C.VIEW_REPORTS),
        (Role.REGISTRAR, "col1", C.TRANSCRIBE, C.ENTER_GRADES),
        (Role.CAREER_SPECIALIST, "d1", C.LOOKUP_STUDENTS, C.RECORD_PAYMENTS),
        (Role.COLLEGE_APPROVER, "col1", C.APPROVE_ARTICULATIONS, C.VIEW_ENROLLMENTS),
        (Role.CONSORTIUM_ADMIN, "c1", C.MANAGE_POLICY, C.MANAGE_ORGANIZATIONS),
        (Role.STATE_STAFF, None, C.MANAGE_ORGANIZATIONS, C.MANAGE_ROSTER),
        (Role.CONSORTIUM_ADMIN, "c1", C.MANAGE_POLICY, C.VIEW_OPERATIONS),
        (Role.REGISTRAR, "col1", C.TRANSCRIBE, C.VIEW_OPERATIONS),
        (Role.STATE_STAFF, None, C.VIEW_OPERATIONS, C.ENTER_GRADES),
    ],
)
def test_require_refuses_the_wrong_role(w, role, scope_name, allowed, refused):
    access = access_for(f.make_staff(role, getattr(w, scope_name) if scope_name else None))
    access.require(allowed)  # no exception
    with pytest.raises(PermissionDenied):
        access.require(refused)


def test_require_refuses_students_staff_work(w):
    access = access_for(w.s1.user)
    access.require(C.MANAGE_OWN_REGISTRATIONS)
    for capability in (C.VIEW_ENROLLMENTS, C.LOOKUP_STUDENTS, C.ENTER_GRADES):
        with pytest.raises(PermissionDenied):
            access.require(capability)


@pytest.mark.parametrize("capability", list(Capability))
def test_require_refuses_everything_to_anonymous(capability):
    with pytest.raises(PermissionDenied):
        ANONYMOUS.require(capability)


# --- scopes: what each persona sees ---------------------------------------------------------


def test_student_sees_only_their_own_records(w):
    view = seen(w.s1.user)
    assert view.enrollments == pks(w.e1)
    assert view.students == pks(w.s1)
    assert view.sections == set()
    assert view.articulations == set()


def test_teacher_sees_only_their_own_class(w):
    view = seen(w.teacher1)
    assert view.enrollments == pks(w.e1, w.e5)
    assert view.students == pks(w.s1, w.s5)  # s5 attends from another school
    assert view.sections == pks(w.sec1)
    assert view.articulations == set()
    # Another teacher at the same school sees nothing of teacher1's class.
    assert seen(w.teacher1b).enrollments == pks(w.e2)


def test_teacher_sees_withdrawn_students_of_their_class(w):
    enrollment_change_status(enrollment_id=w.e1.pk, to_status="withdrawn", actor=None)
    assert w.e1.pk in seen(w.teacher1).enrollments


def test_registrar_sees_only_their_colleges_records(w):
    view = seen(f.make_staff(Role.REGISTRAR, w.col1))
    assert view.enrollments == pks(w.e1, w.e2, w.e3, w.e5)
    assert view.students == pks(w.s1, w.s2, w.s3, w.s5)
    assert view.sections == pks(w.sec1, w.sec1b, w.sec2)
    assert view.articulations == pks(w.art1, w.art1d)

    other = seen(f.make_staff(Role.REGISTRAR, w.col2))
    assert other.enrollments == pks(w.e4)
    assert other.students == pks(w.s4)


def test_college_approver_sees_agreements_not_students(w):
    view = seen(f.make_staff(Role.COLLEGE_APPROVER, w.col1))
    assert view.articulations == pks(w.art1, w.art1d)
    assert view.enrollments == set()
    assert view.students == set()


def test_consortium_admin_sees_only_their_consortium(w):
    view = seen(f.make_staff(Role.CONSORTIUM_ADMIN, w.c1))
    assert view.enrollments == pks(w.e1, w.e2, w.e3, w.e5)
    assert view.students == pks(w.s1, w.s2, w.s3, w.s5, w.s6)  # s6: no class, own region
    assert view.sections == pks(w.sec1, w.sec1b, w.sec2)
    assert view.articulations == pks(w.art1, w.art1d)

    other = seen(f.make_staff(Role.CONSORTIUM_ADMIN, w.c2))
    assert other.enrollments == pks(w.e4)
    assert other.students == pks(w.s4)
    assert other.articulations == pks(w.art3)


def test_career_specialist_for_a_district(w):
    view = seen(f.make_staff(Role.CAREER_SPECIALIST, w.d1))
    # Classes taught in the district, and the district's own students wherever they study.
    assert view.enrollments == pks(w.e1, w.e2, w.e5)
    assert view.students == pks(w.s1, w.s2, w.s5, w.s6)
    assert view.sections == pks(w.sec1, w.sec1b)
    assert view.articulations == set()


def test_career_specialist_for_one_high_school(w):
    view = seen(f.make_staff(Role.CAREER_SPECIALIST, w.hs2))
    # sec2 is taught at hs2; s5 is an hs2 student taking sec1 at hs1.
    assert view.enrollments == pks(w.e3, w.e5)
    assert view.students == pks(w.s3, w.s5)
    assert view.sections == pks(w.sec2)
    assert view.articulations == set()


def test_state_staff_see_everything(w):
    view = seen(f.make_staff(Role.STATE_STAFF))
    assert view.enrollments == ids(Enrollment.objects.all())
    assert view.students == ids(StudentProfile.objects.all())
    assert view.sections == ids(Section.objects.all())
    assert view.articulations == ids(Articulation.objects.all())
    assert len(view.enrollments) == 5


@pytest.mark.parametrize("who", ["no_role", "anonymous"])
def test_outsiders_see_nothing(w, who):
    user = f.UserFactory() if who == "no_role" else AnonymousUser()
    view = seen(user)
    assert view.enrollments == view.students == view.sections == view.articulations == set()


def test_a_user_with_two_roles_sees_the_union(w):
    user = w.teacher1
    RoleMembership.objects.create(user=user, role=Role.CAREER_SPECIALIST, high_school=w.hs3)
    view = seen(user)
    assert view.enrollments == pks(w.e1, w.e5, w.e4)
    assert view.students == pks(w.s1, w.s5, w.s4)
    assert view.sections == pks(w.sec1, w.sec3)


def test_a_teacher_who_is_also_a_student_sees_both(w):
    user = w.s4.user
    RoleMembership.objects.create(user=user, role=Role.TEACHER, high_school=w.hs1)
    w.sec1b.teacher = user
    w.sec1b.save()
    view = seen(user)
    assert view.enrollments == pks(w.e4, w.e2)
    assert view.students == pks(w.s4, w.s2)


# --- get_in_scope: outsiders get 404 --------------------------------------------------------


def test_get_in_scope_returns_the_object_inside_the_scope(w):
    access = access_for(w.teacher1)
    found = get_in_scope(Enrollment.objects.all(), enrollment_scope(access), pk=w.e1.pk)
    assert found == w.e1


@pytest.mark.parametrize(
    "outsider",
    ["teacher1b", "other_registrar", "other_admin", "student", "no_role", "anonymous"],
)
def test_get_in_scope_raises_404_for_outsiders(w, outsider):
    users = {
        "teacher1b": lambda: w.teacher1b,
        "other_registrar": lambda: f.make_staff(Role.REGISTRAR, w.col2),
        "other_admin": lambda: f.make_staff(Role.CONSORTIUM_ADMIN, w.c2),
        "student": lambda: w.s2.user,
        "no_role": f.UserFactory,
        "anonymous": AnonymousUser,
    }
    access = access_for(users[outsider]())
    with pytest.raises(Http404):
        get_in_scope(Enrollment.objects.all(), enrollment_scope(access), pk=w.e1.pk)
    with pytest.raises(Http404):
        get_in_scope(StudentProfile.objects.all(), student_scope(access), pk=w.s1.pk)


def test_get_in_scope_raises_404_for_a_missing_object(w):
    access = access_for(f.make_staff(Role.STATE_STAFF))
    with pytest.raises(Http404):
        get_in_scope(Enrollment.objects.all(), enrollment_scope(access), pk=10**9)


def test_scopes_do_not_duplicate_rows(w):
    """A record reachable along several paths is still listed once."""
    user = f.make_staff(Role.CONSORTIUM_ADMIN, w.c1)
    RoleMembership.objects.create(user=user, role=Role.CAREER_SPECIALIST, district=w.d1)
    RoleMembership.objects.create(user=user, role=Role.REGISTRAR, college=w.col1)
    access = access_for(user)
    enrollments = list(Enrollment.objects.filter(enrollment_scope(access)))
    students = list(StudentProfile.objects.filter(student_scope(access)))
    assert len(enrollments) == len(set(enrollments)) == 4
    assert len(students) == len(set(students)) == 5
