"""The enrollments, students and classes a user may see (scoped to their Access), and
the status counts and credit totals every read of them shares."""

from collections import Counter
from decimal import Decimal

from django.db.models import (
    Count,
    QuerySet,
    Sum,
)

from accounts.permissions import (
    Access,
    enrollment_scope,
    section_scope,
    student_scope,
)
from articulations.models import Articulation

from ..models import (
    Enrollment,
    EnrollmentStatus,
    Section,
    StudentProfile,
)

S = EnrollmentStatus


ATTEMPTED_STATUSES = (
    S.REGISTERED,
    S.CONFIRMED,
    S.GRADED,
    S.ATTAINED,
    S.NOT_ATTAINED,
    S.TRANSCRIBED,
)


ATTAINED_STATUSES = (S.ATTAINED, S.TRANSCRIBED)


def enrollments_visible(*, access: Access) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(enrollment_scope(access))


def students_visible(*, access: Access) -> QuerySet[StudentProfile]:
    return StudentProfile.objects.filter(student_scope(access))


def sections_visible(*, access: Access) -> QuerySet[Section]:
    return Section.objects.filter(section_scope(access))


def status_counts(queryset: QuerySet[Enrollment]) -> dict[str, int]:
    """Enrollments per status (every status present, zero when none)."""
    counts = dict.fromkeys(S.values, 0)
    for row in queryset.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def credit_totals(queryset: QuerySet[Enrollment]) -> dict[str, Decimal]:
    """College credits attempted and attained, in two queries whatever the size."""
    per_articulation: Counter[tuple[int, str]] = Counter()
    for row in (
        queryset.order_by().values("section__articulation_id", "status").annotate(n=Count("pk"))
    ):
        per_articulation[(row["section__articulation_id"], row["status"])] += row["n"]
    articulation_ids = {key[0] for key in per_articulation}
    credits = dict(
        Articulation.objects.filter(pk__in=articulation_ids)
        .annotate(total=Sum("college_courses__credits"))
        .values_list("pk", "total")
    )
    attempted = attained = Decimal(0)
    for (articulation_id, status), n in per_articulation.items():
        value = (credits.get(articulation_id) or Decimal(0)) * n
        if status in ATTEMPTED_STATUSES:
            attempted += value
        if status in ATTAINED_STATUSES:
            attained += value
    return {"attempted": attempted, "attained": attained}
