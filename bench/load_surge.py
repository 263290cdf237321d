#!/usr/bin/env python3
"""SERS under load at state size: gunicorn + a Celery worker on loopback, locust in front.

One script of over 700 lines on purpose: it is run as a file, and its steps, in order
below, share the run's options, the accounts it picked and the processes it started.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_scale REDIS_URL=redis://127.0.0.1:6379/3
    .venv/bin/python bench/load_surge.py --build --years 5      # once: migrate + state-size data
    .venv/bin/python bench/load_surge.py --users 100 --run-time 8m

Steps: (1) with --build, migrate the database and fill it with bench/build_state_data.py
(timed); (2) pick the accounts the load needs from the data — students who may still
register a class this year, students with a dashboard, teachers with a class to grade, a
registrar — and write their user ids (never names or emails) to bench/out/*.csv, with a
TOTP device for staff who need two-step sign-in; (3) collect the static files, start a
Celery worker and gunicorn (sers.wsgi, production settings, loopback only); (4) run
bench/locustfile.py headless with -u/-r/-t; (5) print the results: each key page's
throughput next to the trivial view's (/healthz, the ceiling, measured in the same run),
p50/p95/p99 and errors, and the surges; (6) stop everything it started.

Only 127.0.0.1: the database, Redis and the server must all be on this machine. Every
run is bounded by --run-time and --users. The exit status is 1 when a request failed or a
key page missed the target (>= 30% of the ceiling's throughput, p99 < 10 x p50).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = Path(sys.executable)
BIN = PY.parent
MAX_USERS = 1000
MAX_RUN_SECONDS = 2 * 60 * 60

# The key pages of the target, and the stage where each is measured alone.
KEY_PAGES = {
    "dashboard": "student: dashboard",
    "class-list": "student: class list",
    "registration-post": "student: registration post",
    "roster": "teacher: roster",
    "grade-save": "teacher: grade save",
    "search": "public: articulation search",
    "registrar-queue": "registrar: queue",
}
TARGET_RATIO = 0.30
TARGET_TAIL = 10.0
# The run's stages when --stages is not given (locustfile.DEFAULT_STAGES): the key pages,
# the two ceilings and the two surges; and the stage timing of locustfile.Stages.
DEFAULT_STAGE_COUNT = len(KEY_PAGES) + 4
GAP_SECONDS = 3.0
# The registration-post stage signs in, before its measurement, enough students to post at
# this rate (an upper bound, locustfile.POST_RATE_BOUND) for the whole stage. A sign-in
# (Argon2) costs several posts, so each student gets up to CLASSES_PER_POST_STUDENT
# classes, one per course (no rule caps a student's classes a year; ~340 courses a year at
# state size): one or two students cover a user's stage.
POST_RATE_BOUND = 150.0
CLASSES_PER_POST_STUDENT = 300


def die(message: str) -> None:
    print(f"load_surge: {message}", file=sys.stderr)
    raise SystemExit(2)


def loopback_url(url: str, kinds: tuple[str, ...], what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in kinds:
        die(f"{what} must be {' or '.join(kinds)}://..., not {url.split(':')[0]}")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        die(f"{what} must point at this machine (127.0.0.1), not {parts.hostname}")


def duration(text: str) -> int:
    """Seconds from 90, 90s, 5m or 1h."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    if not 10 <= value <= MAX_RUN_SECONDS:
        raise argparse.ArgumentTypeError(f"between 10 s and {MAX_RUN_SECONDS} s")
    return value


def bounded_users(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_USERS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_USERS}")
    return value


# --- (1) state-size data ------------------------------------------------------------------------


def migrate() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sers.settings.dev", "DEBUG": "false"}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def build(years: int, students: int | None) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sers.settings.dev", "DEBUG": "false"}
    command = [PY, "bench/build_state_data.py", "--years", str(years)]
    command += ["--json", str(OUT / "build.json")]
    if students:
        command += ["--students", str(students)]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    print(f"state-size data built in {time.perf_counter() - started:.1f} s (wall, with reset)")


# --- (2) the accounts the load needs ------------------------------------------------------------


def write_ids(name: str, rows: list[list[object]], header: str) -> None:
    with (OUT / name).open("w", newline="") as handle:
        handle.write(f"# {header}\n")
        csv.writer(handle).writerows(rows)


def post_students_needed(*, users: int, run_seconds: int, stages: int) -> int:
    """Students for the registration-post stage: each user's share of POST_RATE_BOUND x
    the stage's length, CLASSES_PER_POST_STUDENT posts a student, one more student each
    for those who have fewer classes left."""
    stage_seconds = max(5.0, (run_seconds - 1.0) / max(1, stages) - GAP_SECONDS)
    per_user = math.ceil(POST_RATE_BOUND * stage_seconds / users)
    return users * (math.ceil(per_user / CLASSES_PER_POST_STUDENT) + 1)


def prepare(*, users: int, seed: int, post_students: int | None = None) -> dict[str, int]:
    """Write the account lists (ids only) for the locustfile. Returns how many of each.

    `post_students`: how many students the registration-post stage needs (default 3 x
    users)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
    os.environ.setdefault("DEBUG", "false")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from articulations.models import Articulation
    from enrollment.models import INACTIVE_STATUSES, Enrollment, Section, StudentProfile
    from organisations.models import ConsortiumPolicy
    from organisations.selectors import academic_year_current

    rng = random.Random(seed)
    today = timezone.localdate()
    year = academic_year_current()
    if year is None:
        die("no school year in this database: build the data first (--build)")
    open_consortia = set(
        ConsortiumPolicy.objects.filter(
            academic_year=year, registration_opens__lte=today, registration_closes__gte=today
        ).values_list("consortium_id", flat=True)
    )
    # Classes a student may register today: this year's, active agreement valid for the
    # year, active teacher, registration window open (services.registration_refusal).
    registrable = list(
        Section.objects.filter(
            academic_year=year,
            articulation__status=Articulation.Status.ACTIVE,
            articulation__valid_years=year,
            articulation__consortium_id__in=open_consortia,
            teacher__is_active=True,
        )
        .values_list("pk", "high_school_id", "articulation_id")
        .distinct()
    )
    by_school: dict[int, list[tuple[int, int]]] = defaultdict(list)
    by_course: dict[int, list[str]] = defaultdict(list)  # articulation: "school:section"
    for section_id, school_id, articulation_id in registrable:
        by_school[school_id].append((section_id, articulation_id))
        by_course[articulation_id].append(f"{school_id}:{section_id}")
    courses = sorted(by_course)
    held: dict[int, set[int]] = defaultdict(set)
    for student_id, articulation_id in (
        Enrollment.objects.filter(section__academic_year=year)
        .exclude(status__in=INACTIVE_STATUSES)
        .values_list("student_id", "section__articulation_id")
    ):
        held[student_id].add(articulation_id)
    students = list(
        StudentProfile.objects.filter(
            user__is_active=True,
            user__email_verified_at__isnull=False,
            merged_into__isnull=True,
            graduation_year__gte=year.end_date.year,
        )
        .order_by("pk")
        .values_list("pk", "user_id", "high_school_id")
    )
    rng.shuffle(students)

    post_wanted = post_students or 3 * users
    surge, post, view = [], [], []
    for student_id, user_id, school_id in students:
        mine = held[student_id]
        own = [s for s, a in by_school[school_id] if a not in mine]
        if len(surge) < 20 * users and own:
            surge.append([user_id, *own])
            continue
        if len(post) < post_wanted:
            # One class (any school's) of each course the student does not hold yet: the
            # registration refuses a second class of a course, nothing else per student.
            open_courses = [a for a in courses if a not in mine]
            chosen = rng.sample(open_courses, min(len(open_courses), CLASSES_PER_POST_STUDENT))
            picks = [rng.choice(by_course[a]) for a in chosen]
            if picks:
                post.append([user_id, *picks])
                continue
        if len(view) < users and len(mine) >= 2:
            view.append([user_id])
        if len(surge) >= 20 * users and len(post) >= post_wanted and len(view) >= users:
            break
    write_ids("students_surge.csv", surge, "user_id, section_id they may register (own school)")
    write_ids("students_post.csv", post, "user_id, school_id:section_id they may register")
    write_ids("students_view.csv", view, "user_id: two or more classes this year")

    # Searches a visitor makes: every filter, drawn from this year's active agreements.
    search = reverse("articulations:search")
    active = Articulation.objects.filter(status=Articulation.Status.ACTIVE, valid_years=year)

    def common(field: str, n: int) -> list[int]:
        return list(
            active.order_by()
            .values(field)
            .annotate(n=Count("pk"))
            .order_by("-n", field)
            .values_list(field, flat=True)[:n]
        )

    titles = active.values_list("high_school_course__title", flat=True).distinct()[:20]
    words = sorted({max(t.split(), key=len) for t in titles})
    searches = [search, f"{search}?{urlencode({'sort': '-credits', 'page': 2})}"]
    searches += [f"{search}?{urlencode({'cluster': pk})}" for pk in common("cluster_id", 5)]
    searches += [f"{search}?{urlencode({'college': pk})}" for pk in common("college_id", 5)]
    schools = common("high_schools", 8)
    searches += [f"{search}?{urlencode({'high_school': pk})}" for pk in schools]
    districts = (
        Articulation.high_schools.through.objects.filter(highschool_id__in=schools)
        .values_list("highschool__district_id", flat=True)
        .distinct()
    )
    searches += [f"{search}?{urlencode({'district': pk})}" for pk in districts]
    searches += [f"{search}?{urlencode({'q': word})}" for word in words[:8]]
    write_ids("searches.csv", [[s] for s in searches], "articulation search URLs")

    counts = {
        "students_surge": len(surge),
        "students_post": len(post),
        "students_view": len(view),
        "searches": len(searches),
    }
    counts.update(prepare_staff(users=users, year=year, rng=rng))
    counts["students_this_year"] = (
        Enrollment.objects.filter(section__academic_year=year)
        .values("student_id")
        .distinct()
        .count()
    )
    counts["enrollments_this_year"] = Enrollment.objects.filter(section__academic_year=year).count()
    counts["enrollments_all_years"] = Enrollment.objects.count()
    connection.close()
    return counts


GRADES = {  # what a teacher types, by the agreement's grade scale
    "letter": ["A", "A-", "B+", "B", "C"],
    "percent": ["95", "91", "88", "84", "75"],
    "points": ["4.0", "3.6", "3.2", "3.0", "2.4"],
}
BENCH_DOMAIN = "bench.sers.example"  # ends with demo_data.EMAIL_SUFFIX: a reset removes them


def prepare_staff(*, users: int, year, rng: random.Random) -> dict[str, int]:
    """Teachers with a class of 15 or more students still open for grading, and registrars
    with a TOTP device whose key the locustfile knows."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from accounts.models import Role
    from enrollment.models import EnrollmentStatus, Section
    from organisations.models import ConsortiumPolicy

    gradable = (EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED, EnrollmentStatus.GRADED)
    open_for_grading = ConsortiumPolicy.objects.filter(
        academic_year=year, grading_deadline__gte=timezone.localdate()
    ).values_list("consortium_id", flat=True)
    sections = list(
        Section.objects.filter(
            academic_year=year,
            completed_at__isnull=True,
            teacher__is_active=True,
            teacher__memberships__role=Role.TEACHER,
            articulation__consortium_id__in=list(open_for_grading),
        )
        .annotate(n=Count("enrollments", filter=Q(enrollments__status__in=gradable)))
        .filter(n__gte=15)
        .order_by("pk")
        .values_list("teacher_id", "pk", "articulation__minimum_grade_scale")
        .distinct()
    )
    rng.shuffle(sections)
    seen, per_teacher = set(), []
    for teacher_id, section_id, scale in sections:
        if teacher_id not in seen:
            seen.add(teacher_id)
            per_teacher.append([teacher_id, section_id, scale])
    # The stages that keep one class each come first; the surge takes a new class a round.
    grade = per_teacher[:users]
    view = per_teacher[users : 2 * users] or grade
    surge = per_teacher[2 * users : 12 * users] or per_teacher[:users]
    write_ids("teachers_surge.csv", surge, "user_id, section_id, grade scale")
    write_ids("teachers_grade.csv", grade, "user_id, section_id, grade scale")
    write_ids("teachers_view.csv", view, "user_id, section_id, grade scale")
    write_ids("grades.csv", [[k, *v] for k, v in GRADES.items()], "scale, grades to type")
    return {
        "teachers_surge": len(surge),
        "teachers_grade": len(grade),
        "teachers_view": len(view),
        **prepare_registrars(users=users),
    }


def prepare_registrars(*, users: int) -> dict[str, int]:
    """One registrar account per locust user (a TOTP code is good for one sign-in), spread
    over the colleges. They are bench accounts (@bench.sers.example, demo data to
    demo_data --reset), so the demo's own registrar keeps its usual sign-in."""
    from django.db import transaction

    from accounts.models import Role, RoleMembership, User
    from organisations.models import College

    try:
        from django_otp.plugins.otp_totp.models import TOTPDevice
    except ImportError:  # no two-step sign-in in this version of SERS
        TOTPDevice = None
    colleges = list(College.objects.order_by("pk").values_list("pk", flat=True))
    template = User.objects.filter(email__iendswith=".sers.example").order_by("pk").first()
    if not colleges or template is None:
        return {"registrars": 0}
    rows = []
    with transaction.atomic():
        for i in range(users):
            user, _created = User.objects.get_or_create(
                email=f"registrar{i:03d}@{BENCH_DOMAIN}",
                defaults={
                    "first_name": "Bench",
                    "last_name": f"Registrar {i:03d}",
                    "password": template.password,  # the demo password, already hashed
                },
            )
            RoleMembership.objects.get_or_create(
                user=user, role=Role.REGISTRAR, college_id=colleges[i % len(colleges)]
            )
            key = ""
            if TOTPDevice is not None:
                device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
                if device is None:
                    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
                key = device.key
            rows.append([user.pk, key])
    write_ids("registrars.csv", [[r[0]] for r in rows], "user_id")
    write_ids("totp.csv", [r for r in rows if r[1]], "user_id, TOTP key (bench accounts only)")
    return {"registrars": len(rows)}


# --- (3) the servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(mail_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="sers.settings.production",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        # Pages must not send mail themselves: an unreachable SMTP server makes any that
        # does fail loudly. The worker sends to files (below).
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT="9",
        EMAIL_USE_TLS="false",
        MEDIA_ROOT=str(OUT / "media"),
        LOG_LEVEL="WARNING",
    )
    env.pop("DEBUG", None)
    env["SERS_BENCH_MAIL_DIR"] = str(mail_dir)
    return env


class Processes:
    """The processes this script starts, each in its own process group, stopped by id."""

    def __init__(self):
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list, env: dict, log: Path) -> subprocess.Popen:
        handle = log.open("w")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((name, process))
        return process

    def stop(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in reversed(self.started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"load_surge: {name} did not stop in 30 s; killing it", file=sys.stderr)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def start_celery_worker(processes: Processes, env: dict, mail_dir, concurrency: int):
    """A Celery worker on the bench's settings, its emails written to files in `mail_dir`."""
    worker_env = {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    return processes.start(
        "celery worker",
        [
            BIN / "celery",
            "-A",
            "sers",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        worker_env,
        OUT / "celery.log",
    )


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    """Until the server answers 200 (worker start-up takes half a minute on a busy machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(log.read_text()[-4000:], file=sys.stderr)
            die(f"the server exited ({process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    die(f"no answer from {url} after {seconds:.0f} s")


# --- (5) the report ------------------------------------------------------------------------------


def fmt(value, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
    out = [line.format(*header), "  ".join("-" * w for w in widths)]
    out += [line.format(*row) for row in rows]
    return "\n".join(out)


def report(results: dict) -> tuple[str, bool]:
    """The results as text, and whether every key page met the target with no error."""
    stages = {s["stage"]: s for s in results["stages"]}
    ceiling_page = next(
        (p for p in stages.get("ceiling", {}).get("pages", []) if p["page"] == "/healthz"), None
    )
    ceiling = ceiling_page["req_per_s"] if ceiling_page else 0.0
    session_page = next(
        (
            p
            for p in stages.get("ceiling-session", {}).get("pages", [])
            if p["page"].startswith("/healthz")
        ),
        None,
    )
    session_ceiling = session_page["req_per_s"] if session_page else 0.0
    header = (
        "page",
        "requests",
        "req/s",
        "vs /healthz",
        "vs signed-in",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
    )

    def vs_session(req_per_s: float) -> str:
        return fmt(req_per_s / session_ceiling if session_ceiling else None, ".2f")

    lines, ok = [], True
    total_errors = 0

    key_rows = []
    if ceiling_page:
        key_rows.append(
            (
                "/healthz (the ceiling)",
                str(ceiling_page["measured"]),
                f"{ceiling:.1f}",
                "1.00",
                vs_session(ceiling),
                fmt(ceiling_page["p50_ms"]),
                fmt(ceiling_page["p95_ms"]),
                fmt(ceiling_page["p99_ms"]),
                str(ceiling_page["errors"]),
            )
        )
    if session_page:
        key_rows.append(
            (
                "/healthz signed in (the floor)",
                str(session_page["measured"]),
                f"{session_ceiling:.1f}",
                fmt(session_ceiling / ceiling if ceiling else None, ".2f"),
                "1.00",
                fmt(session_page["p50_ms"]),
                fmt(session_page["p95_ms"]),
                fmt(session_page["p99_ms"]),
                str(session_page["errors"]),
            )
        )
    verdicts = []
    for stage_name, page_name in KEY_PAGES.items():
        stage = stages.get(stage_name)
        if stage is None:
            continue
        page = next((p for p in stage["pages"] if p["page"] == page_name), None)
        if page is None:
            verdicts.append(f"{page_name}: no request measured")
            ok = False
            continue
        ratio = page["req_per_s"] / ceiling if ceiling else None
        key_rows.append(
            (
                page_name,
                str(page["measured"]),
                f"{page['req_per_s']:.1f}",
                fmt(ratio, ".2f"),
                vs_session(page["req_per_s"]),
                fmt(page["p50_ms"]),
                fmt(page["p95_ms"]),
                fmt(page["p99_ms"]),
                str(page["errors"]),
            )
        )
        tail = page["p99_ms"] / page["p50_ms"] if page["p50_ms"] else None
        missed = []
        if ratio is None or ratio < TARGET_RATIO:
            missed.append(f"throughput {fmt(ratio, '.2f')} of the ceiling < {TARGET_RATIO}")
        if tail is None or tail >= TARGET_TAIL:
            missed.append(f"p99/p50 = {fmt(tail, '.1f')} >= {TARGET_TAIL:g}")
        if page["errors"]:
            missed.append(f"{page['errors']} errors")
        if missed:
            ok = False
            verdicts.append(f"{page_name}: " + "; ".join(missed))
    lines.append("Each key page alone (same users, same server, same run as /healthz):")
    lines.append(table(header, key_rows))

    for stage in results["stages"]:
        total_errors += sum(p["errors"] for p in stage["pages"])
        if stage["stage"] in KEY_PAGES or stage["stage"] in ("ceiling", "ceiling-session"):
            continue
        rows = [
            (
                p["page"],
                str(p["measured"]),
                f"{p['req_per_s']:.1f}",
                fmt(p["req_per_s"] / ceiling if ceiling else None, ".2f"),
                vs_session(p["req_per_s"]),
                fmt(p["p50_ms"]),
                fmt(p["p95_ms"]),
                fmt(p["p99_ms"]),
                str(p["errors"]),
            )
            for p in stage["pages"]
        ]
        notes = ", ".join(f"{v} {k}" for k, v in stage["notes"].items())
        lines.append(
            f"\n{stage['stage']}: {stage['users']} users together, "
            f"{stage['measured_seconds']:.0f} s measured" + (f" ({notes})" if notes else "")
        )
        lines.append(table(header, rows))

    for stage in results["stages"]:
        if not stage["all_users_signed_in"]:
            lines.append(f"\nwarning: not every user of {stage['stage']} signed in")
        for p in stage["pages"]:
            if p["errors"]:
                kinds = ", ".join(f"{k}: {v}" for k, v in p["error_kinds"].items())
                lines.append(f"errors in {stage['stage']} / {p['page']}: {kinds}")
    if total_errors:
        ok = False
    lines.append("")
    lines.append(
        "target met: every key page >= 30% of the ceiling, p99 < 10 x p50, no error"
        if ok
        else "target missed:\n  " + "\n  ".join(verdicts or [f"{total_errors} errors"])
    )
    return "\n".join(lines), ok


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", "-u", type=bounded_users, default=100, help="users per stage")
    parser.add_argument("--spawn-rate", "-r", type=float, help="users started per second")
    parser.add_argument(
        "--run-time", "-t", type=duration, default=duration("8m"), help="whole run (90s, 8m)"
    )
    parser.add_argument("--stages", default="", help="comma-separated; default: all")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--build", action="store_true", help="migrate and build state data first")
    parser.add_argument("--years", type=int, default=5, help="with --build (default 5)")
    parser.add_argument("--students", type=int, help="with --build: students a year")
    parser.add_argument("--prepare-only", action="store_true", help="write bench/out/*.csv, stop")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    loopback_url(database_url, ("postgres", "postgresql"), "DATABASE_URL")
    if not args.prepare_only:
        loopback_url(redis_url, ("redis",), "REDIS_URL")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").unlink(missing_ok=True)

    migrate()
    if args.build:
        build(args.years, args.students)
    stage_names = [n for n in args.stages.split(",") if n.strip()]
    counts = prepare(
        users=args.users,
        seed=args.seed,
        post_students=post_students_needed(
            users=args.users,
            run_seconds=args.run_time,
            stages=len(stage_names) or DEFAULT_STAGE_COUNT,
        ),
    )
    print("accounts and data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if args.prepare_only:
        return 0

    mail_dir = Path(tempfile.mkdtemp(prefix="sers-bench-mail-"))
    env = server_env(mail_dir)
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    processes = Processes()
    port = free_port()
    status = 2
    try:
        start_celery_worker(processes, env, mail_dir, args.celery_concurrency)
        server = processes.start(
            "gunicorn",
            [
                PY,
                "-m",
                "gunicorn",
                "sers.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "120",
                "--backlog",
                "2048",
                # Import the application once, in the master, before forking the workers:
                # they start in seconds rather than each importing Django on a busy CPU.
                "--preload",
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                "-",
            ],
            env,
            OUT / "gunicorn.log",
        )
        wait_for(f"http://127.0.0.1:{port}/healthz", server, OUT / "gunicorn.log")
        print(
            f"gunicorn: {args.workers} workers on 127.0.0.1:{port} (sers.settings.production), "
            f"celery worker: {args.celery_concurrency} process"
        )
        locust_env = {
            **os.environ,
            "SERS_BENCH_OUT": str(OUT),
            "SERS_BENCH_STAGES": args.stages,
        }
        rate = args.spawn_rate or args.users
        command = [
            BIN / "locust",
            "-f",
            "bench/locustfile.py",
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(rate),
            "-t",
            f"{args.run_time}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(OUT / "locust"),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "0",
        ]
        print(f"locust: {args.users} users a stage, {args.run_time} s in all\n", flush=True)
        locust = subprocess.run(command, cwd=ROOT, env=locust_env, capture_output=True, text=True)
        (OUT / "locust.log").write_text(locust.stdout + locust.stderr)
        results_file = OUT / "results.json"
        if not results_file.exists():
            print((locust.stdout + locust.stderr)[-4000:], file=sys.stderr)
            die("locust wrote no results")
        text, ok = report(json.loads(results_file.read_text()))
        time.sleep(2)  # let the worker finish the last emails
        mails = len(list(mail_dir.iterdir()))
        print(text)
        print(f"\nemails the Celery worker sent during the run: {mails}")
        status = 0 if ok else 1
    finally:
        processes.stop()
        shutil.rmtree(mail_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
