#!/usr/bin/env python3
"""Throughput of the public articulation search next to the trivial view (/healthz).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_bench \
        .venv/bin/python bench/bench_articulation_search.py [--concurrency 8] [--duration 10]

The database must be migrated and filled (`manage.py demo_data`, `--size state` for the
statewide figure). The script picks realistic searches from the data (the busiest
cluster, school and district this school year, a word from a course title, a later page
sorted by credits, one agreement's page and one school's catalog), then runs
bench/run_pages.sh, which serves the site with gunicorn on loopback and measures every
path with bench/load_pages.py. Any other arguments go to load_pages.py (--requests,
--warmup, --json FILE ...). Exit status: that of run_pages.sh.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def search_paths() -> list[str]:
    """Search URLs that exercise each filter, chosen from the data in DATABASE_URL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.urls import reverse
    from django.utils.http import urlencode

    from articulations.models import Articulation
    from articulations.selectors import articulations_public
    from organisations.models import HighSchool
    from organisations.selectors import academic_year_current

    year = academic_year_current()
    if year is None:
        raise SystemExit("bench: no school year in this database; run manage.py demo_data")
    active = articulations_public(year=year)
    if not active.exists():
        raise SystemExit(f"bench: no active agreement in {year.code}; run manage.py demo_data")
    search = reverse("articulations:search")

    def top(field: str) -> int:
        row = (
            active.order_by()
            .values(field)
            .annotate(n=Count("pk"))
            .order_by("-n", field)
            .values_list(field, flat=True)
            .first()
        )
        return row

    cluster_id = top("cluster_id")
    school_id = top("high_schools")
    district_id = HighSchool.objects.get(pk=school_id).district_id
    title = active.order_by("pk").values_list("high_school_course__title", flat=True).first()
    word = max(title.split(), key=len)
    detail_id = active.order_by("pk").values_list("pk", flat=True).first()
    print(
        f"data: {Articulation.objects.count()} agreement versions, "
        f"{active.count()} active in {year.code}"
    )
    connection.close()  # gunicorn opens its own
    return [
        search,
        f"{search}?{urlencode({'cluster': cluster_id})}",
        f"{search}?{urlencode({'high_school': school_id})}",
        f"{search}?{urlencode({'district': district_id})}",
        f"{search}?{urlencode({'q': word})}",
        f"{search}?{urlencode({'sort': '-credits', 'page': 2})}",
        reverse("articulations:detail", args=[detail_id]),
        reverse("articulations:catalog", args=[school_id]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", "-c", default="8")
    parser.add_argument("--duration", default="10")
    parser.add_argument("--requests", default="1000")
    args, passthrough = parser.parse_known_args(argv)
    if not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL to the migrated, filled database to measure")
    paths = ["/healthz", *search_paths()]
    command = [
        str(ROOT / "bench" / "run_pages.sh"),
        "--paths",
        *paths,
        "--trivial",
        "/healthz",
        "--concurrency",
        args.concurrency,
        "--duration",
        args.duration,
        "--requests",
        args.requests,
        *passthrough,
    ]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
