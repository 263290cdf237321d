"""Reads for reporting, scoped to what the user may see: the home page numbers of each
role. Report jobs: job_selectors.py; the reports dashboard: dashboard_selectors.py."""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import Access, articulation_scope
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatus, Fee
from enrollment.rules import eligible_for_transcription_q
from enrollment.selectors.visible import (
    credit_totals,
    enrollments_visible,
    sections_visible,
    status_counts,
)
from organisations.models import AcademicYear, Consortium

from .scope import COUNTED_HINT, counted_enrollments, registration_totals

S = EnrollmentStatus


@dataclass
class Stat:
    label: str
    value: object
    hint: str = ""


@dataclass
class Panel:
    title: str
    stats: list[Stat] = field(default_factory=list)


def _year_enrollments(access: Access, year: AcademicYear | None):
    queryset = enrollments_visible(access=access)
    return queryset.filter(section__academic_year=year) if year else queryset.none()


def _staff_enrollments(access: Access, **scope) -> Access:
    """The same user seen through one role only, so each panel counts its own scope."""
    return Access(user_id=access.user_id, **scope)


def home_panels(*, access: Access, year: AcademicYear | None) -> list[Panel]:
    """One panel per role the user holds, each with real numbers from their scope."""
    panels: list[Panel] = []
    if access.is_student:
        panels.append(_student_panel(access, year))
    if access.has_role(Role.TEACHER):
        panels.append(_teacher_panel(access, year))
    if access.has_role(Role.CAREER_SPECIALIST):
        panels.append(_specialist_panel(access, year))
    if access.has_role(Role.REGISTRAR):
        panels.append(_registrar_panel(access, year))
    if access.has_role(Role.COLLEGE_APPROVER):
        panels.append(_approver_panel(access))
    if access.has_role(Role.CONSORTIUM_ADMIN):
        panels.append(_consortium_panel(access, year))
    if access.is_state:
        panels.append(_state_panel(access, year))
    return panels


def _student_panel(access: Access, year) -> Panel:
    own = Access(user_id=access.user_id, student_id=access.student_id)
    this_year = _year_enrollments(own, year)
    counts = status_counts(this_year)
    credits = credit_totals(enrollments_visible(access=own))
    unpaid = Fee.objects.filter(
        student_id=access.student_id, academic_year=year, status=Fee.Status.UNPAID, amount__gt=0
    ).count()
    active = sum(counts.values()) - counts[S.WITHDRAWN] - counts[S.REMOVED]
    return Panel(
        _("My CTE Dual Credit"),
        [
            Stat(_("Classes this year"), active),
            Stat(_("Waiting for teacher to confirm"), counts[S.REGISTERED]),
            Stat(_("College credits earned (all years)"), credits["attained"]),
            Stat(_("Unpaid fees this year"), unpaid),
        ],
    )


def _teacher_panel(access: Access, year) -> Panel:
    teacher = _staff_enrollments(access, roles=frozenset({Role.TEACHER}))
    sections = sections_visible(access=teacher).filter(academic_year=year)
    counts = status_counts(_year_enrollments(teacher, year))
    return Panel(
        _("My classes"),
        [
            Stat(_("Classes this year"), sections.count()),
            Stat(_("Students to confirm"), counts[S.REGISTERED]),
            Stat(_("Students to grade"), counts[S.CONFIRMED]),
            Stat(_("Grades entered, class not complete"), counts[S.GRADED]),
        ],
    )


def _registration_stats(scope: Access, year) -> list[Stat]:
    """Students registered and registrations this year, as the reports dashboard counts
    them for the same scope and year (scope.counted_enrollments), and said on the card."""
    totals = (
        registration_totals(access=scope, academic_year_id=year.pk)
        if year
        else {"students": 0, "registrations": 0}
    )
    return [
        Stat(_("Students registered this year"), totals["students"], COUNTED_HINT),
        Stat(_("Registrations this year"), totals["registrations"], COUNTED_HINT),
    ]


def _specialist_panel(access: Access, year) -> Panel:
    scope = _staff_enrollments(
        access,
        roles=frozenset({Role.CAREER_SPECIALIST}),
        district_ids=access.district_ids,
        high_school_ids=access.high_school_ids,
    )
    counts = status_counts(_year_enrollments(scope, year))
    return Panel(
        _("My schools"),
        [
            *_registration_stats(scope, year),
            Stat(_("Waiting for teacher to confirm"), counts[S.REGISTERED]),
            Stat(_("Credits attained this year"), counts[S.ATTAINED] + counts[S.TRANSCRIBED]),
        ],
    )


def _registrar_panel(access: Access, year) -> Panel:
    scope = _staff_enrollments(
        access,
        roles=frozenset({Role.REGISTRAR}),
        registrar_college_ids=access.registrar_college_ids,
    )
    visible = enrollments_visible(access=scope)
    totals = visible.aggregate(
        eligible=Count("pk", filter=eligible_for_transcription_q()),
        attained=Count("pk", filter=Q(status=S.ATTAINED)),
        transcribed=Count("pk", filter=Q(status=S.TRANSCRIBED, section__academic_year=year)),
    )
    return Panel(
        _("Transcription"),
        [
            Stat(_("Ready to transcribe"), totals["eligible"]),
            Stat(
                _("Attained but not ready"),
                totals["attained"] - totals["eligible"],
                _("Fee unpaid or profile incomplete"),
            ),
            Stat(_("Transcribed this year"), totals["transcribed"]),
        ],
    )


def _approver_panel(access: Access) -> Panel:
    scope = _staff_enrollments(access, college_ids=access.college_ids)
    counts = dict(
        Articulation.objects.filter(articulation_scope(scope))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return Panel(
        _("Articulation agreements"),
        [
            Stat(_("Waiting for approval"), counts.get(Articulation.Status.SUBMITTED, 0)),
            Stat(_("Active"), counts.get(Articulation.Status.ACTIVE, 0)),
        ],
    )


def _consortium_panel(access: Access, year) -> Panel:
    scope = _staff_enrollments(
        access, roles=frozenset({Role.CONSORTIUM_ADMIN}), consortium_ids=access.consortium_ids
    )
    articulation_counts = dict(
        Articulation.objects.filter(articulation_scope(scope))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    unpaid = Fee.objects.filter(
        consortium_id__in=access.consortium_ids,
        academic_year=year,
        status=Fee.Status.UNPAID,
        amount__gt=0,
    ).count()
    return Panel(
        _("My consortium"),
        [
            Stat(_("Active agreements"), articulation_counts.get(Articulation.Status.ACTIVE, 0)),
            Stat(
                _("Agreements in progress"),
                articulation_counts.get(Articulation.Status.DRAFT, 0)
                + articulation_counts.get(Articulation.Status.SUBMITTED, 0)
                + articulation_counts.get(Articulation.Status.APPROVED, 0),
            ),
            *_registration_stats(scope, year),
            Stat(_("Unpaid fees this year"), unpaid),
        ],
    )


def _state_panel(access: Access, year) -> Panel:
    scope = _staff_enrollments(access, roles=frozenset({Role.STATE_STAFF}), is_state=True)
    year_enrollments = (
        counted_enrollments(access=scope, academic_year_id=year.pk)
        if year
        else Enrollment.objects.none()
    )
    credits = credit_totals(year_enrollments)
    return Panel(
        _("Statewide"),
        [
            Stat(_("Consortia"), Consortium.objects.count()),
            *_registration_stats(scope, year),
            Stat(_("Credits attempted this year"), credits["attempted"]),
            Stat(_("Credits attained this year"), credits["attained"]),
        ],
    )
