"""Roles → capabilities, and the scope of records each role may see.

Views ask two questions, in this order:
1. may this user do this kind of thing at all?  No → 403 (PermissionDenied).
2. is this object inside their scope?            No → 404, as if it did not exist.
"""

import functools
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404

from .models import Role, RoleMembership, enrollment_model, student_profile_model


class Capability(StrEnum):
    # students
    MANAGE_OWN_REGISTRATIONS = "manage_own_registrations"
    # teachers
    MANAGE_ROSTER = "manage_roster"
    ENTER_GRADES = "enter_grades"
    # teachers (their classes) and career specialists (their schools): class lists from
    # the schools' student information systems (OneRoster imports)
    IMPORT_SIS_ROSTERS = "import_sis_rosters"
    # staff who look at student records
    VIEW_ENROLLMENTS = "view_enrollments"
    LOOKUP_STUDENTS = "lookup_students"
    HELP_STUDENT_ACCOUNTS = "help_student_accounts"
    VIEW_STUDENT_IDENTITY = "view_student_identity"  # birth date, email: student_fields()
    # registrars
    TRANSCRIBE = "transcribe"
    # articulations
    VIEW_ARTICULATION_WORK = "view_articulation_work"
    MANAGE_ARTICULATIONS = "manage_articulations"
    APPROVE_ARTICULATIONS = "approve_articulations"
    # consortium administration
    MANAGE_POLICY = "manage_policy"
    RECORD_PAYMENTS = "record_payments"
    MERGE_STUDENTS = "merge_students"
    MANAGE_TEACHERS = "manage_teachers"
    OVERRIDE_RULES = "override_rules"
    # reports and the organisation tree
    VIEW_REPORTS = "view_reports"
    MANAGE_ORGANIZATIONS = "manage_organizations"
    # running SERS: job and queue health, counts only (operations app)
    VIEW_OPERATIONS = "view_operations"


C = Capability
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.TEACHER: frozenset(
        {C.MANAGE_ROSTER, C.ENTER_GRADES, C.VIEW_ENROLLMENTS, C.IMPORT_SIS_ROSTERS}
    ),
    Role.CAREER_SPECIALIST: frozenset(
        {
            C.IMPORT_SIS_ROSTERS,
            C.VIEW_ENROLLMENTS,
            C.LOOKUP_STUDENTS,
            C.HELP_STUDENT_ACCOUNTS,
            C.VIEW_STUDENT_IDENTITY,
            C.VIEW_REPORTS,
        }
    ),
    Role.REGISTRAR: frozenset(
        {
            C.VIEW_ENROLLMENTS,
            C.LOOKUP_STUDENTS,
            C.VIEW_STUDENT_IDENTITY,
            C.TRANSCRIBE,
            C.VIEW_ARTICULATION_WORK,
        }
    ),
    Role.COLLEGE_APPROVER: frozenset({C.VIEW_ARTICULATION_WORK, C.APPROVE_ARTICULATIONS}),
    Role.CONSORTIUM_ADMIN: frozenset(
        {
            C.VIEW_ENROLLMENTS,
            C.LOOKUP_STUDENTS,
            C.HELP_STUDENT_ACCOUNTS,
            C.VIEW_STUDENT_IDENTITY,
            C.VIEW_ARTICULATION_WORK,
            C.MANAGE_ARTICULATIONS,
            C.MANAGE_POLICY,
            C.RECORD_PAYMENTS,
            C.MERGE_STUDENTS,
            C.MANAGE_TEACHERS,
            C.OVERRIDE_RULES,
            C.VIEW_REPORTS,
        }
    ),
    Role.STATE_STAFF: frozenset(
        {
            C.VIEW_ENROLLMENTS,
            C.LOOKUP_STUDENTS,
            C.VIEW_STUDENT_IDENTITY,
            C.VIEW_ARTICULATION_WORK,
            C.VIEW_REPORTS,
            C.MANAGE_ORGANIZATIONS,
            C.VIEW_OPERATIONS,
        }
    ),
}
STUDENT_CAPABILITIES = frozenset({C.MANAGE_OWN_REGISTRATIONS})


@dataclass(frozen=True)
class Access:
    """What one user may do and where. Built once per request from their memberships."""

    user_id: int | None
    student_id: int | None = None
    roles: frozenset[str] = frozenset()
    capabilities: frozenset[Capability] = frozenset()
    consortium_ids: frozenset[int] = frozenset()  # consortium admin
    college_ids: frozenset[int] = frozenset()  # registrar or college approver
    registrar_college_ids: frozenset[int] = frozenset()
    district_ids: frozenset[int] = frozenset()  # career specialist, district-wide
    high_school_ids: frozenset[int] = frozenset()  # career specialist, one school
    teacher_high_school_ids: frozenset[int] = frozenset()
    is_state: bool = False
    is_student: bool = field(default=False)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDenied

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_teacher(self) -> bool:
        return Role.TEACHER in self.roles

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles)


ANONYMOUS = Access(user_id=None)
STUDENT_ROW = "~student"  # not a Role value


@functools.cache
def _access_sql() -> str:
    """The roles and the student profile of a user in one query (every signed-in page
    asks): the profile comes as a row whose role is STUDENT_ROW and whose second column is
    its id. Written out once: building it with the ORM cost 0.8 ms of CPU a request,
    five times the query itself."""
    quote = connection.ops.quote_name
    membership, profile = RoleMembership._meta, student_profile_model()._meta
    roles = ", ".join(
        quote(membership.get_field(name).column)
        for name in ("role", "consortium", "college", "district", "high_school")
    )
    roles_table, roles_user = quote(membership.db_table), quote(membership.get_field("user").column)
    profile_table, profile_user = quote(profile.db_table), quote(profile.get_field("user").column)
    profile_id = quote(profile.pk.column)
    # Names from the models' metadata only; the user id is a query parameter.
    sql = (
        "SELECT {} FROM {} WHERE {} = %s"
        " UNION ALL SELECT '{}', {}, NULL, NULL, NULL FROM {} WHERE {} = %s"
    )
    return sql.format(
        roles, roles_table, roles_user, STUDENT_ROW, profile_id, profile_table, profile_user
    )


def access_for(user) -> Access:
    """The Access of a user, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_sers_access", None)
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk, user.pk])
        rows = cursor.fetchall()
    memberships = [row for row in rows if row[0] != STUDENT_ROW]
    student_id = min((row[1] for row in rows if row[0] == STUDENT_ROW), default=None)
    roles = frozenset(m[0] for m in memberships)
    capabilities = set()
    for role in roles:
        capabilities |= ROLE_CAPABILITIES[role]
    if student_id:
        capabilities |= STUDENT_CAPABILITIES

    def ids(role_names, index):
        return frozenset(m[index] for m in memberships if m[0] in role_names and m[index])

    access = Access(
        user_id=user.pk,
        student_id=student_id,
        roles=roles,
        capabilities=frozenset(capabilities),
        consortium_ids=ids({Role.CONSORTIUM_ADMIN}, 1),
        college_ids=ids({Role.REGISTRAR, Role.COLLEGE_APPROVER}, 2),
        registrar_college_ids=ids({Role.REGISTRAR}, 2),
        district_ids=ids({Role.CAREER_SPECIALIST}, 3),
        high_school_ids=ids({Role.CAREER_SPECIALIST}, 4),
        teacher_high_school_ids=ids({Role.TEACHER}, 4),
        is_state=Role.STATE_STAFF in roles,
        is_student=student_id is not None,
    )
    user._sers_access = access
    return access


NOTHING = Q(pk__in=[])


def _any(*conditions: Q) -> Q:
    result = NOTHING
    for condition in conditions:
        result |= condition
    return result


def enrollment_scope(access: Access) -> Q:
    """Enrollments a user may see."""
    if access.is_state:
        return Q()
    conditions = []
    if access.student_id:
        conditions.append(Q(student_id=access.student_id))
    if access.is_teacher:
        conditions.append(Q(section__teacher_id=access.user_id))
    if access.consortium_ids:
        conditions.append(Q(section__articulation__consortium_id__in=access.consortium_ids))
    if access.registrar_college_ids:
        conditions.append(Q(section__articulation__college_id__in=access.registrar_college_ids))
    if access.district_ids:
        conditions.append(
            Q(section__high_school__district_id__in=access.district_ids)
            | Q(student__high_school__district_id__in=access.district_ids)
        )
    if access.high_school_ids:
        conditions.append(
            Q(section__high_school_id__in=access.high_school_ids)
            | Q(student__high_school_id__in=access.high_school_ids)
        )
    return _any(*conditions)


def student_scope(access: Access) -> Q:
    """Student records a user may see: their own, or those with a legitimate link to them."""
    if access.is_state:
        return Q()
    conditions = []
    if access.student_id:
        conditions.append(Q(pk=access.student_id))
    if access.consortium_ids:
        conditions.append(Q(high_school__district__consortium_id__in=access.consortium_ids))
    if access.district_ids:
        conditions.append(Q(high_school__district_id__in=access.district_ids))
    if access.high_school_ids:
        conditions.append(Q(high_school_id__in=access.high_school_ids))
    # Students linked through an enrollment the user may see (their class, their college).
    staff_enrollments = enrollment_scope(
        Access(
            user_id=access.user_id,
            roles=access.roles,
            consortium_ids=access.consortium_ids,
            registrar_college_ids=access.registrar_college_ids,
            district_ids=access.district_ids,
            high_school_ids=access.high_school_ids,
        )
    )
    if staff_enrollments != NOTHING:
        conditions.append(
            Exists(enrollment_model().objects.filter(staff_enrollments, student_id=OuterRef("pk")))
        )
    return _any(*conditions)


def section_scope(access: Access) -> Q:
    """Classes a staff member may see."""
    if access.is_state:
        return Q()
    conditions = []
    if access.is_teacher:
        conditions.append(Q(teacher_id=access.user_id))
    if access.consortium_ids:
        conditions.append(Q(articulation__consortium_id__in=access.consortium_ids))
    if access.college_ids:
        conditions.append(Q(articulation__college_id__in=access.college_ids))
    if access.district_ids:
        conditions.append(Q(high_school__district_id__in=access.district_ids))
    if access.high_school_ids:
        conditions.append(Q(high_school_id__in=access.high_school_ids))
    return _any(*conditions)


def articulation_scope(access: Access) -> Q:
    """Agreements (in any status) a staff member may work with."""
    if access.is_state:
        return Q()
    conditions = []
    if access.consortium_ids:
        conditions.append(Q(consortium_id__in=access.consortium_ids))
    if access.college_ids:
        conditions.append(Q(college_id__in=access.college_ids))
    return _any(*conditions)


def get_in_scope[M: Model](queryset: QuerySet[M], scope: Q, **lookup) -> M:
    """The object matching `lookup` inside `scope`, or 404 — outsiders learn nothing."""
    try:
        return queryset.filter(scope).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


# --- field-level care: a student's birth date and email -----------------------------------------
#
# Who needs what, and why (one place; views, templates and exports ask here):
# - the student: their own record, in full;
# - registrar: the birth date in full (to match and post the transcript), the email masked;
# - consortium admin: both in full (duplicates, merges, identity changes, account recovery);
# - career specialist: masked only (birth year, j•••@g•••.com), enough to recognise the
#   student; the full email only through the "show it to the student" reveal, which is logged;
# - teacher, college approver, state staff: neither (name and SERS id are enough to grade;
#   state reports are de-identified or aggregated).
# A user with several roles gets the widest view of them.


class FieldView(StrEnum):
    HIDDEN = "hidden"
    MASKED = "masked"  # enough to recognise the student, not to know the value
    FULL = "full"


_FIELD_RANK = {FieldView.HIDDEN: 0, FieldView.MASKED: 1, FieldView.FULL: 2}
BIRTH_DATE_VIEW: dict[str, FieldView] = {
    Role.REGISTRAR: FieldView.FULL,
    Role.CONSORTIUM_ADMIN: FieldView.FULL,
    Role.CAREER_SPECIALIST: FieldView.MASKED,
}
EMAIL_VIEW: dict[str, FieldView] = {
    Role.CONSORTIUM_ADMIN: FieldView.FULL,
    Role.REGISTRAR: FieldView.MASKED,
    Role.CAREER_SPECIALIST: FieldView.MASKED,
}


def _field_view(access: Access, by_role: dict[str, FieldView], student_id: int | None) -> FieldView:
    if student_id is not None and access.student_id == student_id:
        return FieldView.FULL
    views = [by_role.get(role, FieldView.HIDDEN) for role in access.roles]
    return max(views, key=_FIELD_RANK.__getitem__, default=FieldView.HIDDEN)


@dataclass(frozen=True)
class StudentFields:
    """How a user sees a student's birth date and email; templates read the flags."""

    birth_date: FieldView
    email: FieldView
    may_reveal_email: bool = False

    @property
    def birth_date_full(self) -> bool:
        return self.birth_date == FieldView.FULL

    @property
    def birth_date_masked(self) -> bool:
        return self.birth_date == FieldView.MASKED

    @property
    def email_full(self) -> bool:
        return self.email == FieldView.FULL

    @property
    def email_masked(self) -> bool:
        return self.email == FieldView.MASKED


def student_fields(access: Access, student_id: int | None = None) -> StudentFields:
    """The birth-date and email view of `access` on a student (or on students in general)."""
    email = _field_view(access, EMAIL_VIEW, student_id)
    return StudentFields(
        birth_date=_field_view(access, BIRTH_DATE_VIEW, student_id),
        email=email,
        may_reveal_email=email == FieldView.MASKED and access.can(Capability.HELP_STUDENT_ACCOUNTS),
    )


def can_see_birth_date(access: Access, student_id: int | None = None) -> bool:
    return student_fields(access, student_id).birth_date_full


def can_see_email(access: Access, student_id: int | None = None) -> bool:
    return student_fields(access, student_id).email_full
