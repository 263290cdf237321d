"""Reads of the student-record access log (FERPA), scoped to the user.

Who may review it:
- a consortium admin: entries about students of their consortium (the students their
  consortium-admin role may see), and the staff members of their consortium (anyone
  holding a role at the consortium, its colleges, districts or high schools);
- state staff: every entry and every user;
- a student: the entries about their own record, without their own actions.

Pages load one page of entries with their actor, the actor's roles and the students
shown already attached, so a page costs the same number of queries at any size.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accesslog.models import AccessLogEntry, AccessLogStudent
from accounts.models import Role, RoleMembership, User
from accounts.permissions import NOTHING, Access, get_in_scope, student_scope
from enrollment.models import StudentProfile
from enrollment.selectors.staff_records import accent_insensitive_pattern

STUDENTS_SHOWN = 3  # per entry in the lists; the rest are counted
REVIEW = "access log review"  # the `what` of the entries the review pages write
ROLE_LABELS = {
    **dict(Role.choices),
    "admin_site": _("Administration site"),
    "student": _("Student"),
}


# --- who may review, and their scope -----------------------------------------------------


def may_review_access_log(access: Access) -> bool:
    """Consortium admins and state staff review the log (other roles: 403)."""
    return access.is_state or bool(access.consortium_ids)


def may_see_own_record_views(access: Access) -> bool:
    return access.student_id is not None


def reviewable_students_q(access: Access) -> Q:
    """Students whose log the user may review: the consortium-admin part of their scope
    only (a consortium admin who also teaches does not review their class's log here)."""
    if access.is_state:
        return Q()
    if not access.consortium_ids:
        return NOTHING
    return student_scope(
        Access(
            user_id=access.user_id,
            roles=frozenset({Role.CONSORTIUM_ADMIN}),
            consortium_ids=access.consortium_ids,
        )
    )


def _memberships_in_consortia(consortium_ids) -> QuerySet[RoleMembership]:
    return RoleMembership.objects.filter(
        Q(consortium_id__in=consortium_ids)
        | Q(college__consortium_id__in=consortium_ids)
        | Q(district__consortium_id__in=consortium_ids)
        | Q(high_school__district__consortium_id__in=consortium_ids)
    )


def reviewable_staff_q(access: Access) -> Q:
    """Users whose actions the user may review: state staff, anyone; a consortium admin,
    whoever holds a role inside their consortium."""
    if access.is_state:
        return Q()
    if not access.consortium_ids:
        return NOTHING
    return Q(
        Exists(_memberships_in_consortia(access.consortium_ids).filter(user_id=OuterRef("pk")))
    )


def _reviewable_student_ids(access: Access) -> QuerySet:
    return StudentProfile.objects.filter(reviewable_students_q(access)).values("pk")


def _links_in_scope(access: Access) -> QuerySet[AccessLogStudent]:
    links = AccessLogStudent.objects.all()
    if not access.is_state:
        links = links.filter(student_id__in=_reviewable_student_ids(access))
    return links


# --- the staff pages ---------------------------------------------------------------------


def access_log_entries(*, access: Access) -> QuerySet[AccessLogEntry]:
    """Entries the user may review, newest first (not yet filtered or decorated)."""
    if not may_review_access_log(access):
        return AccessLogEntry.objects.none()
    entries = AccessLogEntry.objects.order_by("-at", "-id")
    if access.is_state:
        return entries
    return entries.filter(Exists(_links_in_scope(access).filter(entry_id=OuterRef("pk"))))


def access_log_student(*, access: Access, student_id: int) -> StudentProfile:
    """A student whose log the user may review, or 404."""
    return get_in_scope(
        StudentProfile.objects.select_related("high_school"),
        reviewable_students_q(access),
        pk=student_id,
    )


def access_log_staff_member(*, access: Access, user_id: int) -> User:
    """A user whose actions the user may review, or 404."""
    return get_in_scope(User.objects.all(), reviewable_staff_q(access), pk=user_id)


def entries_about_student(*, access: Access, student: StudentProfile) -> QuerySet:
    return access_log_entries(access=access).filter(
        Exists(AccessLogStudent.objects.filter(entry_id=OuterRef("pk"), student_id=student.pk))
    )


def entries_by_staff_member(*, access: Access, user: User) -> QuerySet:
    return access_log_entries(access=access).filter(actor_id=user.pk)


def entries_matching_student(entries: QuerySet, *, access: Access, text: str) -> QuerySet:
    """Entries about a student in scope whose SERS ID is `text`, or whose legal name has
    every word of it (accents and apostrophes ignored, as in the student lookup)."""
    text = text.strip()
    if not text:
        return entries
    students = StudentProfile.objects.filter(reviewable_students_q(access))
    if text.isdigit():
        students = students.filter(sers_id=text)
    else:
        for word in text.split():
            pattern = accent_insensitive_pattern(word)
            students = students.filter(
                Q(legal_first_name__iregex=pattern)
                | Q(legal_middle_name__iregex=pattern)
                | Q(legal_last_name__iregex=pattern)
            )
    return entries.filter(
        Exists(
            AccessLogStudent.objects.filter(
                entry_id=OuterRef("pk"), student_id__in=students.values("pk")
            )
        )
    )


def entries_matching_staff(entries: QuerySet, *, text: str) -> QuerySet:
    """Entries by a user whose email or name has every word of `text`."""
    for word in text.split():
        entries = entries.filter(
            Q(actor__email__icontains=word)
            | Q(actor__first_name__icontains=word)
            | Q(actor__last_name__icontains=word)
        )
    return entries


def local_day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of a day in the site's time zone, as an aware datetime (for `at` ranges
    that use its index)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def entries_for_display(entries: QuerySet, *, access: Access) -> QuerySet:
    """Attach what a row shows: the actor and their roles, the first students of the
    entry inside the user's scope (`shown_links`) and how many of its students are in
    scope (`students_in_scope`); `actor_reviewable` says whether to link the actor."""
    links = (
        _links_in_scope(access)
        .select_related("student")
        .order_by("student__legal_last_name", "student__legal_first_name", "student_id")
    )
    entries = entries.select_related("actor").prefetch_related(
        Prefetch(
            "actor__memberships",
            queryset=RoleMembership.objects.select_related(
                "consortium", "college", "district", "high_school"
            ).order_by("role", "pk"),
        ),
        Prefetch("students", queryset=links[:STUDENTS_SHOWN], to_attr="shown_links"),
    )
    if access.is_state:
        return entries
    in_scope = (
        _links_in_scope(access)
        .filter(entry_id=OuterRef("pk"))
        .order_by()
        .values("entry_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return entries.annotate(
        students_in_scope=Coalesce(Subquery(in_scope, output_field=IntegerField()), 0),
        actor_reviewable=Exists(
            _memberships_in_consortia(access.consortium_ids).filter(user_id=OuterRef("actor_id"))
        ),
    )


# --- roles and organisations, as a row shows them -------------------------------------------


@dataclass(frozen=True)
class ActorRole:
    role: str
    organisation: str


def _organisation(membership: RoleMembership) -> str:
    if membership.role == Role.STATE_STAFF:
        return str(_("State office"))
    scope = membership.scope
    return scope.name if scope is not None else ""


def actor_roles(entry: AccessLogEntry) -> list[ActorRole]:
    """The role(s) the actor acted under, with their organisation.

    The role(s) the entry recorded when it did; otherwise the actor's roles. Roles and
    organisations are the actor's current ones (the log stores the role, not the place).
    Needs `actor__memberships` prefetched (entries_for_display does it).
    """
    memberships = list(entry.actor.memberships.all()) if entry.actor_id else []
    # One role, or several joined by commas (an actor logged without a role).
    recorded = [role for role in entry.role.split(",") if role]
    if recorded:
        matching = [m for m in memberships if m.role in recorded]
        if matching:
            return [ActorRole(m.get_role_display(), _organisation(m)) for m in matching]
        return [ActorRole(str(ROLE_LABELS.get(role, role)), "") for role in recorded]
    return [ActorRole(m.get_role_display(), _organisation(m)) for m in memberships]


# --- a student's own page -----------------------------------------------------------------


def student_record_views(*, student: StudentProfile) -> QuerySet[AccessLogEntry]:
    """Entries about the student by anyone but the student themself, newest first."""
    return (
        AccessLogEntry.objects.filter(
            Exists(AccessLogStudent.objects.filter(entry_id=OuterRef("pk"), student_id=student.pk))
        )
        .exclude(actor_id=student.user_id)
        .order_by("-at", "-id")
        .select_related("actor")
        .prefetch_related(
            Prefetch(
                "actor__memberships",
                queryset=RoleMembership.objects.select_related(
                    "consortium", "college", "district", "high_school"
                ).order_by("role", "pk"),
            )
        )
    )
