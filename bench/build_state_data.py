"""Build the state-size demo dataset from scratch and report how long it took.

    DATABASE_URL=postgres://... .venv/bin/python bench/build_state_data.py [--years 5]

Runs `manage.py demo_data --size state --reset` in-process, then prints the elapsed time,
the rows in each table and the rows written per second. See bench/README.md.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import RoleMembership, User  # noqa: E402
from articulations.models import (  # noqa: E402
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    TeacherQualification,
)
from enrollment.models import (  # noqa: E402
    Enrollment,
    EnrollmentStatusChange,
    Fee,
    Section,
    StudentProfile,
)
from organisations.models import College, Consortium, ConsortiumPolicy, District, HighSchool  # noqa: E402

MODELS = [
    Consortium,
    ConsortiumPolicy,
    College,
    District,
    HighSchool,
    HighSchool.served_districts.through,
    HighSchoolCourse,
    CollegeCourse,
    Articulation,
    Articulation.high_schools.through,
    Articulation.college_courses.through,
    Articulation.valid_years.through,
    ArticulationStatusChange,
    TeacherQualification,
    User,
    RoleMembership,
    StudentProfile,
    Section,
    Enrollment,
    EnrollmentStatusChange,
    Fee,
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5, help="academic years (default 5)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--students", type=int, help="students per year (default: state size)")
    parser.add_argument(
        "--bulk-create", action="store_true", help="on PostgreSQL, bulk_create instead of COPY"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    options = {"size": "state", "reset": True, "years": args.years, "seed": args.seed}
    if args.students:
        options["students"] = args.students
    if args.bulk_create:
        options["bulk_create"] = True
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    start = time.perf_counter()
    call_command("demo_data", **options)
    elapsed = time.perf_counter() - start

    counts = {m._meta.db_table: m._base_manager.count() for m in MODELS}
    total = sum(counts.values())
    width = max(len(name) for name in counts)
    print(f"\n{'table':<{width}}  {'rows':>12}")
    for name, rows in counts.items():
        print(f"{name:<{width}}  {rows:>12,}")
    print(f"{'total':<{width}}  {total:>12,}")
    print(f"\nelapsed: {elapsed:.1f} s (including --reset), {total / elapsed:,.0f} rows/s")
    if args.json:
        result = {
            "benchmark": "build_state_data",
            "database": connection.vendor,
            "options": options,
            "elapsed_seconds": round(elapsed, 2),
            "rows": counts,
            "total_rows": total,
            "rows_per_second": round(total / elapsed),
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
