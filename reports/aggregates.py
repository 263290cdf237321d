"""The reports dashboard's aggregates (reports.models.DashboardAggregate): rebuilt here,
all at once, in one transaction, by the database.

The registrations the dashboard counts (reports.selectors.scope.counted_enrollments,
statewide) are first written to a temporary table, one row each with what every table
groups by and what it counts (the "facts"), in one statement: every number of the rebuild
comes from that one reading of the data, whose time is the dashboard's "as of". Then one
INSERT ... SELECT ... GROUP BY a scope kind, a dimension and the year (or every year)
fills the aggregates from the facts: plain SQL that PostgreSQL and SQLite both run.

Students are counted distinct by the database in each INSERT, for exactly the scope, year
and group stored, because distinct counts do not add up (models.DashboardAggregate).

Which enrollments a scope covers is enrollment_scope's rule (accounts.permissions): a
consortium, its agreements' classes; a district or a high school, the classes taught
there and the classes of its own students, wherever taught. An enrollment can so be in
two districts (its class's and its student's): it is counted in each, once.

The Celery beat schedule runs the rebuild every SERS_DASHBOARD_REFRESH_MINUTES minutes
(sers/settings/base.py); the page says so beside the "as of" time.
"""

import time

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.permissions import Access
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatus, Fee
from enrollment.rules import eligible_for_transcription_q

from .models import DashboardAggregate
from .selectors.dashboard import FINAL_STATUSES, FUNNEL_STAGES
from .selectors.scope import counted_enrollments

S = EnrollmentStatus
FACTS = "sers_dashboard_facts"  # the temporary table, one row per counted enrollment
# PostgreSQL: the advisory lock a rebuild holds, so two never interleave (SQLite has one
# writer at a time anyway).
_LOCK_KEY = 0x5E125DA5
REBUILD_WORK_MEM = "256MB"

# Dimension key -> (the facts' column of its group key, of its label). The keys are the
# dashboard's DIMENSIONS (reports/selectors/dashboard.py), in the same order.
GROUPS = {
    "academic_year": ("f_year_start", "f_year_code"),
    "consortium": ("f_consortium", "f_consortium_name"),
    "college": ("f_college", "f_college_name"),
    "district": ("f_district", "f_district_name"),
    "high_school": ("f_school", "f_school_name"),
    "cluster": ("f_cluster", "f_cluster_name"),
    "gender": ("f_gender", "f_gender"),
    "race_ethnicity": ("f_race", "f_race"),
}
YEAR_CLUSTER = DashboardAggregate.YEAR_CLUSTER

# Scope kind -> the facts with the scope's id as `scope_id`, each enrollment once per
# scope it is in (enrollment_scope: a district or school by the class or by the student).
# Every SQL text here is made of these constants: values go as parameters.
_SCOPED_FACTS = {
    "state": "SELECT f.*, 0 AS scope_id FROM {facts} f",
    "consortium": "SELECT f.*, f.f_consortium_id AS scope_id FROM {facts} f",
    "district": (
        "SELECT f.*, f.f_district_id AS scope_id FROM {facts} f UNION ALL "
        "SELECT f.*, f.f_student_district_id AS scope_id FROM {facts} f "
        "WHERE f.f_student_district_id <> f.f_district_id"
    ),
    "high_school": (
        "SELECT f.*, f.f_school_id AS scope_id FROM {facts} f UNION ALL "
        "SELECT f.*, f.f_student_school_id AS scope_id FROM {facts} f "
        "WHERE f.f_student_school_id <> f.f_school_id"
    ),
}


def _students(flag: str) -> str:
    return f"COUNT(DISTINCT CASE WHEN s.{flag} = 1 THEN s.student_id END)"


# DashboardAggregate's number columns -> their SQL over the scoped facts `s`.
_NUMBERS = {
    "students": "COUNT(DISTINCT s.student_id)",
    "enrollments": "COUNT(*)",
    "graded": "SUM(s.f_final)",
    "attained": "SUM(s.f_attained)",
    "transcribed": "SUM(s.f_transcribed)",
    "credits_attempted": "SUM(s.f_credits)",
    "credits_attained": "SUM(s.f_credits_attained)",
    "fees_paid": _students("f_fee_paid"),
    "fees_waived": _students("f_fee_waived"),
    "confirmed": "SUM(s.f_confirmed)",
    "confirmed_students": _students("f_confirmed"),
    "graded_any": "SUM(s.f_graded_any)",
    "graded_any_students": _students("f_graded_any"),
    "attained_students": _students("f_attained"),
    "ready": "SUM(s.f_ready)",
    "ready_students": _students("f_ready"),
    "transcribed_students": _students("f_transcribed"),
}
# What each kind of row is read for (selectors/aggregated.py): the total (dimension ""),
# every number; a breakdown's groups, BREAKDOWN; the grid, GRID. The others are 0: each
# distinct count is a sort of its own, the costliest part of the rebuild.
BREAKDOWN = DashboardAggregate.BREAKDOWN_NUMBERS
GRID = ("students", "enrollments")


def _flag(condition: Q):
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _facts() -> QuerySet[Enrollment]:
    """Every registration the dashboard counts statewide, with what it is grouped by and
    what is counted of it, as flags (1 or 0) the aggregates add up."""
    credits = Coalesce(
        Subquery(
            Articulation.objects.filter(pk=OuterRef("section__articulation_id"))
            .annotate(total=Sum("college_courses__credits"))
            .values("total")
        ),
        Value(0),
        output_field=DecimalField(max_digits=10, decimal_places=1),
    )
    settled_fee = Subquery(
        Fee.objects.filter(
            student_id=OuterRef("student_id"),
            consortium_id=OuterRef("section__articulation__consortium_id"),
            academic_year_id=OuterRef("section__academic_year_id"),
            status__in=(Fee.Status.PAID, Fee.Status.WAIVED),
        ).values("status")[:1]
    )
    key = {"output_field": CharField()}
    # The same conditions as the live tables count by (selectors/dashboard.py).
    step = {name: condition for name, _label, condition in FUNNEL_STAGES}
    attained = step["attained"]
    state = Access(user_id=None, is_state=True)
    return (
        counted_enrollments(access=state, academic_year_id=None)
        .order_by()
        .annotate(f_credit=credits, f_fee=settled_fee)
        .values(
            "student_id",
            f_year=F("section__academic_year_id"),
            f_year_start=Cast("section__academic_year__start_date", **key),
            f_year_code=F("section__academic_year__code"),
            f_consortium_id=F("section__articulation__consortium_id"),
            f_consortium=Cast("section__articulation__consortium_id", **key),
            f_consortium_name=F("section__articulation__consortium__name"),
            f_college=Cast("section__articulation__college_id", **key),
            f_college_name=F("section__articulation__college__name"),
            f_district_id=F("section__high_school__district_id"),
            f_district=Cast("section__high_school__district_id", **key),
            f_district_name=F("section__high_school__district__name"),
            f_school_id=F("section__high_school_id"),
            f_school=Cast("section__high_school_id", **key),
            f_school_name=F("section__high_school__name"),
            f_cluster=Cast("section__articulation__cluster_id", **key),
            f_cluster_name=F("section__articulation__cluster__name"),
            f_gender=F("student__gender"),
            f_race=F("student__race_ethnicity"),
            f_student_district_id=F("student__high_school__district_id"),
            f_student_school_id=F("student__high_school_id"),
            f_credits=F("f_credit"),
            f_credits_attained=_credits_if(attained),
            f_fee_paid=_flag(Q(f_fee=Fee.Status.PAID)),
            f_fee_waived=_flag(Q(f_fee=Fee.Status.WAIVED)),
            f_final=_flag(Q(status__in=FINAL_STATUSES)),
            f_attained=_flag(attained),
            f_transcribed=_flag(step["transcribed"]),
            f_confirmed=_flag(step["confirmed"]),
            f_graded_any=_flag(step["graded"]),
            # Ready for a transcript or on one: as funnel_table counts it.
            f_ready=_flag(attained & (Q(status=S.TRANSCRIBED) | eligible_for_transcription_q())),
        )
    )


def _credits_if(condition: Q):
    return Case(
        When(condition, then=F("f_credit")),
        default=Value(0),
        output_field=DecimalField(max_digits=10, decimal_places=1),
    )


def _insert_sql(*, scope_kind: str, dimension: str, per_year: bool) -> tuple[str, list]:
    """INSERT ... SELECT ... GROUP BY: one dimension's groups (or the total, dimension "",
    or the year-by-cluster grid) for every scope of a kind, per year or every year."""
    group_by = ["s.scope_id"]
    year = "CAST(NULL AS INTEGER)"
    if per_year:
        year = "s.f_year"
        group_by.append(year)
    if dimension == YEAR_CLUSTER:
        key, label = "s.f_cluster_name", "s.f_year_code"
    elif dimension:
        key, label = (f"s.{column}" for column in GROUPS[dimension])
    else:
        key = label = "CAST(NULL AS TEXT)"
    if dimension:
        group_by += dict.fromkeys([key, label])
    wanted = _NUMBERS if not dimension else BREAKDOWN if dimension != YEAR_CLUSTER else GRID
    numbers = ", ".join(_NUMBERS[name] if name in wanted else "0" for name in _NUMBERS)
    table = DashboardAggregate._meta.db_table
    scoped = _SCOPED_FACTS[scope_kind].format(facts=FACTS)
    # Made of this module's constants only; the values are parameters.
    insert = f"INSERT INTO {table} (refreshed_at, scope_kind, scope_id, academic_year_id, "
    insert += f"dimension, group_key, group_label, {', '.join(_NUMBERS)}) "
    select = f"SELECT %s, %s, s.scope_id, {year}, %s, {key}, {label}, {numbers} "
    sql = insert + select + f"FROM ({scoped}) s GROUP BY {', '.join(group_by)}"
    return sql, [scope_kind, dimension]


def _statements() -> list[tuple[str, list]]:
    statements = []
    for scope_kind in _SCOPED_FACTS:
        for dimension in ("", *GROUPS):
            for per_year in (True, False):
                statements.append(
                    _insert_sql(scope_kind=scope_kind, dimension=dimension, per_year=per_year)
                )
        statements.append(
            _insert_sql(scope_kind=scope_kind, dimension=YEAR_CLUSTER, per_year=False)
        )
    return statements


def dashboard_aggregates_refresh() -> dict:
    """Rebuild every dashboard aggregate from the data as it is now, in one transaction
    (readers see the old figures until it commits), stamped with the time the data was
    read: the "as of". Returns that time, the rows written and the seconds it took."""
    started = time.monotonic()
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic(using=DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            # Room to group in memory: the default (4 MB) spills every grouping to disk.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [REBUILD_WORK_MEM])
        as_of = timezone.now()
        facts_sql, params = _facts().query.get_compiler(connection=connection).as_sql()
        cursor.execute(f"DROP TABLE IF EXISTS {FACTS}")
        cursor.execute(f"CREATE TEMPORARY TABLE {FACTS} AS {facts_sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {FACTS}")
        DashboardAggregate.objects.all().delete()
        value = connection.ops.adapt_datetimefield_value(as_of)
        for sql, statement_params in _statements():
            cursor.execute(sql, [value, *statement_params])
        cursor.execute(f"DROP TABLE {FACTS}")
        rows = DashboardAggregate.objects.count()
    return {"as_of": as_of, "rows": rows, "seconds": time.monotonic() - started}
