"""Cost of each key page WITHOUT load: wall and CPU ms per request, queries, the slowest.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_bench \
        .venv/bin/python bench/profile_pages.py [--n 30] [--pages search,dashboard] [--explain]

Runs the pages in-process with Django's test Client (one thread, no network), as the
persona each page is for, picked from bench/out/*.csv (run `load_surge.py --prepare-only`
first). Settings: sers.settings.dev with DEBUG=false and SERS_TWO_FACTOR_REQUIRED=false
(the Client signs in with force_login, which has no second step; the two-step middleware
still runs). REDIS_URL, if set, gives the Redis cache as in production. The full
middleware stack runs, including the session load and save (SESSION_SAVE_EVERY_REQUEST).
Registration posts change data (one class registered per post); the students used are
taken from the end of students_post.csv, and `load_surge.py` re-prepares its lists.

Columns: wall ms and CPU ms (this process: Python, templates, psycopg) per request
(median of n), queries per request, database ms (sum of the queries' wall time), and
with --explain the slowest query of each page with EXPLAIN ANALYZE.
"""

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
os.environ["DEBUG"] = "false"
os.environ["SERS_TWO_FACTOR_REQUIRED"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.twofactor import DONE, SESSION_KEY  # noqa: E402


def sign_in(client, user_id: int) -> None:
    """force_login, then mark the second step done (staff with a TOTP device)."""
    client.force_login(User.objects.get(pk=user_id))
    session = client.session
    session[SESSION_KEY] = DONE
    session.save()


def ids(name: str) -> list[list[str]]:
    with (OUT / name).open(newline="") as handle:
        return [r for r in csv.reader(handle) if r and not r[0].startswith("#")]


class Timer:
    """Wraps every query: count and wall time, and the slowest SQL."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.count, self.seconds, self.slowest = 0, 0.0, (0.0, "", None)
        self.each = []  # (ms, sql) of every query of the last request, for --queries

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            self.each.append((took * 1000, sql))
            if took > self.slowest[0]:
                self.slowest = (took, sql, params)


def pages(selected: set[str]):
    """(name, user or None, method, path, data) for each key page."""
    view_student = int(ids("students_view.csv")[0][0])
    teacher, section = ids("teachers_view.csv")[0][:2]
    grader = ids("teachers_grade.csv")[0]
    registrar = int(ids("registrars.csv")[0][0])
    searches = [r[0] for r in ids("searches.csv")]
    post_rows = ids("students_post.csv")[-5:]
    out = [
        ("/healthz (anonymous)", None, "get", ["/healthz"], None),
        ("/healthz (signed in)", view_student, "get", ["/healthz"], None),
        ("home (signed in student)", view_student, "get", ["/"], None),
        ("dashboard", view_student, "get", ["/student/dashboard/"], None),
        ("class-list", view_student, "get", ["/student/register/"], None),
        ("roster", int(teacher), "get", [f"/teacher/classes/{section}/"], None),
        ("grade-page", int(grader[0]), "get", [f"/teacher/classes/{grader[1]}/grades/"], None),
        (
            "grade-save",
            int(grader[0]),
            "grade",
            [f"/teacher/classes/{grader[1]}/grades/"],
            grader[2] if len(grader) > 2 else "letter",  # the class's grade scale
        ),
        ("search", None, "get", searches, None),
        # One row per tab: their costs differ (ready and waiting run the fee subqueries).
        *(
            (f"registrar-queue ({v})", registrar, "get", [f"/registrar/queue/?view={v}"], None)
            for v in ("ready", "waiting", "transcribed")
        ),
        ("registration-post", None, "register", post_rows, None),
    ]
    return [p for p in out if not selected or p[0].split(" ")[0] in selected]


def explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(f"      {r[0]}" for r in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--pages", default="")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print the slowest SQL")
    parser.add_argument(
        "--queries", action="store_true", help="print every query of the last request, in ms"
    )
    args = parser.parse_args()
    selected = {p.strip() for p in args.pages.split(",") if p.strip()}
    if os.environ.get("SERS_BENCH_SESSION_ENGINE"):  # compare engines: before/after
        settings.SESSION_ENGINE = os.environ["SERS_BENCH_SESSION_ENGINE"]
    print(
        f"session engine: {settings.SESSION_ENGINE}, cache: {settings.CACHES['default']['BACKEND']}"
    )
    timer = Timer()
    import re

    print(
        f"{'page':28} {'wall ms':>8} {'cpu ms':>7} {'db ms':>7} {'queries':>7} {'slowest q ms':>12}"
    )
    for name, user_id, method, paths, data in pages(selected):
        client = Client()
        if user_id:
            sign_in(client, user_id)
        walls, cpus, dbs, counts, slowest = [], [], [], [], (0.0, "", None)
        post_queue = []
        form = {}
        if method == "grade":
            page = client.get(paths[0]).content.decode()
            # Grades of the class's own scale (bench/out/grades.csv: scale, grades...).
            scales = {row[0]: row[1:] for row in ids("grades.csv")}
            choices = scales.get(data) or scales["letter"]
            form = {
                f"grade_{pk}": choices[i % len(choices)]
                for i, pk in enumerate(re.findall(r'name="grade_(\d+)"', page))
            }
        if method == "register":
            for row in paths:
                post_queue += [(int(row[0]), *pair.split(":")) for pair in row[1:]]
        for i in range(args.n + 3):
            path = paths[i % len(paths)] if method != "register" else None
            if method == "register":
                if not post_queue:
                    break
                uid, school, section_id = post_queue.pop()
                sign_in(client, uid)
            timer.reset()
            with connection.execute_wrapper(timer):
                w0, c0 = time.perf_counter(), time.process_time()
                if method == "get":
                    response = client.get(path)
                elif method == "grade":
                    # Every grade changes on each save: the next one of the scale.
                    form = {
                        k: choices[(choices.index(v) + 1) % len(choices)] for k, v in form.items()
                    }
                    response = client.post(path, form)
                else:
                    response = client.post(
                        "/student/register/confirm/",
                        {"school": school, "sections": [section_id]},
                    )
                c1, w1 = time.process_time(), time.perf_counter()
            if response.status_code not in (200, 302):
                print(f"  {name}: HTTP {response.status_code} for {path}")
            if method == "register" and response.status_code != 302:
                continue
            if i < 3:
                continue  # warm-up
            walls.append((w1 - w0) * 1000)
            cpus.append((c1 - c0) * 1000)
            dbs.append(timer.seconds * 1000)
            counts.append(timer.count)
            if timer.slowest[0] > slowest[0]:
                slowest = timer.slowest
        if not walls:
            print(f"{name:28} no successful request")
            continue
        print(
            f"{name:28} {statistics.median(walls):8.1f} {statistics.median(cpus):7.1f} "
            f"{statistics.median(dbs):7.1f} {max(counts):7d} {slowest[0] * 1000:12.1f}"
        )
        if args.queries:
            for ms, sql in timer.each:
                print(f"      {ms:8.1f} ms  {' '.join(sql.split())[:160]}")
        if args.sql or args.explain:
            print(f"      slowest: {slowest[1][:600]}")
        if args.explain and slowest[1].lstrip().upper().startswith("SELECT"):
            print(explain(slowest[1], slowest[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
