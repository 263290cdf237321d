"""The reports dashboard's numbers read from its precomputed aggregates (reports/aggregates.py
builds them): for a user whose reporting scope is the state or one consortium, district
or high school, once they have been built. Otherwise (never built yet: a fresh install;
or a scope of several units at once, whose distinct students no stored row counts)
`stored_figures` answers None and the dashboard counts live.

The values have the shape the live queries give (reports/selectors/dashboard.py), so the
same code turns either into tables and suppresses their small cells."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from accounts.permissions import Access

from ..models import DashboardAggregate
from .scope import reporting_access

Kind = DashboardAggregate.ScopeKind
BREAKDOWN_NUMBERS = DashboardAggregate.BREAKDOWN_NUMBERS
YEAR_CLUSTER = DashboardAggregate.YEAR_CLUSTER


@dataclass
class StoredFigures:
    as_of: datetime.datetime
    # Breakdown: group key -> values (BREAKDOWN_NUMBERS and "label"), and the total.
    groups: dict[str, dict] = field(default_factory=dict)
    total: dict = field(default_factory=dict)
    # Year by cluster: (cluster, year code, enrollments, students); year totals
    # (year code, enrollments, students) in year order.
    year_cluster_cells: list[tuple] = field(default_factory=list)
    year_totals: list[tuple] = field(default_factory=list)
    funnel: dict = field(default_factory=dict)


def aggregate_scope(access: Access) -> tuple[str, int] | None:
    """The stored scope that is exactly the user's reporting scope, or None."""
    scope = reporting_access(access)
    if scope.is_state:
        return Kind.STATE, 0
    units = [
        *((Kind.CONSORTIUM, pk) for pk in scope.consortium_ids),
        *((Kind.DISTRICT, pk) for pk in scope.district_ids),
        *((Kind.HIGH_SCHOOL, pk) for pk in scope.high_school_ids),
    ]
    return units[0] if len(units) == 1 else None


def _breakdown_values(row: DashboardAggregate | None) -> dict:
    values = {name: getattr(row, name) if row else 0 for name in BREAKDOWN_NUMBERS}
    for name in ("credits_attempted", "credits_attained"):
        values[name] = Decimal(values[name] or 0)
    return values


def _funnel_values(row: DashboardAggregate | None) -> dict:
    """The funnel's counts (keys of dashboard.FUNNEL_STAGES) and the students of each."""
    pairs = {
        "registered": ("enrollments", "students"),
        "confirmed": ("confirmed", "confirmed_students"),
        "graded": ("graded_any", "graded_any_students"),
        "attained": ("attained", "attained_students"),
        "eligible": ("ready", "ready_students"),
        "transcribed": ("transcribed", "transcribed_students"),
    }
    values = {}
    for key, (count, students) in pairs.items():
        values[key] = getattr(row, count) if row else 0
        values[f"{key}_students"] = getattr(row, students) if row else 0
    return values


def stored_figures(
    *, access: Access, academic_year_id: int | None, dimension: str
) -> StoredFigures | None:
    """The dashboard's numbers from the aggregates (two queries), or None (one query):
    count live."""
    scope = aggregate_scope(access)
    if scope is None:
        return None
    # Every row of a rebuild has its time; none at all: never built (count live).
    as_of = DashboardAggregate.objects.values_list("refreshed_at", flat=True).first()
    if as_of is None:
        return None
    kind, scope_id = scope
    rows = list(
        DashboardAggregate.objects.filter(scope_kind=kind, scope_id=scope_id).filter(
            Q(academic_year_id=academic_year_id, dimension__in=(dimension, ""))
            | Q(academic_year__isnull=True, dimension__in=(YEAR_CLUSTER, "academic_year"))
        )
    )
    figures = StoredFigures(as_of=as_of)
    total = None
    for row in rows:
        in_year = row.academic_year_id == academic_year_id
        if in_year and row.dimension == "":
            total = row
        if in_year and row.dimension == dimension:
            figures.groups[row.group_key] = {
                **_breakdown_values(row),
                "label": row.group_label,
            }
        if row.dimension == YEAR_CLUSTER:
            figures.year_cluster_cells.append(
                (row.group_key, row.group_label, row.enrollments, row.students)
            )
        if row.academic_year_id is None and row.dimension == "academic_year":
            figures.year_totals.append((row.group_key, row.group_label, row))
    figures.year_totals = [
        (label, row.enrollments, row.students)
        for _key, label, row in sorted(figures.year_totals, key=lambda entry: entry[0])
    ]
    figures.total = _breakdown_values(total)
    figures.funnel = _funnel_values(total)
    return figures
