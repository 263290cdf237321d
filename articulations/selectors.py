"""Reads of agreements: the public catalog (active only) and staff work (scoped to the user)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    DecimalField,
    Exists,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleMembership, User
from accounts.permissions import Access, articulation_scope
from organisations.models import AcademicYear, HighSchool

from .models import Articulation, CollegeCourse, RolloverRun, TeacherQualification

S = Articulation.Status


def _credits_subquery():
    """Total college credits of an agreement, as a subquery so joins never double it."""
    through = Articulation.college_courses.through
    return Coalesce(
        Subquery(
            through.objects.filter(articulation_id=OuterRef("pk"))
            .order_by()
            .values("articulation_id")
            .annotate(total=Sum("collegecourse__credits"))
            .values("total")[:1],
            output_field=DecimalField(max_digits=6, decimal_places=1),
        ),
        0,
        output_field=DecimalField(max_digits=6, decimal_places=1),
    )


def with_listing_details(queryset: QuerySet[Articulation]) -> QuerySet[Articulation]:
    """Everything a results table shows, in a fixed number of queries whatever the size."""
    return queryset.select_related("high_school_course", "college", "cluster").prefetch_related(
        Prefetch("high_schools", queryset=HighSchool.objects.order_by("name")),
        Prefetch("college_courses", queryset=CollegeCourse.objects.order_by("prefix", "number")),
    )


# ---------------------------------------------------------------------------------------
# Public


def articulations_public(*, year: AcademicYear | None) -> QuerySet[Articulation]:
    """Active agreements valid in `year`: what the public and student registration see."""
    if year is None:
        return Articulation.objects.none()
    return Articulation.objects.filter(status=S.ACTIVE, valid_years=year)


def articulation_search(*, year: AcademicYear | None) -> QuerySet[Articulation]:
    """The public search's base queryset (filters narrow it further)."""
    return with_listing_details(
        articulations_public(year=year).annotate(credits=_credits_subquery())
    ).order_by("high_school_course__title", "agreement_number")


def offered_at_school_q(high_school_id: int) -> Q:
    through = Articulation.high_schools.through
    return Q(
        Exists(through.objects.filter(articulation_id=OuterRef("pk"), highschool_id=high_school_id))
    )


def offered_in_district_q(district_id: int) -> Q:
    """Taught at a school of the district, or at a skills center that serves it."""
    through = Articulation.high_schools.through
    return Q(
        Exists(
            through.objects.filter(articulation_id=OuterRef("pk")).filter(
                Q(highschool__district_id=district_id) | Q(highschool__served_districts=district_id)
            )
        )
    )


def text_search_q(text: str) -> Q:
    """Course titles and codes on both sides, the CIP code and the agreement number."""
    condition = Q()
    for word in text.split()[:8]:
        courses = CollegeCourse.objects.filter(articulations=OuterRef("pk")).filter(
            Q(title__icontains=word) | Q(prefix__iexact=word) | Q(number__iexact=word)
        )
        condition &= (
            Q(high_school_course__title__icontains=word)
            | Q(high_school_course__local_code__iexact=word)
            | Q(high_school_course__cip_code__startswith=word)
            | Q(agreement_number__iexact=word)
            | Q(Exists(courses))
        )
    return condition


def articulation_public_get(*, pk: int) -> Articulation | None:
    """An active agreement with everything its public page shows, or None."""
    return (
        with_listing_details(Articulation.objects.filter(status=S.ACTIVE))
        .select_related("consortium", "college")
        .prefetch_related(
            Prefetch("valid_years", queryset=AcademicYear.objects.order_by("start_date"))
        )
        .annotate(credits=_credits_subquery())
        .filter(pk=pk)
        .first()
    )


def articulation_active_version_of(*, pk: int) -> Articulation | None:
    """The active version of the agreement another version belongs to (for old links)."""
    number = Articulation.objects.filter(pk=pk).values_list("agreement_number", flat=True).first()
    if number is None:
        return None
    return Articulation.objects.filter(agreement_number=number, status=S.ACTIVE).first()


@dataclass
class SchoolTeachers:
    high_school: HighSchool
    teachers: list[User] = field(default_factory=list)


def teaching_schools(*, articulation: Articulation) -> list[SchoolTeachers]:
    """Schools where an active qualified teacher teaches this course, with those teachers.

    Invited teachers who have not activated their account do not count: their classes
    cannot take registrations yet.
    """
    school_ids = [s.pk for s in articulation.high_schools.all()]
    schools = {s.pk: s for s in articulation.high_schools.all()}
    by_school: dict[int, SchoolTeachers] = {}
    memberships = (
        RoleMembership.objects.filter(
            role=Role.TEACHER,
            high_school_id__in=school_ids,
            user__is_active=True,
            user__qualifications__articulation=articulation,
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    for membership in memberships:
        entry = by_school.setdefault(
            membership.high_school_id, SchoolTeachers(schools[membership.high_school_id])
        )
        entry.teachers.append(membership.user)
    return sorted(by_school.values(), key=lambda entry: entry.high_school.name)


@dataclass
class CatalogEntry:
    articulation: Articulation
    teachers: list[User]


def school_catalog(*, high_school: HighSchool, year: AcademicYear | None) -> list[CatalogEntry]:
    """All dual-credit classes at one school in one year, by cluster then course title."""
    articulations = list(
        articulation_search(year=year)
        .filter(offered_at_school_q(high_school.pk))
        .order_by("cluster__name", "high_school_course__title", "agreement_number")
    )
    teachers: dict[int, list[User]] = defaultdict(list)
    qualifications = (
        TeacherQualification.objects.filter(
            articulation__in=[a.pk for a in articulations],
            teacher__is_active=True,
            teacher__memberships__role=Role.TEACHER,
            teacher__memberships__high_school=high_school,
        )
        .select_related("teacher")
        .order_by("teacher__last_name", "teacher__first_name")
        .distinct()
    )
    for qualification in qualifications:
        teachers[qualification.articulation_id].append(qualification.teacher)
    return [CatalogEntry(a, teachers.get(a.pk, [])) for a in articulations]


# ---------------------------------------------------------------------------------------
# Staff


def articulations_visible(*, access: Access) -> QuerySet[Articulation]:
    """Agreements in any status a staff member may work with."""
    return Articulation.objects.filter(articulation_scope(access))


def articulation_work_list(*, access: Access) -> QuerySet[Articulation]:
    return (
        with_listing_details(articulations_visible(access=access))
        .annotate(credits=_credits_subquery())
        .order_by("agreement_number", "-version")
    )


def articulation_for_work(*, queryset: QuerySet[Articulation]) -> QuerySet[Articulation]:
    """An agreement with everything the staff page shows."""
    return (
        with_listing_details(queryset)
        .select_related("consortium", "previous_version")
        .prefetch_related(
            Prefetch("valid_years", queryset=AcademicYear.objects.order_by("start_date")),
            Prefetch(
                "qualifications",
                queryset=TeacherQualification.objects.select_related("teacher").order_by(
                    "teacher__last_name", "teacher__first_name"
                ),
            ),
        )
        .annotate(credits=_credits_subquery())
    )


def articulation_versions(*, articulation: Articulation) -> QuerySet[Articulation]:
    return Articulation.objects.filter(agreement_number=articulation.agreement_number).order_by(
        "-version"
    )


def articulation_history(*, articulation: Articulation):
    return articulation.status_changes.select_related("changed_by").order_by("changed_at", "id")


def consortium_teachers(*, consortium_ids: frozenset[int] | set[int]) -> QuerySet[User]:
    """Accounts holding the teacher role at a school of these consortia (active or invited)."""
    return (
        User.objects.filter(
            memberships__role=Role.TEACHER,
            memberships__high_school__district__consortium_id__in=consortium_ids,
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def teachers_at_schools(*, high_school_ids) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__role=Role.TEACHER, memberships__high_school_id__in=high_school_ids
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def teacher_school_names(*, teacher_ids, high_school_ids) -> dict[int, list[str]]:
    """For each teacher, the names of the given schools where they teach."""
    names: dict[int, list[str]] = defaultdict(list)
    for user_id, school in (
        RoleMembership.objects.filter(
            role=Role.TEACHER, user_id__in=teacher_ids, high_school_id__in=high_school_ids
        )
        .order_by("high_school__name")
        .values_list("user_id", "high_school__name")
    ):
        names[user_id].append(school)
    return dict(names)


def rollover_runs(*, consortium_ids) -> QuerySet[RolloverRun]:
    return RolloverRun.objects.filter(consortium_id__in=consortium_ids).select_related(
        "consortium", "from_year", "to_year", "requested_by"
    )


# ---------------------------------------------------------------------------------------
# Roll-over


@dataclass
class PlanItem:
    articulation: Articulation
    reasons: list[str] = field(default_factory=list)
    expires_now: bool = False


@dataclass
class RolloverPlan:
    from_year: AcademicYear
    to_year: AcademicYear | None
    renew: list[PlanItem] = field(default_factory=list)
    already_renewed: list[PlanItem] = field(default_factory=list)
    lapse: list[PlanItem] = field(default_factory=list)
    expire: list[Articulation] = field(default_factory=list)


def rollover_plan(
    *,
    consortium_id: int,
    from_year: AcademicYear,
    to_year: AcademicYear | None,
    today: date | None = None,
) -> RolloverPlan:
    """What the roll-over from `from_year` to `to_year` renews and what lapses, and why.

    The rule. The candidates are the consortium's ACTIVE agreements valid in `from_year`.
    - Already valid in `to_year`: nothing to do (this is what makes a second run a no-op).
    - Lapses, listing every reason that applies:
        1. it is marked not to renew (`renew_each_year` is off);
        2. one of its college courses is no longer offered by the college;
        3. it has no qualified teacher with an active account who teaches at one of its
           schools (invited teachers count once they activate).
      A lapsing agreement keeps the years it has, so this year's classes are untouched.
    - Renews otherwise: `to_year` is added to its valid years (and to any revision of it
      that is still a draft, submitted or approved, so activating that later keeps it).
    Active agreements whose every valid year ended before `today` and that are not being
    renewed are marked expired (`expire`; `expires_now` flags a lapsing candidate among
    them). Roll-over normally runs in spring, before `from_year` ends, so then only
    agreements that lapsed in an earlier year expire.
    """
    candidates = list(
        Articulation.objects.filter(
            consortium_id=consortium_id, status=S.ACTIVE, valid_years=from_year
        )
        .select_related("high_school_course", "college", "cluster")
        .prefetch_related(
            Prefetch(
                "college_courses", queryset=CollegeCourse.objects.order_by("prefix", "number")
            ),
            "high_schools",
            Prefetch(
                "qualifications",
                queryset=TeacherQualification.objects.select_related("teacher"),
            ),
        )
        .order_by("high_school_course__title", "agreement_number")
    )
    renewed_ids: set[int] = set()
    if to_year is not None:
        renewed_ids = set(
            Articulation.valid_years.through.objects.filter(
                academicyear_id=to_year.pk, articulation_id__in=[a.pk for a in candidates]
            ).values_list("articulation_id", flat=True)
        )
    teacher_ids = {q.teacher_id for a in candidates for q in a.qualifications.all()}
    teacher_schools: dict[int, set[int]] = defaultdict(set)
    for user_id, school_id in RoleMembership.objects.filter(
        role=Role.TEACHER, user_id__in=teacher_ids, user__is_active=True
    ).values_list("user_id", "high_school_id"):
        teacher_schools[user_id].add(school_id)
    expiring = agreements_past_their_years(consortium_id=consortium_id, today=today)
    expiring_ids = {a.pk for a in expiring}

    plan = RolloverPlan(from_year=from_year, to_year=to_year)
    for articulation in candidates:
        item = PlanItem(articulation, expires_now=articulation.pk in expiring_ids)
        if articulation.pk in renewed_ids:
            plan.already_renewed.append(item)
            continue
        if not articulation.renew_each_year:
            item.reasons.append(_("Marked not to renew."))
        for course in articulation.college_courses.all():
            if not course.is_active:
                item.reasons.append(
                    _("%(course)s is no longer offered by the college.") % {"course": course.code}
                )
        school_ids = {s.pk for s in articulation.high_schools.all()}
        if not any(
            teacher_schools.get(q.teacher_id, set()) & school_ids
            for q in articulation.qualifications.all()
        ):
            item.reasons.append(_("No qualified teacher with an active account at its schools."))
        (plan.lapse if item.reasons else plan.renew).append(item)
    renewing = {item.articulation.pk for item in plan.renew}
    plan.expire = [a for a in expiring if a.pk not in renewing]
    return plan


def agreements_past_their_years(
    *, consortium_id: int, today: date | None = None
) -> list[Articulation]:
    """Active agreements of a consortium whose last valid school year ended before today."""
    today = today or timezone.localdate()
    return list(
        Articulation.objects.filter(consortium_id=consortium_id, status=S.ACTIVE)
        .annotate(last_end=Max("valid_years__end_date"))
        .filter(Q(last_end__lt=today) | Q(last_end__isnull=True))
        .annotate(
            last_year_code=Subquery(
                AcademicYear.objects.filter(articulations=OuterRef("pk"))
                .order_by("-end_date")
                .values("code")[:1]
            )
        )
        .select_related("high_school_course")
        .order_by("high_school_course__title", "agreement_number")
    )


def school_years_for_choice() -> QuerySet[AcademicYear]:
    return AcademicYear.objects.order_by("-start_date")
