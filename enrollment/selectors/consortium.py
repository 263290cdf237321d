"""Consortium admins: fees, duplicates, merges, class requests and the work counts."""

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from accounts.permissions import (
    Access,
    Capability,
    get_in_scope,
    student_scope,
)
from articulations.models import Articulation
from organisations.models import AcademicYear

from ..models import (
    Enrollment,
    Fee,
    FeeChange,
    PossibleDuplicate,
    Section,
    SectionRequest,
    StudentProfile,
)

# --- consortium admins --------------------------------------------------------------------------


def consortium_fees(*, access: Access) -> QuerySet[Fee]:
    if not access.can(Capability.RECORD_PAYMENTS):
        return Fee.objects.none()
    return Fee.objects.filter(consortium_id__in=access.consortium_ids).select_related(
        "student__high_school", "consortium", "academic_year"
    )


def unpaid_by_school(*, access: Access, year: AcademicYear | None) -> list[dict]:
    """Unpaid fees of a school year per high school (of the student). One query."""
    if year is None:
        return []
    return list(
        consortium_fees(access=access)
        .filter(academic_year=year, status=Fee.Status.UNPAID, amount__gt=0)
        .order_by()
        .values("student__high_school_id", "student__high_school__name")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("student__high_school__name")
    )


def fee_for_admin(*, access: Access, fee_id: int) -> Fee:
    return get_in_scope(
        consortium_fees(access=access)
        .select_related("student__user", "recorded_by")
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=FeeChange.objects.select_related("changed_by").order_by(
                    "changed_at", "id"
                ),
            )
        ),
        Q(),
        pk=fee_id,
    )


def duplicate_queue(*, access: Access) -> QuerySet:
    """Open pairs of likely duplicates among the consortium's students, the likeliest
    first (the statewide check queues thousands at a time at state size); pairs without a
    weight (queued before weights were kept) last, newest first."""

    if not access.can(Capability.MERGE_STUDENTS):
        return PossibleDuplicate.objects.none()
    ids = access.consortium_ids
    return (
        PossibleDuplicate.objects.filter(
            status=PossibleDuplicate.Status.OPEN,
            student__merged_into__isnull=True,
            existing_student__merged_into__isnull=True,
        )
        .filter(
            Q(student__high_school__district__consortium_id__in=ids)
            | Q(existing_student__high_school__district__consortium_id__in=ids)
        )
        .select_related(
            "student__user",
            "student__high_school",
            "existing_student__user",
            "existing_student__high_school",
        )
        .order_by(F("score").desc(nulls_last=True), "-created_at", "-id")
    )


def merge_side(*, access: Access, student_id: int) -> StudentProfile:
    """One of the two records on the merge page, with what would move. 404 outside scope."""
    student = get_in_scope(
        StudentProfile.objects.select_related("user", "high_school", "merged_into"),
        student_scope(access),
        pk=student_id,
    )
    student.merge_enrollments = list(
        Enrollment.objects.filter(student=student)
        .select_related(
            "section__articulation__high_school_course",
            "section__academic_year",
            "section__high_school",
        )
        .order_by("-section__academic_year__start_date", "pk")
    )
    student.merge_fees = list(
        Fee.objects.filter(student=student)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date")
    )
    return student


def pending_section_requests(*, access: Access) -> QuerySet:
    if not access.can(Capability.MANAGE_TEACHERS):
        return SectionRequest.objects.none()
    return (
        SectionRequest.objects.filter(articulation__consortium_id__in=access.consortium_ids)
        .select_related(
            "teacher",
            "articulation__high_school_course",
            "articulation__college",
            "high_school",
            "academic_year",
            "decided_by",
        )
        .order_by(
            Case(
                When(status="pending", then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            "-created_at",
        )
    )


def consortium_work_counts(*, access: Access, year: AcademicYear | None) -> dict[str, int]:
    """The numbers on the consortium work page. Three queries."""

    unpaid = (
        consortium_fees(access=access)
        .filter(academic_year=year, status=Fee.Status.UNPAID, amount__gt=0)
        .count()
        if year
        else 0
    )
    return {
        "unpaid": unpaid,
        "duplicates": duplicate_queue(access=access).count(),
        "requests": pending_section_requests(access=access)
        .filter(status=SectionRequest.Status.PENDING)
        .count(),
    }


def late_registration_sections(
    *, access: Access, student: StudentProfile, year: AcademicYear | None
) -> list[Section]:
    """This year's classes staff may register the student for: the student's school, the
    skills centers serving their district, and (consortium admins) any class of their
    consortium."""
    if year is None:
        return []
    schools = Q(high_school_id=student.high_school_id) | Q(
        high_school__served_districts=student.high_school.district_id
    )
    if access.consortium_ids:
        schools |= Q(articulation__consortium_id__in=access.consortium_ids)
    return list(
        Section.objects.filter(
            schools,
            academic_year=year,
            articulation__status=Articulation.Status.ACTIVE,
        )
        .select_related("articulation__high_school_course", "high_school", "teacher")
        .distinct()
        .order_by("high_school__name", "articulation__high_school_course__title", "section_code")
    )
