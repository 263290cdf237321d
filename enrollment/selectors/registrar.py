"""College registrars: the transcription queue and what blocks a credit."""

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils.translation import gettext

from accounts.permissions import (
    Access,
    Capability,
)
from articulations.models import CollegeCourse

from ..models import (
    Enrollment,
    EnrollmentStatus,
    Section,
)
from ..rules import eligible_for_transcription_q, fee_settled_q
from .teaching import ENROLLMENT_DISPLAY

S = EnrollmentStatus


# --- registrars ---------------------------------------------------------------------------------


def registrar_enrollments(*, access: Access) -> QuerySet[Enrollment]:
    """Enrollments in classes of the registrar's colleges."""
    if not access.can(Capability.TRANSCRIBE):
        return Enrollment.objects.none()
    # Through the colleges' section ids, not a join on the articulation: the planner then
    # walks those classes' enrollments by index instead of hashing every enrollment of a
    # status across the state.
    return Enrollment.objects.filter(
        section_id__in=Section.objects.filter(
            articulation__college_id__in=access.registrar_college_ids
        ).values("pk")
    )


QUEUE_VIEWS = ("ready", "waiting", "transcribed")


def registrar_queue(*, access: Access, view: str) -> QuerySet[Enrollment]:
    """ready: eligible for transcription; waiting: still on the way (with what blocks
    them, see transcription_blockers); transcribed: marked transcribed."""
    base = registrar_enrollments(access=access)
    if view == "ready":
        queryset = base.filter(eligible_for_transcription_q())
    elif view == "waiting":
        # Same rows as "registered, confirmed or graded, or attained but not eligible"
        # (eligible implies attained); one status list lets an index find them.
        queryset = base.filter(
            Q(status__in=(S.REGISTERED, S.CONFIRMED, S.GRADED, S.ATTAINED))
            & ~eligible_for_transcription_q()
        ).annotate(fee_settled=ExpressionWrapper(fee_settled_q(), output_field=BooleanField()))
    else:
        queryset = base.filter(status=S.TRANSCRIBED)
    # The class's details come in a second query: joined here they pushed the query past
    # PostgreSQL's join_collapse_limit (8), and the planner then hashed every enrollment of
    # the status across the state instead of walking the colleges' classes.
    sections = Section.objects.select_related(
        *(f.removeprefix("section__") for f in ENROLLMENT_DISPLAY if f.startswith("section__"))
    ).prefetch_related(
        Prefetch("articulation__college_courses", queryset=CollegeCourse.objects.all())
    )
    return queryset.select_related(
        *(f for f in ENROLLMENT_DISPLAY if not f.startswith("section__"))
    ).prefetch_related(Prefetch("section", queryset=sections))


def transcription_blockers(enrollment: Enrollment) -> list[str]:
    """Why a registrar cannot transcribe this enrollment yet (needs `fee_settled`)."""
    blockers = []
    if enrollment.status in (S.REGISTERED, S.CONFIRMED):
        blockers.append(gettext("Missing grade"))
    elif enrollment.status == S.GRADED:
        blockers.append(gettext("Class not marked complete"))
    if not getattr(enrollment, "fee_settled", True):
        blockers.append(gettext("Fee unpaid"))
    if not enrollment.student.user.email_verified:
        blockers.append(gettext("Email not verified (profile incomplete)"))
    return blockers


def known_college_student_ids(*, enrollments: list[Enrollment]) -> dict[tuple[int, int], str]:
    """The college student id each student already has at each college, for pre-filling.
    One query."""
    students = {e.student_id for e in enrollments}
    colleges = {e.section.articulation.college_id for e in enrollments}
    if not students:
        return {}
    known = {}
    for student_id, college_id, college_student_id in (
        Enrollment.objects.filter(
            student_id__in=students,
            section__articulation__college_id__in=colleges,
        )
        .exclude(college_student_id="")
        .order_by("status_changed_at")
        .values_list("student_id", "section__articulation__college_id", "college_student_id")
    ):
        known[(student_id, college_id)] = college_student_id
    return known
