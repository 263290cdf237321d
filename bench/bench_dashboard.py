"""The reports dashboard at state size: counted live, and read from its aggregates.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_dashboard.py [--runs 3] [--mode both]

Needs a database filled with `manage.py demo_data --size state` (bench/build_state_data.py;
see bench/README.md). For state staff and for the consortium admin of the consortium with
the most enrollments, for every breakdown of the current school year, it times (median
of --runs runs, after one warm-up):

- `dashboard_report`, the selector, inside `reporting_reads()` as the view calls it;
- the page: GET /reports/dashboard/ through Django's test client (the whole middleware
  stack and the template), signed in as that user.

--mode live first deletes the aggregates (so the page counts live, as before they
existed); --mode aggregates rebuilds them (timed) and reads them; both (the default)
does one and then the other. The aggregates are left in place.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
os.environ["DEBUG"] = "false"
os.environ["SERS_TWO_FACTOR_REQUIRED"] = "false"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Role, RoleMembership, User  # noqa: E402
from accounts.permissions import access_for  # noqa: E402
from accounts.twofactor import DONE, SESSION_KEY  # noqa: E402
from enrollment.models import Enrollment  # noqa: E402
from organisations.selectors import academic_year_current  # noqa: E402
from reports.aggregates import dashboard_aggregates_refresh  # noqa: E402
from reports.models import DashboardAggregate  # noqa: E402
from reports.selectors import dashboard as dashboard_selectors  # noqa: E402
from sers.db_router import reporting_reads  # noqa: E402

URL = "/reports/dashboard/"


def median_ms(function, runs: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def users() -> dict[str, User]:
    state = User.objects.filter(memberships__role=Role.STATE_STAFF, is_active=True).first()
    largest = (
        Enrollment.objects.values("section__articulation__consortium_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    admin = (
        RoleMembership.objects.filter(
            role=Role.CONSORTIUM_ADMIN,
            consortium_id=largest["section__articulation__consortium_id"],
            user__is_active=True,
        )
        .select_related("user", "consortium")
        .first()
    )
    if state is None or admin is None:
        raise SystemExit("No state staff or consortium admin: run `demo_data --size state`.")
    return {"state": state, f"consortium ({admin.consortium.name})": admin.user}


def measure(mode: str, runs: int, year) -> dict:
    results = {}
    for scope, user in users().items():
        access = access_for(user)
        client = Client()
        client.force_login(user)  # and the second step done, as bench/profile_pages.py does
        session = client.session
        session[SESSION_KEY] = DONE
        session.save()
        for key in dashboard_selectors.DIMENSIONS:

            def selector(access=access, key=key):
                with reporting_reads():
                    dashboard_selectors.dashboard_report(
                        access=access, academic_year_id=year.pk, dimension=key
                    )

            def page(client=client, key=key):
                response = client.get(f"{URL}?academic_year={year.pk}&dimension={key}")
                assert response.status_code == 200, response.status_code
                stored = b"Figures as of" in response.content
                assert stored == (mode == "aggregates"), "the page did not read what was asked"

            results[(scope, key)] = (median_ms(selector, runs), median_ms(page, runs))
            print(
                f"  {mode:10} {scope:34} {key:16} selector {results[(scope, key)][0]:8.1f} ms"
                f"   page {results[(scope, key)][1]:8.1f} ms",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=["live", "aggregates", "both"], default="both")
    parser.add_argument("--rebuilds", type=int, default=1, help="times the rebuild is timed")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database with the state data.")
    year = academic_year_current()
    print(
        f"Data: {Enrollment.objects.count():,} enrollments; {year} has "
        f"{Enrollment.objects.filter(section__academic_year=year).count():,}. "
        f"Median of {args.runs} runs (after one warm-up)."
    )
    results: dict[str, dict] = {}
    rebuilds = []
    if args.mode in ("live", "both"):
        DashboardAggregate.objects.all().delete()
        results["live"] = measure("live", args.runs, year)
    if args.mode in ("aggregates", "both"):
        for _ in range(args.rebuilds):
            outcome = dashboard_aggregates_refresh()
            rebuilds.append(outcome["seconds"])
            print(f"  rebuild: {outcome['seconds']:.1f} s, {outcome['rows']:,} rows")
        results["aggregates"] = measure("aggregates", args.runs, year)

    modes = list(results)
    header = f"{'scope':34} {'breakdown':16}" + "".join(
        f" {mode + ' selector':>20} {mode + ' page':>16}" for mode in modes
    )
    print()
    print(header)
    print("-" * len(header))
    for scope, key in results[modes[0]]:
        cells = "".join(
            f" {results[m][(scope, key)][0]:>17.0f} ms {results[m][(scope, key)][1]:>13.0f} ms"
            for m in modes
        )
        print(f"{scope:34} {key:16}{cells}")
    if rebuilds:
        print(f"\nrebuild of the aggregates: {', '.join(f'{s:.1f} s' for s in rebuilds)}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rebuild_seconds": rebuilds,
                    **{
                        mode: {
                            f"{scope} / {key}": {"selector_ms": sel, "page_ms": page}
                            for (scope, key), (sel, page) in found.items()
                        }
                        for mode, found in results.items()
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
