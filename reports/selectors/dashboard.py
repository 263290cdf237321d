"""The reports dashboard, scoped to what the user may see through their reporting roles:
its tables (a breakdown by a chosen dimension, enrollments by year and career cluster,
the funnel from registration to transcript), each with small cells suppressed, and the
page's summary and charts. The same tables are exported by reports.exporters.

The page reads them precomputed (reports/aggregates.py, read by selectors/aggregated.py:
"as of" their rebuild) when the aggregates cover the user's scope; the tables counted
live here are the fallback, what the aggregates are tested equal to, and what exports
(background jobs, with no latency to keep) count."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Access
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatus, Fee, StudentProfile
from enrollment.rules import eligible_for_transcription_q
from enrollment.selectors.visible import ATTAINED_STATUSES, ATTEMPTED_STATUSES
from organisations.models import Consortium, District, HighSchool

from . import aggregated
from .home import Stat
from .scope import COUNTED_HINT, counted_enrollments, reporting_access

S = EnrollmentStatus

SMALL_CELL = 10  # counts of 1 to 9 students are shown as "<10"
FINAL_STATUSES = (S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED)


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    id_field: str
    label_field: str
    choices: dict | None = None  # labels of a choice field; blank is "not reported"


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension(
            "academic_year",
            _("School year"),
            "section__academic_year__start_date",
            "section__academic_year__code",
        ),
        Dimension(
            "consortium",
            _("Consortium"),
            "section__articulation__consortium_id",
            "section__articulation__consortium__name",
        ),
        Dimension(
            "college",
            _("College"),
            "section__articulation__college_id",
            "section__articulation__college__name",
        ),
        Dimension(
            "district",
            _("District"),
            "section__high_school__district_id",
            "section__high_school__district__name",
        ),
        Dimension(
            "high_school",
            _("High school"),
            "section__high_school_id",
            "section__high_school__name",
        ),
        Dimension(
            "cluster",
            _("Career cluster"),
            "section__articulation__cluster_id",
            "section__articulation__cluster__name",
        ),
        Dimension(
            "gender",
            _("Gender (self-reported)"),
            "student__gender",
            "student__gender",
            dict(StudentProfile.Gender.choices),
        ),
        Dimension(
            "race_ethnicity",
            _("Race/ethnicity (self-reported)"),
            "student__race_ethnicity",
            "student__race_ethnicity",
            dict(StudentProfile.RaceEthnicity.choices),
        ),
    )
}
DASHBOARD_TABLES = {
    "breakdown": _("Students, enrollments, credits and fees"),
    "year_cluster": _("Enrollments by school year and career cluster"),
    "funnel": _("From registration to transcript"),
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # students | count | credits | rate


@dataclass
class Cell:
    value: object = None
    students: int = 0  # the students behind the number, which decides suppression
    suppressed: bool = False

    @property
    def display(self) -> str:
        if self.suppressed:
            return "<10"
        if self.value is None:
            return "—"
        if isinstance(self.value, float):
            return f"{self.value:.1f}%"
        if isinstance(self.value, Decimal):
            return f"{self.value.normalize():,f}"
        return f"{self.value:,}" if isinstance(self.value, int) else str(self.value)

    @property
    def export_value(self):
        if self.suppressed:
            return "<10"
        if isinstance(self.value, float):
            return round(self.value, 1)
        return self.value


@dataclass
class Row:
    label: str
    cells: list[Cell]

    def hide(self) -> None:
        for cell in self.cells:
            cell.suppressed = True


@dataclass
class Table:
    key: str
    title: str
    row_header: str
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    # True: a row stands for one group of students, so hiding its student count hides
    # the whole row. False (a pivot): each cell is its own group.
    row_groups: bool = True

    def export_headers(self) -> list[str]:
        headers = [str(self.row_header)]
        for column in self.columns:
            label = str(column.label)
            headers.append(f"{label} (%)" if column.kind == "rate" else label)
        return headers

    def export_rows(self) -> list[list]:
        rows = [[row.label, *(c.export_value for c in row.cells)] for row in self.rows]
        if self.total is not None:
            rows.append([self.total.label, *(c.export_value for c in self.total.cells)])
        return rows


def suppress_small_cells(table: Table) -> Table:
    """Hide counts of 1 to 9 students, and whatever would let someone work them out.

    1. Primary: a cell that stands for 1-9 students shows "<10". In a breakdown every
       number in a row comes from the row's students, so a row of 1-9 students is
       hidden whole; a fee count of 1-9 students is hidden on its own.
    2. The total: a total of 1-9 students is hidden whole.
    3. Complementary: a column (of counts or credits, which add up) with exactly one
       hidden cell and a visible total would give that cell away by subtraction, so the
       smallest other non-zero cell of the column is hidden too (in a breakdown, for
       the students column, its whole row). When there is no other cell to hide — a
       single-row breakdown — the column's total is hidden instead.
    Zero is shown as 0. Rates are not added up, so they need no complement.
    """
    for row in table.rows:
        if table.row_groups and 0 < row.cells[0].students < SMALL_CELL:
            row.hide()
            continue
        for cell in row.cells:
            if 0 < cell.students < SMALL_CELL:
                cell.suppressed = True
    if table.total is not None:
        if table.row_groups and 0 < table.total.cells[0].students < SMALL_CELL:
            table.total.hide()
        else:
            for cell in table.total.cells:
                if 0 < cell.students < SMALL_CELL:
                    cell.suppressed = True
    if table.total is None:
        return table
    for index, column in enumerate(table.columns):
        if column.kind == "rate" or table.total.cells[index].suppressed:
            continue
        hidden = [row for row in table.rows if row.cells[index].suppressed]
        if len(hidden) != 1:
            continue
        candidates = [
            row
            for row in table.rows
            if not row.cells[index].suppressed and (row.cells[index].value or 0) > 0
        ]
        whole_row = table.row_groups and index == 0
        if candidates:
            chosen = min(candidates, key=lambda row: (row.cells[index].value, row.label))
            if whole_row:
                chosen.hide()
            else:
                chosen.cells[index].suppressed = True
        elif whole_row:
            table.total.hide()
        else:
            table.total.cells[index].suppressed = True
    return table


def _rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


BREAKDOWN_COLUMNS = [
    Column("students", _("Students"), "students"),
    Column("enrollments", _("Enrollments")),
    Column("credits_attempted", _("Credits attempted"), "credits"),
    Column("credits_attained", _("Credits attained"), "credits"),
    Column("attainment_rate", _("Attainment rate"), "rate"),
    Column("transcribed_rate", _("Transcribed rate"), "rate"),
    Column("fees_paid", _("Fees paid"), "students"),
    Column("fees_waived", _("Fees waived"), "students"),
]
READY = "eligible"  # ready for a transcript (or on one): counted in a query of its own
FUNNEL_STAGES = [
    ("registered", _("Registered"), Q(status__in=ATTEMPTED_STATUSES)),
    ("confirmed", _("Confirmed by the teacher"), ~Q(status=S.REGISTERED)),
    ("graded", _("Graded"), Q(status__in=(S.GRADED, *FINAL_STATUSES))),
    ("attained", _("Attained"), Q(status__in=ATTAINED_STATUSES)),
    (READY, _("Ready for or on a transcript"), None),
    ("transcribed", _("Transcribed"), Q(status=S.TRANSCRIBED)),
]


def _with_settled_fee(enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """Enrollments joined to their student's paid or waived fee for that consortium and
    year. One filter() call, so the three conditions hold for the same fee row; at most
    one fee per student, consortium and year, so no enrollment is repeated. A join is
    far cheaper than a subquery per enrollment at state scale."""
    return enrollments.filter(
        student__fees__consortium_id=F("section__articulation__consortium_id"),
        student__fees__academic_year_id=F("section__academic_year_id"),
        student__fees__status__in=(Fee.Status.PAID, Fee.Status.WAIVED),
    )


ENROLLMENT_COUNTS = {
    "enrollments": Count("pk"),
    "graded": Count("pk", filter=Q(status__in=FINAL_STATUSES)),
    "attained": Count("pk", filter=Q(status__in=ATTAINED_STATUSES)),
    "transcribed": Count("pk", filter=Q(status=S.TRANSCRIBED)),
}
FEE_COUNTS = {
    "fees_paid": Count(
        "student_id", distinct=True, filter=Q(student__fees__status=Fee.Status.PAID)
    ),
    "fees_waived": Count(
        "student_id", distinct=True, filter=Q(student__fees__status=Fee.Status.WAIVED)
    ),
}


def _articulation_credits(enrollments: QuerySet[Enrollment]) -> dict[int, Decimal]:
    """College credits of each agreement these enrollments are under (one query)."""
    return dict(
        Articulation.objects.filter(pk__in=enrollments.values("section__articulation_id"))
        .annotate(total=Sum("college_courses__credits"))
        .values_list("pk", "total")
    )


def _empty_values() -> dict:
    values = dict.fromkeys([*ENROLLMENT_COUNTS, "students", *FEE_COUNTS], 0)
    values["credits_attempted"] = values["credits_attained"] = Decimal(0)
    return values


def _breakdown_row(label: str, values: dict) -> Row:
    students = values["students"]
    numbers = {
        "students": students,
        "enrollments": values["enrollments"],
        "credits_attempted": values["credits_attempted"],
        "credits_attained": values["credits_attained"],
        "attainment_rate": _rate(values["attained"], values["graded"]),
        "transcribed_rate": _rate(values["transcribed"], values["attained"]),
        "fees_paid": values["fees_paid"],
        "fees_waived": values["fees_waived"],
    }
    cells = []
    for column in BREAKDOWN_COLUMNS:
        behind = numbers[column.key] if column.key.startswith("fees_") else students
        cells.append(Cell(numbers[column.key], students=behind))
    return Row(label, cells)


def _reporting_enrollments(access: Access, academic_year_id: int | None):
    return counted_enrollments(access=access, academic_year_id=academic_year_id)


def _dimension_label(dimension: Dimension, value) -> str:
    if dimension.choices is not None:
        return str(dimension.choices.get(value, _("Not reported")) if value else _("Not reported"))
    return str(value)


def _live_breakdown(
    *, access: Access, academic_year_id: int | None, dim: Dimension
) -> tuple[dict, dict]:
    """Students, enrollments, credits, rates and fees per group, and the total, in six
    queries.

    Every breakdown splits the enrollments into groups (each enrollment is in exactly
    one), so enrollment counts and credits add up to the total; students do not (one
    student can be in several groups), so they are counted again for the total.
    Credits: counts per group and agreement, times each agreement's credits.
    """
    enrollments = _reporting_enrollments(access, academic_year_id).order_by()
    fields = list(dict.fromkeys([dim.id_field, dim.label_field]))  # one when they match
    credits = _articulation_credits(enrollments)
    groups: dict[object, dict] = {}
    total = _empty_values()
    per_agreement = enrollments.values(*fields, "section__articulation_id").annotate(
        **ENROLLMENT_COUNTS
    )
    for row in per_agreement:
        key = row[dim.id_field]
        if key not in groups:
            groups[key] = {**_empty_values(), "label": row[dim.label_field]}
        agreement_credits = credits.get(row["section__articulation_id"]) or Decimal(0)
        for target in (groups[key], total):
            for name in ENROLLMENT_COUNTS:
                target[name] += row[name]
            target["credits_attempted"] += agreement_credits * row["enrollments"]
            target["credits_attained"] += agreement_credits * row["attained"]
    students = Count("student_id", distinct=True)
    for row in enrollments.values(*fields).annotate(students=students):
        groups[row[dim.id_field]]["students"] = row["students"]
    for row in _with_settled_fee(enrollments).values(*fields).annotate(**FEE_COUNTS):
        groups[row[dim.id_field]].update({key: row[key] for key in FEE_COUNTS})
    total.update(enrollments.aggregate(students=students))
    total.update(_with_settled_fee(enrollments).aggregate(**FEE_COUNTS))
    return groups, total


def _breakdown_from(dim: Dimension, groups: dict, total: dict) -> Table:
    """The breakdown table of groups' values (by group key) and the total's, suppressed."""
    order = sorted(
        groups, key=lambda key: (key,) if dim.key == "academic_year" else (groups[key]["label"],)
    )
    rows = [
        _breakdown_row(_dimension_label(dim, groups[key]["label"]), groups[key]) for key in order
    ]
    table = Table(
        key="breakdown",
        title=str(DASHBOARD_TABLES["breakdown"]),
        row_header=str(dim.label),
        columns=BREAKDOWN_COLUMNS,
        rows=rows,
        total=_breakdown_row(str(_("Total")), total),
    )
    return suppress_small_cells(table)


def breakdown_table(*, access: Access, academic_year_id: int | None, dimension: str) -> Table:
    """Students, enrollments, credits, rates and fees per group of a dimension, counted
    live (the page reads the aggregates: dashboard_report)."""
    dim = DIMENSIONS.get(dimension) or DIMENSIONS["consortium"]
    groups, total = _live_breakdown(access=access, academic_year_id=academic_year_id, dim=dim)
    return _breakdown_from(dim, groups, total)


def year_cluster_table(*, access: Access) -> Table:
    """Enrollments per career cluster (rows) and school year (columns), every year."""
    enrollments = _reporting_enrollments(access, None).order_by()
    cells = enrollments.values(
        "section__academic_year__start_date",
        "section__academic_year__code",
        "section__articulation__cluster__name",
    ).annotate(enrollments=Count("pk"), students=Count("student_id", distinct=True))
    totals = (
        enrollments.values("section__academic_year__start_date", "section__academic_year__code")
        .annotate(enrollments=Count("pk"), students=Count("student_id", distinct=True))
        .order_by("section__academic_year__start_date")
    )
    return _year_cluster_from(
        [
            (
                c["section__articulation__cluster__name"],
                c["section__academic_year__code"],
                c["enrollments"],
                c["students"],
            )
            for c in cells
        ],
        [(t["section__academic_year__code"], t["enrollments"], t["students"]) for t in totals],
    )


def _year_cluster_from(cells: list[tuple], totals: list[tuple]) -> Table:
    """The grid of (cluster, year code, enrollments, students) cells, with the years'
    (year code, enrollments, students) totals in year order as columns, suppressed."""
    years = [code for code, _enrollments, _students in totals]
    by_cell = {(name, code): (enrollments, students) for name, code, enrollments, students in cells}
    clusters = sorted({key[0] for key in by_cell})
    rows = []
    for cluster_name in clusters:
        row_cells = []
        for year in years:
            found = by_cell.get((cluster_name, year))
            row_cells.append(Cell(found[0], students=found[1]) if found else Cell(0))
        rows.append(Row(cluster_name, row_cells))
    total = Row(
        str(_("All clusters")),
        [Cell(enrollments, students=students) for _code, enrollments, students in totals],
    )
    table = Table(
        key="year_cluster",
        title=str(DASHBOARD_TABLES["year_cluster"]),
        row_header=str(_("Career cluster")),
        columns=[Column(year, year) for year in years],
        rows=rows,
        total=total,
        row_groups=False,
    )
    return suppress_small_cells(table)


def funnel_table(*, access: Access, academic_year_id: int | None) -> Table:
    """How many enrollments reach each step from registration to transcript (two queries).

    "Ready" needs the fee rules (a subquery per row), so it is counted over the attained
    and transcribed enrollments only, apart from the simple status counts.
    """
    enrollments = _reporting_enrollments(access, academic_year_id).order_by()
    aggregates = {}
    for key, _label, condition in FUNNEL_STAGES:
        if condition is not None:
            aggregates[key] = Count("pk", filter=condition)
            aggregates[f"{key}_students"] = Count("student_id", distinct=True, filter=condition)
    values = enrollments.aggregate(**aggregates)
    ready = (
        enrollments.filter(status__in=ATTAINED_STATUSES)
        .filter(Q(status=S.TRANSCRIBED) | eligible_for_transcription_q())
        .aggregate(n=Count("pk"), students=Count("student_id", distinct=True))
    )
    values[READY], values[f"{READY}_students"] = ready["n"], ready["students"]
    return _funnel_from(values)


def _funnel_from(values: dict) -> Table:
    """The funnel of each step's count and students (FUNNEL_STAGES keys), suppressed."""
    registered = values["registered"]
    rows = []
    for key, label, _condition in FUNNEL_STAGES:
        count = values[key]
        students = values[f"{key}_students"]
        rows.append(
            Row(
                str(label),
                [
                    Cell(count, students=students),
                    Cell(_rate(count, registered), students=students),
                ],
            )
        )
    table = Table(
        key="funnel",
        title=str(DASHBOARD_TABLES["funnel"]),
        row_header=str(_("Step")),
        columns=[Column("enrollments", _("Enrollments")), Column("share", _("Share"), "rate")],
        rows=rows,
        row_groups=False,
    )
    # Steps are nested, not parts of a whole: no total, so each step stands alone.
    return suppress_small_cells(table)


def dashboard_table(
    *, access: Access, table: str, academic_year_id: int | None, dimension: str
) -> Table:
    """One dashboard table by name, for the page and for its CSV/XLSX export."""
    if table == "year_cluster":
        return year_cluster_table(access=access)
    if table == "funnel":
        return funnel_table(access=access, academic_year_id=academic_year_id)
    return breakdown_table(access=access, academic_year_id=academic_year_id, dimension=dimension)


@dataclass
class Dashboard:
    scope_label: str
    breakdown: Table
    year_cluster: Table
    funnel: Table
    summary: list[Stat]
    charts: dict
    # The time of the precomputed figures, and how often they are rebuilt (minutes); None
    # when counted live.
    as_of: datetime.datetime | None = None
    refresh_minutes: int | None = None


def reporting_scope_label(access: Access) -> str:
    """Whose numbers these are, in words: statewide, or the consortia/districts/schools."""
    if access.is_state:
        return str(_("Statewide"))
    names = list(
        Consortium.objects.filter(pk__in=access.consortium_ids).values_list("name", flat=True)
    )
    names += District.objects.filter(pk__in=access.district_ids).values_list("name", flat=True)
    names += HighSchool.objects.filter(pk__in=access.high_school_ids).values_list("name", flat=True)
    return ", ".join(sorted(names))


def dashboard_report(
    *, access: Access, academic_year_id: int | None, dimension: str, live: bool = False
) -> Dashboard:
    """Everything on the reports dashboard, in a fixed number of queries: from the
    precomputed aggregates when they cover the user's scope (reports/selectors/
    aggregated.py), else (or with `live`) counted from the enrollments now."""
    dim = DIMENSIONS.get(dimension) or DIMENSIONS["consortium"]
    stored = None
    if not live:
        stored = aggregated.stored_figures(
            access=access, academic_year_id=academic_year_id, dimension=dim.key
        )
    if stored is not None:
        breakdown = _breakdown_from(dim, stored.groups, stored.total)
        year_cluster = _year_cluster_from(stored.year_cluster_cells, stored.year_totals)
        funnel = _funnel_from(stored.funnel)
    else:
        breakdown = breakdown_table(
            access=access, academic_year_id=academic_year_id, dimension=dim.key
        )
        year_cluster = year_cluster_table(access=access)
        funnel = funnel_table(access=access, academic_year_id=academic_year_id)
    total = dict(zip((c.key for c in BREAKDOWN_COLUMNS), breakdown.total.cells, strict=True))
    summary = [
        Stat(
            column.label,
            total[column.key].display,
            COUNTED_HINT if column.key in ("students", "enrollments") else "",
        )
        for column in BREAKDOWN_COLUMNS
    ]
    charts = {
        "year_cluster": {
            "labels": [column.label for column in year_cluster.columns],
            "datasets": [
                {
                    "label": row.label,
                    "data": [None if c.suppressed else c.value for c in row.cells],
                }
                for row in year_cluster.rows
            ],
        },
        "funnel": {
            "labels": [row.label for row in funnel.rows],
            "data": [
                None if row.cells[0].suppressed else row.cells[0].value for row in funnel.rows
            ],
        },
    }
    return Dashboard(
        scope_label=reporting_scope_label(reporting_access(access)),
        breakdown=breakdown,
        year_cluster=year_cluster,
        funnel=funnel,
        summary=summary,
        charts=charts,
        as_of=stored.as_of if stored else None,
        refresh_minutes=settings.SERS_DASHBOARD_REFRESH_MINUTES if stored else None,
    )
