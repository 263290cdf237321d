#!/usr/bin/env python3
"""The ceilings and the pages, measured in one run (issue 17).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_bench REDIS_URL=redis://127.0.0.1:6379/3
    .venv/bin/python bench/ceilings.py                       # every page, 10 s each
    .venv/bin/python bench/ceilings.py --duration 5 --signins 100 --signin-window 20 \
        --json /tmp/ceilings.json

One script of about 1,000 lines on purpose, like load_surge.py: it is run as a file, and its
steps share the run's options, the accounts it picked and the processes it started.

Steps: (1) migrate; pick the accounts with load_surge.prepare (students who can still
register classes, students with classes, teachers with a class open for grading, bench
registrars with a TOTP device), written as ids to bench/out/ceilings/; create the bench
table of the write floor; (2) collect the static files (bench/out/static, only when missing
or with --collectstatic), start one Celery worker and two gunicorns with the same worker
settings on loopback: the site (sers.wsgi with bench.ceilings_site.settings: production
settings plus /bench/bare and /bench/write) and the bare site
(bench.ceilings_site.bare_wsgi: Django with no middleware and no database); (3) sign in
every account the stages need, before any measurement; (4) measure each row alone, in
order: the bare view, the floors, the pages, the writes (the registrations a stage made
are withdrawn right after it), --rounds times over, then the sign-in surge once; (5) print
one table (every page next to its floor, every floor next to the bare view, the targets)
and, with --json, write it; stop everything it started.

The load client is this process: --concurrency threads, one connection each (gunicorn's
sync workers close it after every answer), no think time, each signed in with a session
of its own (see bench/README.md). A stage's measurement starts when every client is
ready and warmed up, and lasts --duration seconds.

Only 127.0.0.1: the database, Redis and the servers must all be on this machine. The exit
status is 1 when a row misses its target (or a request failed), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import load_surge  # bench/, next to this file
from load_pages import Cookies, Target

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "ceilings"
STATIC_ROOT = ROOT / "bench" / "out" / "static"
SITE_SETTINGS = "bench.ceilings_site.settings"
PY = Path(sys.executable)
BIN = PY.parent
PASSWORD = os.environ.get("SERS_BENCH_PASSWORD", "sers-demo-2026")
LOGIN_PATH = "/accounts/login/"
TWO_STEP_PATH = "/accounts/two-step/verify/"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HTMX = re.compile(r'"X-CSRFToken": "([^"]+)"')
GRADE_INPUT = re.compile(r'name="grade_(\d+)"')
TIMEOUT = 120.0
MAX_CONCURRENCY = 64
TAIL_LIMIT = 5.0  # p99 / p50, every row
SIGNIN_P95_MS = 500.0
# The registration-post stage needs one class to register per post: at most this many
# posts a second (a generous bound) for the whole stage.
POST_RATE_BOUND = 150.0


def die(message: str) -> None:
    print(f"ceilings: {message}", file=sys.stderr)
    raise SystemExit(2)


# --- HTTP: one request, a browser's cookies -------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer
    location: str = ""
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """One signed-in (or anonymous) person: their cookies and CSRF token."""

    cookies: Cookies = field(default_factory=Cookies)
    token: str = ""
    user_id: int = 0


def send(
    conn: http.client.HTTPConnection,
    target: Target,
    method: str,
    path: str,
    browser: Browser | None = None,
    form: dict | None = None,
) -> Answer:
    """One request on `conn` (reopened when the server closed it); cookies updated."""
    headers = {"Host": f"{target.host}:{target.port}", "Accept": "text/html,*/*"}
    body = None
    if browser is not None and browser.cookies.values:
        headers["Cookie"] = browser.cookies.header()
    if form is not None:
        body = urlencode(form, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = target.origin
        headers["Referer"] = target.origin + path
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return Answer(0)
    if browser is not None:
        browser.cookies.update(response)
    location = urlsplit(response.headers.get("Location", "") or "").path
    return Answer(response.status, location, data)


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html) or CSRF_HTMX.search(html)
    return match.group(1) if match else ""


def sign_in(target: Target, email: str, totp_key: str = "") -> Browser | None:
    """The sign-in form, then (staff with a TOTP device) the two-step form."""
    browser = Browser()
    conn = target.connect(TIMEOUT)
    try:
        form = send(conn, target, "GET", LOGIN_PATH, browser)
        token = csrf_token(form.text)
        if form.status != 200 or not token:
            return None
        fields = {"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD}
        landed = send(conn, target, "POST", LOGIN_PATH, browser, fields)
        if landed.status != 302 or landed.location.startswith(LOGIN_PATH):
            return None
        if totp_key:
            from django_otp.oath import totp

            page = send(conn, target, "GET", TWO_STEP_PATH, browser)
            code = f"{totp(bytes.fromhex(totp_key)):06d}"
            fields = {"csrfmiddlewaretoken": csrf_token(page.text), "code": code}
            landed = send(conn, target, "POST", TWO_STEP_PATH, browser, fields)
            if landed.status != 302 or landed.location.startswith(TWO_STEP_PATH):
                return None
        home = send(conn, target, "GET", "/", browser)
        browser.token = csrf_token(home.text)
        return browser
    finally:
        conn.close()


# --- a stage: N clients, each with its own connection, for --duration seconds ----------------


class Exhausted(Exception):
    """The client has nothing left to send (its classes are all registered)."""


@dataclass
class Client:
    """One thread's work: `step` sends one request and says whether it was right."""

    step: Callable[[http.client.HTTPConnection], tuple[bool, str]]


@dataclass
class Measured:
    latencies: list[float] = field(default_factory=list)  # ms, the successful requests
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    # Successful requests that ended inside the measurement (req/s counts these; the
    # percentiles take every successful request, those in flight at the end included).
    in_window: int | None = None
    client_cpu: float = 0.0  # s of CPU this process used while measuring
    notes: dict[str, object] = field(default_factory=dict)
    rounds: list[float] = field(default_factory=list)  # req/s of each round (--rounds)

    def add(self, other: Measured) -> None:
        self.latencies.extend(other.latencies)
        self.in_window = (self.in_window or 0) + (other.in_window or 0)
        for kind, n in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + n

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def window_rate(self) -> float:
        done = len(self.latencies) if self.in_window is None else self.in_window
        return done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def req_per_s(self) -> float:
        """The median of the rounds' req/s (one round: its own)."""
        return statistics.median(self.rounds) if self.rounds else self.window_rate

    def merge_round(self, other: Measured) -> None:
        """Another round of the same row: latencies and errors pooled, req/s kept apart."""
        self.add(other)
        self.elapsed += other.elapsed
        self.client_cpu += other.client_cpu
        self.rounds.extend(other.rounds)
        for key, value in other.notes.items():
            mine = self.notes.get(key)
            both_counts = isinstance(value, int) and isinstance(mine, int)
            self.notes[key] = mine + value if both_counts and "withdrawn" in key else value

    def percentile(self, pct: float) -> float | None:
        """Nearest rank (as load_pages.py and the locustfile)."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered)))) - 1]


def measure(target: Target, clients: list[Client], *, duration: float, warmup: int) -> Measured:
    """Every client in its own thread: `warmup` unmeasured requests, then all together for
    `duration` seconds (a client that runs out of work stops early)."""
    total = Measured()
    lock = threading.Lock()
    clock: dict[str, float] = {}
    # The last thread to arrive starts the clock, before any is released.
    ready = threading.Barrier(
        len(clients) + 1, action=lambda: clock.__setitem__("start", time.perf_counter())
    )

    last_end = [0.0]

    def run(client: Client) -> None:
        mine = Measured(in_window=0)
        ended = 0.0
        conn = target.connect(TIMEOUT)
        try:
            try:
                for _ in range(warmup):
                    client.step(conn)
            except Exhausted:
                pass
            ready.wait()
            deadline = clock["start"] + duration
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    ok, kind = client.step(conn)
                except Exhausted:
                    mine.notes["exhausted"] = 1
                    break
                ended = time.perf_counter()
                if ok:
                    mine.latencies.append((ended - began) * 1000)
                    mine.in_window += ended <= deadline
                else:
                    mine.errors[kind] = mine.errors.get(kind, 0) + 1
        finally:
            conn.close()
            with lock:
                total.add(mine)
                last_end[0] = max(last_end[0], ended)
                total.notes["clients out of work"] = int(total.notes.get("clients out of work", 0))
                total.notes["clients out of work"] += int(mine.notes.get("exhausted", 0))

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    ready.wait()
    cpu = time.process_time()
    for thread in threads:
        thread.join(timeout=duration + TIMEOUT + 30)
    # The measurement's length; shorter when every client ran out of work before its end.
    total.elapsed = max(0.0, min(duration, last_end[0] - clock["start"]))
    total.client_cpu = time.process_time() - cpu
    if not total.notes["clients out of work"]:
        del total.notes["clients out of work"]
    return total


def expect_200(answer: Answer) -> tuple[bool, str]:
    return (answer.status == 200, f"HTTP {answer.status or 'no answer'}")


def expect_redirect(answer: Answer, to: str) -> tuple[bool, str]:
    if answer.status in (301, 302, 303) and answer.location.startswith(to):
        return True, ""
    return False, f"HTTP {answer.status or 'no answer'} to {answer.location or '-'}"


def get_client(target: Target, browser: Browser | None, paths: Callable[[], str]) -> Client:
    def step(conn):
        return expect_200(send(conn, target, "GET", paths(), browser))

    return Client(step)


def write_floor_client(target: Target, browser: Browser) -> Client | None:
    conn = target.connect(TIMEOUT)
    try:
        answer = send(conn, target, "GET", "/bench/write", browser)  # the token, once
    finally:
        conn.close()
    if answer.status != 200:
        return None
    form = {"csrfmiddlewaretoken": answer.text.strip()}

    def step(conn):
        return expect_200(send(conn, target, "POST", "/bench/write", browser, form))

    return Client(step)


@dataclass
class PostStudent:
    browser: Browser
    classes: list[tuple[str, str]]  # (school id, class id) the student may still register


def registration_client(target: Target, students: list[PostStudent], made: list) -> Client:
    """One class a post, the client's students in turn (each in their own session)."""
    queue = [s for s in students if s.classes]

    def step(conn):
        while queue and not queue[0].classes:
            queue.pop(0)
        if not queue:
            raise Exhausted
        student = queue.pop(0)
        queue.append(student)
        school, section = student.classes.pop(0)
        form = {"csrfmiddlewaretoken": student.browser.token, "school": school}
        form["sections"] = [section]
        answer = send(conn, target, "POST", "/student/register/confirm/", student.browser, form)
        ok, kind = expect_redirect(answer, "/student/registrations/confirmation/")
        if ok:
            made.append((student.browser.user_id, int(section)))
        return ok, kind

    return Client(step)


def grade_save_client(
    target: Target, browser: Browser, section: str, scale: str, grades: dict[str, list[str]]
) -> tuple[Client | None, int]:
    """Save every grade of the class in one post, two grade sets in turn: each post changes
    every grade, and the run can be repeated (the class stays open for grading)."""
    path = f"/teacher/classes/{section}/grades/"
    conn = target.connect(TIMEOUT)
    try:
        page = send(conn, target, "GET", path, browser)
    finally:
        conn.close()
    boxes = GRADE_INPUT.findall(page.text) if page.status == 200 else []
    token = csrf_token(page.text)
    if not boxes or not token:
        return None, 0
    choices = grades.get(scale) or grades.get("letter") or ["A", "B"]
    sets = [
        {f"grade_{pk}": choices[(i + shift) % len(choices)] for i, pk in enumerate(boxes)}
        for shift in (0, 1)
    ]
    turn = [0]

    def step(conn):
        form = {"csrfmiddlewaretoken": token, **sets[turn[0] % 2]}
        turn[0] += 1
        return expect_redirect(send(conn, target, "POST", path, browser, form), path)

    return Client(step), len(boxes)


def signin_surge(target: Target, emails: list[str], *, count: int, window: float) -> Measured:
    """`count` sign-ins started evenly over `window` seconds (an open arrival: each starts
    on time whether or not the earlier ones have answered). Each opens the form (not
    measured) and posts the email and password: the post is measured."""
    result = Measured()
    lock = threading.Lock()
    threads = []

    def one(email: str) -> None:
        browser = Browser()
        conn = target.connect(TIMEOUT)
        try:
            form = send(conn, target, "GET", LOGIN_PATH, browser)
            fields = {"csrfmiddlewaretoken": csrf_token(form.text), "username": email}
            fields["password"] = PASSWORD
            began = time.perf_counter()
            answer = send(conn, target, "POST", LOGIN_PATH, browser, fields)
            took = (time.perf_counter() - began) * 1000
        finally:
            conn.close()
        ok = answer.status == 302 and not answer.location.startswith(LOGIN_PATH)
        with lock:
            if ok:
                result.latencies.append(took)
            else:
                kind = f"HTTP {answer.status or 'no answer'} to {answer.location or '-'}"
                result.errors[kind] = result.errors.get(kind, 0) + 1

    cpu = time.process_time()
    start = time.perf_counter()
    for i in range(count):
        delay = start + i * window / count - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one, args=(emails[i % len(emails)],), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=TIMEOUT + 30)
    result.elapsed = time.perf_counter() - start
    result.client_cpu = time.process_time() - cpu
    result.notes["sign-ins"] = count
    result.notes["window s"] = window
    result.notes["distinct students"] = min(count, len(emails))
    return result


# --- the rows of the table --------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    floor: str | None  # the row key of its floor; None for the bare view
    target: float | None = None  # minimum ratio to the floor
    measured: Measured | None = None


ROWS = [
    Row("bare", "bare view (no middleware, no database)", None),
    Row("anon-floor", "anonymous floor: /healthz", "bare"),
    Row("session-floor", "signed-in floor: /healthz as a student", "bare", 0.25),
    Row("write-floor", "write floor: POST /bench/write", "bare"),
    Row("bare-middleware", "bare view through the middleware", "bare"),
    Row("dashboard", "student: dashboard", "session-floor", 0.5),
    Row("class-list", "student: class list (register page)", "session-floor", 0.5),
    Row("credits", "student: credits", "session-floor", 0.5),
    Row("roster", "teacher: roster", "session-floor", 0.5),
    Row("grade-page", "teacher: grade-entry page (GET)", "session-floor", 0.5),
    Row("registrar-queue", "registrar: queue", "session-floor", 0.5),
    Row("search", "public: articulation search", "anon-floor", 0.5),
    Row("registration-post", "student: registration post (1 class)", "write-floor", 0.3),
    Row("grade-save", "teacher: grade save (one class's grades)", "write-floor", 0.1),
    Row("sign-in", "sign-in surge (the password post)", None),
]
ROW_KEYS = [row.key for row in ROWS]
FLOOR_KEYS = ("bare", "anon-floor", "session-floor", "write-floor")
# Not pages: the p99/p50 limit is for pages (their tails are shown all the same).
REFERENCE_KEYS = (*FLOOR_KEYS, "bare-middleware")
FLOOR_NAMES = {"bare": "bare", "anon-floor": "anon", "session-floor": "signed-in"}
FLOOR_NAMES["write-floor"] = "write"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def verdict(row: Row, rows: dict[str, Row]) -> tuple[str, list[str]]:
    m = row.measured
    if m is None:
        return "-", []
    missed = []
    if m.error_count:
        missed.append(f"{m.error_count} errors")
    if not m.latencies:
        return "MISS", [*missed, "no request measured"]
    p50, p95, p99 = m.percentile(50), m.percentile(95), m.percentile(99)
    tail = ratio(p99, p50)
    if row.key not in REFERENCE_KEYS and (tail is None or tail > TAIL_LIMIT):
        missed.append(f"p99/p50 {tail or 0:.1f} > {TAIL_LIMIT:g}")
    if row.key == "sign-in" and p95 > SIGNIN_P95_MS:
        missed.append(f"p95 {p95:.0f} ms > {SIGNIN_P95_MS:.0f}")
    if row.target is not None:
        floor = rows.get(row.floor or "")
        r = ratio(m.req_per_s, floor.measured.req_per_s if floor and floor.measured else None)
        if r is None or r < row.target:
            missed.append(f"{r or 0:.2f} of its floor < {row.target:g}")
    if missed:
        return "MISS", missed
    # A reference row with no target of its own (the bare view, the other floors): no verdict.
    return ("-" if row.key in REFERENCE_KEYS and row.target is None else "PASS"), missed


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def target_text(row: Row) -> str:
    if row.key == "sign-in":
        return f"p95<={SIGNIN_P95_MS:.0f}ms"
    if row.target is not None:
        return f">={row.target:g} floor"
    return "-" if row.key in REFERENCE_KEYS else f"p99<={TAIL_LIMIT:g}xp50"


def report(rows: list[Row]) -> tuple[str, dict, bool]:
    by_key = {row.key: row for row in rows}
    header = (
        "page",
        "floor",
        "requests",
        "req/s",
        "vs floor",
        "floor/bare",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99/p50",
        "errors",
        "target",
        "verdict",
    )
    lines, data, ok = [], [], True
    table_rows = []
    bare = by_key.get("bare")
    bare_rate = bare.measured.req_per_s if bare and bare.measured else None
    for row in rows:
        m = row.measured
        if m is None:
            continue
        floor = by_key.get(row.floor or "")
        floor_rate = floor.measured.req_per_s if floor and floor.measured else None
        p50, p95, p99 = (m.percentile(p) for p in (50, 95, 99))
        result, missed = verdict(row, by_key)
        ok = ok and result != "MISS"
        vs_floor = ratio(m.req_per_s, floor_rate)
        # A page's floor against the bare view (a floor row's own ratio is "vs floor").
        floor_vs_bare = ratio(floor_rate, bare_rate) if row.floor not in (None, "bare") else None
        table_rows.append(
            (
                row.label,
                FLOOR_NAMES.get(row.floor or "", "-"),
                str(len(m.latencies) + m.error_count),
                f"{m.req_per_s:.1f}",
                fmt(vs_floor, ".2f"),
                fmt(floor_vs_bare, ".2f"),
                fmt(p50),
                fmt(p95),
                fmt(p99),
                fmt(ratio(p99, p50), ".1f"),
                str(m.error_count),
                target_text(row),
                result,
            )
        )
        data.append(
            {
                "key": row.key,
                "page": row.label,
                "floor": row.floor,
                "requests": len(m.latencies) + m.error_count,
                "req_per_s": round(m.req_per_s, 2),
                "req_per_s_rounds": [round(x, 2) for x in m.rounds],
                "ratio_to_floor": None if vs_floor is None else round(vs_floor, 3),
                "floor_ratio_to_bare": None if floor_vs_bare is None else round(floor_vs_bare, 3),
                "p50_ms": None if p50 is None else round(p50, 1),
                "p95_ms": None if p95 is None else round(p95, 1),
                "p99_ms": None if p99 is None else round(p99, 1),
                "errors": m.error_count,
                "error_kinds": m.errors,
                "seconds": round(m.elapsed, 2),
                "client_cpu_share": round(m.client_cpu / m.elapsed, 2) if m.elapsed else None,
                "notes": m.notes,
                "target": target_text(row),
                "verdict": result,
                "missed": missed,
            }
        )
    widths = [max(len(r[i]) for r in [header, *table_rows]) for i in range(len(header))]
    line = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
    lines += [line.format(*header), "  ".join("-" * w for w in widths)]
    lines += [line.format(*r) for r in table_rows]
    for item in data:
        if item["error_kinds"]:
            kinds = ", ".join(f"{k}: {v}" for k, v in item["error_kinds"].items())
            lines.append(f"errors in {item['page']}: {kinds}")
        notes = [f"{k} {v}" for k, v in item["notes"].items()]
        if len(item["req_per_s_rounds"]) > 1:
            notes.append(
                "req/s by round " + " / ".join(f"{x:.0f}" for x in item["req_per_s_rounds"])
            )
        if notes:
            lines.append(f"{item['page']}: {', '.join(notes)}")
    shares = [i["client_cpu_share"] for i in data if i["client_cpu_share"] is not None]
    if shares:
        lines.append(
            f"the load client (this process) used {min(shares):.2f}-{max(shares):.2f} "
            "CPU seconds a second while measuring"
        )
    return "\n".join(lines), {"rows": data}, ok


# --- accounts and data -------------------------------------------------------------------------


def read_ids(name: str) -> list[list[str]]:
    path = OUT / name
    if not path.exists():
        return []
    with path.open() as handle:
        return [line.strip().split(",") for line in handle if line.strip() and line[0] != "#"]


def prepare(*, concurrency: int, duration: float, seed: int) -> dict:
    """The accounts (load_surge.prepare, its lists written to bench/out/ceilings/), their
    emails (kept in memory), and the write floor's table."""
    OUT.mkdir(parents=True, exist_ok=True)
    load_surge.OUT = OUT
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the project's packages, bench.ceilings_site
    # Classes to register for the whole stage at POST_RATE_BOUND, ~25-300 per student.
    post_students = concurrency * (math.ceil(POST_RATE_BOUND * duration / concurrency / 25) + 1)
    counts = load_surge.prepare(users=concurrency, seed=seed, post_students=post_students)

    from django.db import connection

    from accounts.models import User
    from bench.ceilings_site.views import CREATE_WRITE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(CREATE_WRITE_TABLE)
    lists = {
        name: read_ids(f"{name}.csv")
        for name in (
            "students_surge",
            "students_post",
            "students_view",
            "teachers_view",
            "teachers_grade",
            "registrars",
            "totp",
            "searches",
            "grades",
        )
    }
    ids = {
        int(row[0])
        for name, rows in lists.items()
        if name not in ("searches", "grades")
        for row in rows
    }
    emails = dict(User.objects.filter(pk__in=ids).values_list("pk", "email"))
    connection.close()
    return {"counts": counts, "lists": lists, "emails": emails}


def withdraw_bench_registrations(made: list[tuple[int, int]]) -> tuple[int, int]:
    """Withdraw what the registration-post stage registered (through the service, as the
    student), so the next run finds the same classes to register."""
    from django.core.exceptions import ValidationError
    from django.db import connection

    from accounts.models import User
    from enrollment.models import Enrollment
    from enrollment.rules import WITHDRAWABLE_STATUSES
    from enrollment.services import registration

    done = refused = 0
    users = {u.pk: u for u in User.objects.filter(pk__in={user_id for user_id, _ in made})}
    for user_id, section_id in sorted(set(made)):
        rows = Enrollment.objects.filter(
            student__user_id=user_id, section_id=section_id, status__in=WITHDRAWABLE_STATUSES
        ).values_list("pk", flat=True)
        for pk in rows:
            try:
                registration.enrollment_withdraw(enrollment_id=pk, actor=users[user_id])
                done += 1
            except ValidationError:
                refused += 1
    connection.close()
    return done, refused


# --- the servers -------------------------------------------------------------------------------


def gunicorn(app: str, port: int, workers: int) -> list:
    """The same worker settings as load_surge.py for both sites."""
    return [
        PY,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        "--backlog",
        "2048",
        "--preload",
        "--access-logfile",
        "/dev/null",
        "--error-logfile",
        "-",
    ]


def start_servers(args, processes: load_surge.Processes, mail_dir: Path) -> tuple[Target, Target]:
    env = load_surge.server_env(mail_dir)
    env["DJANGO_SETTINGS_MODULE"] = SITE_SETTINGS
    env["SERS_BENCH_STATIC_ROOT"] = str(STATIC_ROOT)
    if args.collectstatic or not (STATIC_ROOT / "staticfiles.json").exists():
        print("collectstatic (production storage compresses every file: 1-3 min) ...", flush=True)
        subprocess.run(
            [PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
    load_surge.start_celery_worker(processes, env, mail_dir, args.celery_concurrency)
    site_port, bare_port = load_surge.free_port(), load_surge.free_port()
    site = processes.start(
        "gunicorn (site)",
        gunicorn("sers.wsgi:application", site_port, args.workers),
        env,
        OUT / "gunicorn.log",
    )
    bare = processes.start(
        "gunicorn (bare)",
        gunicorn("bench.ceilings_site.bare_wsgi:application", bare_port, args.workers),
        env,
        OUT / "gunicorn-bare.log",
    )
    load_surge.wait_for(f"http://127.0.0.1:{site_port}/healthz", site, OUT / "gunicorn.log")
    load_surge.wait_for(f"http://127.0.0.1:{bare_port}/bench/bare", bare, OUT / "gunicorn-bare.log")
    print(
        f"gunicorn: {args.workers} sync workers each, site on 127.0.0.1:{site_port} "
        f"({SITE_SETTINGS}), bare view on 127.0.0.1:{bare_port}; "
        f"celery worker: {args.celery_concurrency} process",
        flush=True,
    )
    return Target("http", "127.0.0.1", site_port), Target("http", "127.0.0.1", bare_port)


# --- the run -----------------------------------------------------------------------------------


def sign_in_all(target: Target, accounts: list[tuple[int, str, str]], threads: int) -> list:
    """Sign every (user id, email, TOTP key) in, `threads` at a time; None where it failed."""
    out: list[Browser | None] = [None] * len(accounts)
    work = list(enumerate(accounts))
    lock = threading.Lock()

    def run():
        while True:
            with lock:
                if not work:
                    return
                i, (user_id, email, key) = work.pop()
            browser = sign_in(target, email, key)
            if browser is not None:
                browser.user_id = user_id
            out[i] = browser

    pool = [threading.Thread(target=run, daemon=True) for _ in range(max(1, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return out


def run_stages(args, site: Target, bare: Target, data: dict, made: list) -> list[Row]:
    lists, emails, n = data["lists"], data["emails"], args.concurrency
    totp = {int(r[0]): r[1] for r in lists["totp"]}
    grades = {r[0]: r[1:] for r in lists["grades"]}
    searches = [r[0] for r in lists["searches"]] or ["/articulations/classes/"]
    wanted = [k for k in (args.pages.split(",") if args.pages else ROW_KEYS) if k]
    unknown = set(wanted) - set(ROW_KEYS)
    if unknown:
        die(f"unknown --pages {sorted(unknown)}; known: {','.join(ROW_KEYS)}")
    # The floors are always measured: the other rows are read against them.
    wanted = [k for k in ROW_KEYS if k in wanted or k in FLOOR_KEYS]

    def account(row, with_key=False):
        user_id = int(row[0])
        return (user_id, emails.get(user_id, ""), totp.get(user_id, "") if with_key else "")

    def cycle(rows, count):
        return [rows[i % len(rows)] for i in range(count)] if rows else []

    print("signing in the clients' accounts (not measured) ...", flush=True)
    students = sign_in_all(site, [account(r) for r in cycle(lists["students_view"], n)], n)
    teachers_view = cycle(lists["teachers_view"], n)
    teachers_grade = lists["teachers_grade"][:n]  # one client a class: no two save the same
    teachers = sign_in_all(site, [account(r) for r in teachers_view], n)
    graders = sign_in_all(site, [account(r) for r in teachers_grade], n)
    registrar_rows = lists["registrars"][:n]
    registrars = []
    if "registrar-queue" in wanted:
        registrars = sign_in_all(site, [account(r, True) for r in registrar_rows], n)
    posting = []
    if "registration-post" in wanted:
        rows = lists["students_post"]
        signed = sign_in_all(site, [account(r) for r in rows], n)
        for row, browser in zip(rows, signed, strict=True):
            if browser is not None and browser.token:
                posting.append(PostStudent(browser, [tuple(p.split(":")) for p in row[1:]]))
    failed = sum(b is None for b in [*students, *teachers, *graders, *registrars])
    if failed:
        print(f"warning: {failed} sign-ins failed; those clients are left out", flush=True)
    students = [b for b in students if b is not None]
    queue_views = ("ready", "ready", "ready", "waiting", "transcribed")

    def clients_for(key: str) -> tuple[Target, list[Client], dict]:
        def one(path):
            return lambda: path

        if key == "bare":
            return bare, [get_client(bare, None, one("/bench/bare")) for _ in range(n)], {}
        if key == "anon-floor":
            return site, [get_client(site, Browser(), one("/healthz")) for _ in range(n)], {}
        if key == "bare-middleware":
            return site, [get_client(site, Browser(), one("/bench/bare")) for _ in range(n)], {}
        if key == "session-floor":
            return site, [get_client(site, b, one("/healthz")) for b in students], {}
        if key == "write-floor":
            clients = [write_floor_client(site, b) for b in students]
            return site, [c for c in clients if c], {}
        pages = {
            "dashboard": "/student/dashboard/",
            "class-list": "/student/register/",
            "credits": "/student/credits/",
        }
        if key in pages:
            return site, [get_client(site, b, one(pages[key])) for b in students], {}
        if key in ("roster", "grade-page"):
            suffix = "" if key == "roster" else "grades/"
            clients = [
                get_client(site, b, one(f"/teacher/classes/{row[1]}/{suffix}"))
                for row, b in zip(teachers_view, teachers, strict=True)
                if b is not None
            ]
            return site, clients, {}
        if key == "registrar-queue":

            def queue_path():
                return f"/registrar/queue/?view={random.choice(queue_views)}"

            return site, [get_client(site, b, queue_path) for b in registrars if b], {}
        if key == "search":
            # Each search URL once first: its results are cached per URL and day, so a long
            # run serves them from the cache; a short one would measure the first asks.
            warm = get_client(site, Browser(), iter(searches).__next__)
            conn = site.connect(TIMEOUT)
            for _ in searches:
                warm.step(conn)
            conn.close()
            clients = [get_client(site, Browser(), lambda: random.choice(searches))]
            return site, clients * n, {"search URLs": len(searches)}  # nothing per client
        if key == "registration-post":
            shares = [posting[i::n] for i in range(n)]
            classes = sum(len(s.classes) for s in posting)
            notes = {"students": len(posting), "classes they may register": classes}
            return site, [registration_client(site, s, made) for s in shares if s], notes
        if key == "grade-save":
            clients, sizes = [], []
            for row, browser in zip(teachers_grade, graders, strict=True):
                if browser is None:
                    continue
                client, size = grade_save_client(site, browser, row[1], row[2], grades)
                if client is not None:
                    clients.append(client)
                    sizes.append(size)
            notes = {"grades a post": f"{min(sizes)}-{max(sizes)}" if sizes else "-"}
            return site, clients, notes
        raise AssertionError(key)

    def measure_row(row: Row) -> None:
        target, clients, notes = clients_for(row.key)
        if not clients:
            print(f"skipping {row.label}: no account for it in this data", flush=True)
            return
        print(f"measuring {row.label}: {len(clients)} clients, {args.duration:g} s", flush=True)
        warmup = 0 if row.key == "registration-post" else args.warmup
        measured = measure(target, clients, duration=args.duration, warmup=warmup)
        measured.rounds = [measured.window_rate]
        measured.notes.update(notes)
        if row.key == "session-floor":
            # /healthz answers 200 signed in or not: check the sessions were still signed in
            # (/bench/write answers 403 to an anonymous request).
            conn = site.connect(TIMEOUT)
            lost = sum(send(conn, site, "GET", "/bench/write", b).status != 200 for b in students)
            conn.close()
            if lost:
                measured.errors["session no longer signed in"] = lost
        if made:
            # At once: the grade-save stage would otherwise grade these registrations (the
            # classes are the same), and a graded class can no longer be withdrawn.
            done, refused = withdraw_bench_registrations(made)
            measured.notes["withdrawn after the stage"] = done
            if refused:
                measured.notes["could not be withdrawn"] = refused
            made.clear()
        if row.measured is None:
            row.measured = measured
        else:
            row.measured.merge_round(measured)

    rows = [dataclasses.replace(r, measured=None) for r in ROWS]
    for round_no in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"round {round_no} of {args.rounds}", flush=True)
        for row in rows:
            if row.key in wanted and row.key != "sign-in":
                measure_row(row)
    for row in rows:  # the sign-in surge once, last
        if row.key == "sign-in" and row.key in wanted:
            pool = [emails[int(r[0])] for r in lists["students_surge"] if int(r[0]) in emails]
            pool += [emails[int(r[0])] for r in lists["students_view"] if int(r[0]) in emails]
            if not pool:
                continue
            print(f"measuring {row.label}: {args.signins} in {args.signin_window:g} s", flush=True)
            row.measured = signin_surge(site, pool, count=args.signins, window=args.signin_window)
    return [r for r in rows if r.measured is not None]


def positive(kind, upper):
    def parse(text: str):
        value = kind(text)
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"between 0 and {upper}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", "-c", type=positive(int, MAX_CONCURRENCY), default=8)
    parser.add_argument(
        "--duration", "-d", type=positive(float, 600), default=10.0, help="s per row (10)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per client")
    parser.add_argument(
        "--rounds", type=positive(int, 20), default=1, help="measure every row N times (median)"
    )
    parser.add_argument("--workers", type=positive(int, 32), default=4, help="gunicorn workers")
    parser.add_argument("--celery-concurrency", type=positive(int, 8), default=1)
    parser.add_argument("--signins", type=positive(int, 5000), default=300)
    parser.add_argument("--signin-window", type=positive(float, 600), default=60.0, help="s")
    parser.add_argument("--pages", default="", help=f"some of: {','.join(ROW_KEYS)}")
    parser.add_argument("--collectstatic", action="store_true", help="collect again")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    args = parser.parse_args(argv)

    load_surge.loopback_url(
        os.environ.get("DATABASE_URL", ""), ("postgres", "postgresql"), "DATABASE_URL"
    )
    load_surge.loopback_url(os.environ.get("REDIS_URL", ""), ("redis",), "REDIS_URL")
    started = time.time()
    load = os.getloadavg()
    load_surge.migrate()
    data = prepare(concurrency=args.concurrency, duration=args.duration, seed=args.seed)
    print(
        "accounts and data: " + ", ".join(f"{k} {v:,}" for k, v in data["counts"].items()),
        flush=True,
    )
    mail_dir = Path(tempfile.mkdtemp(prefix="sers-bench-mail-"))
    processes = load_surge.Processes()
    made: list[tuple[int, int]] = []  # (user id, class id) the run registered
    status = 2
    try:
        site, bare = start_servers(args, processes, mail_dir)
        rows = run_stages(args, site, bare, data, made)
        text, table, ok = report(rows)
        print()
        print(text)
        print()
        print(
            "every target met"
            if ok
            else "target missed: "
            + "; ".join(
                f"{r['page']}: {', '.join(r['missed'])}" for r in table["rows"] if r["missed"]
            )
        )
        if args.json:
            table.update(
                started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                load_average_before=[round(x, 2) for x in load],
                load_average_after=[round(x, 2) for x in os.getloadavg()],
                cpus=os.cpu_count(),
                concurrency=args.concurrency,
                duration_s=args.duration,
                rounds=args.rounds,
                workers=args.workers,
                data=data["counts"],
                all_met=ok,
            )
            Path(args.json).write_text(json.dumps(table, indent=2) + "\n")
        status = 0 if ok else 1
    finally:
        processes.stop()
        shutil.rmtree(mail_dir, ignore_errors=True)
        if made:
            done, refused = withdraw_bench_registrations(made)
            print(f"withdrew the run's last {done} registrations ({refused} refused)")
    print(
        f"load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after, "
        f"{os.cpu_count()} CPUs; {time.time() - started:.0f} s in all"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
