"""Builds the whole demo dataset: runs every phase in order, timed, and reports the rows."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection

from enrollment import pagecache

from .articulations import build_articulations
from .constants import STUDENTS_PER_YEAR
from .context import DemoBuild
from .organisations import build_organisations, build_years
from .people import build_admin, build_staff, build_teachers
from .persona import build_demo_student
from .students import build_pools
from .years import build_year


@dataclass
class BuildResult:
    seconds: float
    counts: dict[str, int]  # rows written per model label
    phases: list[tuple[str, float]]
    columns: dict[str, tuple[str, ...]]  # the columns written per model label


def build_demo_data(
    *,
    students_per_year: int = STUDENTS_PER_YEAR["small"],
    years: int = 2,
    seed: int = 2026,
    use_copy: bool | None = None,
    log: Callable[[str], None] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> BuildResult:
    """The demo data, deterministic for a seed (and a date). `manage.py demo_data` calls this;
    `bench/build_state_data.py` runs it at state size through the command. Rows are
    generated as tuples with precomputed primary keys and written in bulk (see `rows`)."""
    b = DemoBuild(
        students_per_year=students_per_year,
        years=years,
        seed=seed,
        use_copy=use_copy,
        log=log,
        today=today,
        now=now,
    )
    b.log(
        f"Building demo data: {b.n_students:,} students a year, {b.n_years} years "
        f"({', '.join(b.year_code(yi) for yi in range(b.n_years))}), "
        f"seed {b.seed}, writing with {'COPY' if b.writer.use_copy else 'bulk_create'}"
    )
    with b.phase("academic years and organisations"):
        build_years(b)
        build_organisations(b)
    with b.phase("courses and articulation agreements"):
        build_articulations(b)
    with b.phase("staff, teachers and qualifications"):
        build_staff(b)
        build_teachers(b)
        build_pools(b)
    for yi in range(b.n_years):
        build_year(b, yi)
    with b.phase("demo student"):
        build_demo_student(b)
    with b.phase("demo logins and finishing"):
        build_admin(b)
        b.writer.reset_sequences()
    if connection.vendor == "postgresql":
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for model in sorted(b.writer.models, key=lambda m: m._meta.db_table):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        b.phases.append(("analyze", time.perf_counter() - start))
    pagecache.everything_changed()  # written with COPY: no signal told the caches
    seconds = time.perf_counter() - b.t0
    total = sum(b.writer.counts.values())
    writing = sum(b.writer.seconds.values())
    b.log(
        f"[{seconds:7.1f}s] done: {total:,} rows ({total / seconds:,.0f} rows/s); "
        f"{writing:.1f}s of it in database writes"
    )
    return BuildResult(seconds, dict(b.writer.counts), b.phases, dict(b.writer.columns))
