"""CPU of one operation in the web process AND in PostgreSQL, for the capacity model.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_capacity REDIS_URL=redis://127.0.0.1:6379/5
    createdb -h 127.0.0.1 -U postgres sers_capacity            # once
    .venv/bin/python bench/capacity_probe.py --build --students 3000 [--n 40] [--json FILE]

What `profile_pages.py` cannot say: how much database CPU each request costs, next to its
web CPU. Each operation runs in-process (Django's test Client, the full middleware stack,
one thread); web CPU is this process's CPU time, database CPU the CPU time of the
PostgreSQL backend serving this process's one connection (read from /proc, so
PostgreSQL must run on this machine; the kernel counts it in ticks of 10 ms, so only the
sum over many operations is meaningful). Both are CPU time, not wall time: a busy
machine slows them down less than it slows wall-clock numbers.

Operations, as the people at the two peaks do them: a student signs in (the password
check), views the dashboard, the class list, and registers a class; a teacher views the
roster and saves the grades of the class; a worker builds the enrollments export of a
school year (per 1,000 rows); state staff view the reports dashboard (the reporting
replica's work). `--build` first makes the demo data (`demo_data --students N --reset`).
Settings: sers.settings.dev with DEBUG=false and no two-step sign-in; tasks go to Redis
(no worker: they are removed after), as in production.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
os.environ["DEBUG"] = "false"
os.environ["SERS_TWO_FACTOR_REQUIRED"] = "false"
os.environ["DATABASE_CONN_MAX_AGE"] = "3600"  # one connection, one backend to watch
os.environ.setdefault("SERS_REDIS_PREFIX", "sers-capacity-probe:")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu() -> float:
    """CPU seconds of the PostgreSQL backend of this process's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class Meter:
    """Sums the web and database CPU and the wall time of each kind of operation."""

    def __init__(self):
        self.totals: dict[str, list[float]] = {}

    def measure(self, kind: str, operation, *, units: int = 1):
        database, web, wall = backend_cpu(), time.process_time(), time.perf_counter()
        result = operation()
        wall, web = time.perf_counter() - wall, time.process_time() - web
        database = backend_cpu() - database
        total = self.totals.setdefault(kind, [0, 0.0, 0.0, 0.0])
        total[0] += units
        total[1] += web
        total[2] += database
        total[3] += wall
        return result

    def table(self) -> list[dict]:
        rows = []
        for kind, (units, web, database, wall) in self.totals.items():
            rows.append(
                {
                    "operation": kind,
                    "n": units,
                    "web_cpu_ms": round(1000 * web / units, 1),
                    "db_cpu_ms": round(1000 * database / units, 1),
                    "wall_ms": round(1000 * wall / units, 1),
                }
            )
        return rows


def csrf(client: Client, path: str) -> tuple[str, str]:
    page = client.get(path).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return (match.group(1) if match else ""), page


def students(meter: Meter, n: int) -> None:
    from accounts.models import User
    from demo.constants import DEMO_PASSWORD
    from enrollment.models import Enrollment

    done = 0
    # Every demo account has the demo password (hashed once, with the production hasher).
    candidates = list(
        User.objects.filter(student_profile__isnull=False, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: 4 * n]
    )
    for user in User.objects.filter(pk__in=candidates).order_by("pk"):
        if done >= n:
            break
        client = Client()
        token, _page = csrf(client, "/accounts/login/")
        answer = meter.measure(
            "student: sign-in (password check)",
            lambda client=client, token=token, user=user: client.post(
                "/accounts/login/",
                {"csrfmiddlewaretoken": token, "username": user.email, "password": DEMO_PASSWORD},
            ),
        )
        if answer.status_code != 302:
            continue
        client.get("/student/dashboard/")  # the first view builds the cached page
        meter.measure("student: dashboard (cached)", lambda c=client: c.get("/student/dashboard/"))
        token, page = meter.measure(
            "student: class list", lambda c=client: csrf(c, "/student/register/")
        )
        school = re.search(r'name="school" value="(\d+)"', page)
        offered = re.findall(r'<input[^>]*name="sections" value="(\d+)"(?![^>]*disabled)', page)
        if not offered:
            continue
        before = Enrollment.objects.filter(student__user=user).count()
        meter.measure(
            "student: registration post (one class)",
            lambda c=client, t=token, s=school, o=offered: c.post(
                "/student/register/confirm/",
                {"csrfmiddlewaretoken": t, "school": s.group(1) if s else "", "sections": o[0]},
            ),
        )
        if Enrollment.objects.filter(student__user=user).count() > before:
            done += 1
    print(f"  {done} registrations", flush=True)


def teachers(meter: Meter, n: int) -> None:
    from enrollment.models import Enrollment, EnrollmentStatus, Section
    from organisations.selectors import academic_year_current

    year = academic_year_current()
    sections = (
        Section.objects.filter(
            academic_year=year,
            completed_at__isnull=True,
            enrollments__status__in=[EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED],
        )
        .select_related("articulation", "teacher")
        .distinct()
        .order_by("pk")[:n]
    )
    grades = 0
    for section in sections:
        client = Client()
        client.force_login(section.teacher)
        roster = f"/teacher/classes/{section.pk}/"
        client.get(roster)  # builds the cached page
        meter.measure("teacher: roster (cached)", lambda c=client, r=roster: c.get(r))
        token, _page = csrf(client, f"{roster}grades/")
        ids = list(
            Enrollment.objects.filter(
                section=section,
                status__in=[EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED],
            ).values_list("pk", flat=True)
        )
        grade = section.articulation.minimum_grade or "A"
        form = {"csrfmiddlewaretoken": token, **{f"grade_{pk}": grade for pk in ids}}
        meter.measure(
            "teacher: grade save (per grade)",
            lambda c=client, r=roster, f=form: c.post(f"{r}grades/", f),
            units=len(ids),
        )
        grades += len(ids)
    print(f"  {grades} grades in {len(sections)} classes", flush=True)


def reporting(meter: Meter) -> None:
    from accounts.models import User
    from demo.constants import DEMO_DOMAIN
    from organisations.selectors import academic_year_current
    from reports import services

    state = User.objects.get(email=f"state@{DEMO_DOMAIN}")
    client = Client()
    client.force_login(state)
    for _ in range(5):
        meter.measure("state staff: reports dashboard", lambda: client.get("/reports/dashboard/"))
    job = services.enrollments_export_request(
        requester=state, academic_year=academic_year_current(), file_format="csv"
    )
    meter.measure(
        "worker: enrollments export (per 1,000 rows)",
        lambda: services.report_job_run(job_id=job.pk),
        units=1,
    )
    job.refresh_from_db()
    total = meter.totals["worker: enrollments export (per 1,000 rows)"]
    total[0] = max(job.row_count or 0, 1) / 1000
    print(f"  export of {job.row_count} rows", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="make the demo data first")
    parser.add_argument("--students", type=int, default=3000, help="with --build, per year")
    parser.add_argument("--n", type=int, default=40, help="students and classes to measure")
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("DATABASE_URL must point at a local PostgreSQL database")
    if args.build:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo_data", students=args.students, reset=True, verbosity=0)
    meter = Meter()
    print("students...", flush=True)
    students(meter, args.n)
    print("teachers...", flush=True)
    teachers(meter, args.n)
    print("reporting...", flush=True)
    reporting(meter)
    rows = meter.table()
    print(f"\n{'operation':45} {'n':>7} {'web CPU ms':>11} {'db CPU ms':>10} {'wall ms':>9}")
    for row in rows:
        print(
            f"{row['operation']:45} {row['n']:>7g} {row['web_cpu_ms']:>11} "
            f"{row['db_cpu_ms']:>10} {row['wall_ms']:>9}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    if settings.REDIS_URL:  # the tasks sent, and the cache
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{os.environ['SERS_REDIS_PREFIX']}*"):
            client.delete(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
