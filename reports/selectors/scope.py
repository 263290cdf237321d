"""What every report counts, defined once: the user seen through their reporting roles,
and the registrations counted (in that scope, not withdrawn or removed). The home page's
numbers and the reports dashboard both count through here, so they agree."""

from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import Access, enrollment_scope
from enrollment.models import Enrollment
from enrollment.selectors.visible import ATTEMPTED_STATUSES

REPORTING_ROLES = frozenset({Role.STATE_STAFF, Role.CONSORTIUM_ADMIN, Role.CAREER_SPECIALIST})
# Beside each number of students or registrations, on the home page and the dashboard.
COUNTED_HINT = _("Registrations withdrawn or removed are not counted.")


def reporting_access(access: Access | None) -> Access:
    """The user seen through their reporting roles only (state, consortium, district).

    Reports count what those roles cover, not the classes a user also teaches or the
    college they also register for.
    """
    if access is None:
        return Access(user_id=None)
    return Access(
        user_id=access.user_id,
        roles=access.roles & REPORTING_ROLES,
        consortium_ids=access.consortium_ids,
        district_ids=access.district_ids,
        high_school_ids=access.high_school_ids,
        is_state=access.is_state,
    )


def counted_enrollments(*, access: Access, academic_year_id: int | None) -> QuerySet[Enrollment]:
    """The registrations reports count: in the reporting scope, in the school year (every
    year with None), and not withdrawn or removed."""
    queryset = Enrollment.objects.filter(
        enrollment_scope(reporting_access(access)), status__in=ATTEMPTED_STATUSES
    )
    if academic_year_id:
        queryset = queryset.filter(section__academic_year_id=academic_year_id)
    return queryset


def registration_totals(*, access: Access, academic_year_id: int | None) -> dict[str, int]:
    """{"students": ..., "registrations": ...} of counted_enrollments, in one query."""
    return counted_enrollments(access=access, academic_year_id=academic_year_id).aggregate(
        students=Count("student_id", distinct=True), registrations=Count("pk")
    )
