"""SERS under load: a registration surge, a grading surge, the articulation search and the
registrar queue, with /healthz measured in the same run as the ceiling.

One file of over 800 lines on purpose: locust loads a single locustfile, and the users,
the stages and the result hooks below share the account pools and the per-stage results
kept at module level.

Run it with the driver, which prepares the accounts, serves the site with gunicorn and a
Celery worker on loopback and prints the table (see bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_scale REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/load_surge.py --users 100 --run-time 6m

or by hand against a server that is already running on this machine, after the driver's
`--prepare-only` wrote the account lists to bench/out/:

    .venv/bin/locust -f bench/locustfile.py --headless -u 100 -r 100 -t 6m \
        --host http://127.0.0.1:8000 --csv bench/out/locust

The run is a sequence of stages (a LoadTestShape); -u users run in every stage, -r is the
spawn rate and -t the whole run, shared evenly between the stages (SERS_BENCH_STAGES picks
and orders them). Each stage runs one kind of user:

- ceiling: GET /healthz (one SELECT 1), the cheapest page: the server's floor.
- ceiling-session: GET /healthz as a signed-in student (session read and renewed, user
  loaded): the floor of every page that needs a sign-in.
- registration-surge: students in turn sign in, land on the home page, open the class
  list, tick a class of each of one or two courses the page offers, review, register,
  read the confirmation and the dashboard, then leave (a new student for each round).
- grading-surge: teachers in turn sign in, open their classes, open a roster, confirm it,
  save a grade for every student of the class (about 30) and mark the class complete.
- dashboard, class-list, registration-post, roster, grade-save, search, registrar-queue:
  one key page alone, every user on it, each user signed in once before the measurement
  starts (registration-post: as many students as the stage needs, each in its own
  session, since a registered class cannot be posted again). These give each page's
  throughput next to the ceiling's.

A stage's measurement starts once all its users have signed in (plus SERS_BENCH_SETTLE
seconds, default 2) and ends with the stage; sign-ins and other set-up requests are
counted under their own names. The results (per stage and page: requests, errors,
throughput, p50/p95/p99) go to $SERS_BENCH_OUT/results.json (default bench/out/).

Accounts: the driver writes user ids only (never names or emails) to bench/out/*.csv; the
email of each id is read from the database (DATABASE_URL) when the run starts and kept in
memory. Every demo account has the demo password (SERS_BENCH_PASSWORD, default the demo's).
Staff who need two-step sign-in (the registrar) get a TOTP device with a key the driver
writes to bench/out/totp.csv; the code is computed here with django_otp.oath.totp.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser

OUT = Path(os.environ.get("SERS_BENCH_OUT", Path(__file__).resolve().parent / "out"))
PASSWORD = os.environ.get("SERS_BENCH_PASSWORD", "sers-demo-2026")
SETTLE_SECONDS = float(os.environ.get("SERS_BENCH_SETTLE", "2"))
GAP_SECONDS = 3.0  # between stages: the previous stage's users stop, nothing is measured
# A generous upper bound of the registration post's throughput: the registration-post users
# sign in enough students before the measurement to post this fast for the whole stage.
POST_RATE_BOUND = 150.0
LOGIN_PATH = "/accounts/login/"
TWO_STEP_PATH = "/accounts/two-step/verify/"

CSRF_PATTERNS = (
    re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"'),
    re.compile(r'"X-CSRFToken": "([^"]+)"'),
)
FIELDSET = re.compile(r"<fieldset\b.*?</fieldset>", re.S)
ALERT = re.compile(r'class="alert alert-danger[^"]*"[^>]*>(.*?)</div>', re.S)
SECTION_BOX = re.compile(r'<input[^>]*name="sections" value="(\d+)"')


# --- accounts -----------------------------------------------------------------------------


def _read_ids(name: str) -> list[list[str]]:
    path = OUT / name
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row and not row[0].startswith("#")]


def _emails(user_ids: set[int]) -> dict[int, str]:
    """The sign-in email of each user id, read from the database and kept in memory only."""
    if not user_ids:
        return {}
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("locustfile: set DATABASE_URL to the PostgreSQL database under test")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, email FROM consortia_user WHERE id = ANY(%s)", (sorted(user_ids),)
        ).fetchall()
    return dict(rows)


@dataclass
class Account:
    user_id: int
    email: str
    extra: list[str] = field(default_factory=list)


class Pool:
    """Accounts handed out in turn; `take` never gives the same account twice while the
    pool lasts (a registration needs a student who has not registered that class yet)."""

    def __init__(self, name: str, rows: list[list[str]], emails: dict[int, str]):
        self.name = name
        self.accounts = [
            Account(int(row[0]), emails[int(row[0])], row[1:])
            for row in rows
            if int(row[0]) in emails
        ]
        self._next = 0

    def __len__(self) -> int:
        return len(self.accounts)

    def take(self, *, again: bool = False) -> Account:
        """The next account; with `again`, start over when all were handed out (for pages
        that only read)."""
        if self._next >= len(self.accounts):
            if not again or not self.accounts:
                raise StopUser  # the pool is used up: this user stops, the others go on
            self._next = 0
        account = self.accounts[self._next]
        self._next += 1
        return account


POOL_FILES = {
    "surge_students": "students_surge.csv",  # user_id, section_id ... (own school)
    "post_students": "students_post.csv",  # user_id, then school_id:section_id ...
    "view_students": "students_view.csv",  # user_id
    "surge_teachers": "teachers_surge.csv",  # user_id, section_id ...
    "grade_teachers": "teachers_grade.csv",  # user_id, section_id ...
    "view_teachers": "teachers_view.csv",  # user_id, section_id
    "registrars": "registrars.csv",  # user_id
}
POOLS: dict[str, Pool] = {}
SEARCHES: list[str] = []
TOTP_KEYS: dict[int, str] = {}


def load_pools() -> None:
    rows = {name: _read_ids(file) for name, file in POOL_FILES.items()}
    emails = _emails({int(row[0]) for table in rows.values() for row in table})
    for name, table in rows.items():
        POOLS[name] = Pool(name, table, emails)
    SEARCHES[:] = [row[0] for row in _read_ids("searches.csv")] or ["/articulations/classes/"]
    TOTP_KEYS.update({int(row[0]): row[1] for row in _read_ids("totp.csv")})


# --- per-stage results ----------------------------------------------------------------------


@dataclass
class StageResult:
    name: str
    users: int
    seconds: float = 0.0  # the stage's length, the gap after it not included
    started: float = 0.0
    ready: float = 0.0  # when every user had signed in: the measurement starts here
    ended: float = 0.0
    ready_users: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_kinds: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    order: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def window(self) -> float:
        start = self.ready or self.started
        return max(0.0, (self.ended or time.time()) - start)


STAGES: dict[str, StageResult] = {}


def _stage(name: str) -> StageResult | None:
    return STAGES.get(name)


def user_ready(stage_name: str) -> None:
    """A user of the stage finished signing in; the last one starts the measurement."""
    stage = _stage(stage_name)
    if stage is None:
        return
    stage.ready_users += 1
    if stage.ready_users >= stage.users and not stage.ready:
        stage.ready = time.time() + SETTLE_SECONDS


def note(stage_name: str, what: str, n: int = 1) -> None:
    stage = _stage(stage_name)
    if stage is not None:
        stage.notes[what] += n


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, context, **kwargs):
    stage = _stage((context or {}).get("stage", ""))
    if stage is None:
        return
    if name not in stage.order:
        stage.order.append(name)
    if exception is not None:
        stage.errors[name] += 1
        kind = type(exception).__name__
        stage.error_kinds[name][f"{kind}: {str(exception)[:120]}"] += 1
        return
    ended = time.time()
    start = stage.ready or math.inf  # nothing counts before every user is in
    if start <= ended - response_time / 1000 and (not stage.ended or ended <= stage.ended):
        stage.latencies[name].append(response_time)
        stage.counted[name] += 1


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the same definition as bench/load_pages.py)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def results() -> dict:
    stages = []
    for stage in STAGES.values():
        if not stage.started:
            continue
        pages = []
        for name in stage.order:
            values = stage.latencies.get(name, [])
            pages.append(
                {
                    "page": name,
                    "requests": len(values) + stage.errors.get(name, 0),
                    "measured": len(values),
                    "errors": stage.errors.get(name, 0),
                    "error_kinds": dict(stage.error_kinds.get(name, {})),
                    "req_per_s": round(len(values) / stage.window, 2) if stage.window else 0.0,
                    **{
                        f"p{p}_ms": round(percentile(values, p), 1) if values else None
                        for p in (50, 95, 99)
                    },
                }
            )
        stages.append(
            {
                "stage": stage.name,
                "users": stage.users,
                "all_users_signed_in": bool(stage.ready),
                "measured_seconds": round(stage.window, 1),
                "pages": pages,
                "notes": dict(stage.notes),
            }
        )
    return {"stages": stages}


@events.init.add_listener
def _init(environment, **kwargs):
    load_pools()


_written = False


@events.test_stop.add_listener
def _write_results(environment, **kwargs):
    global _written
    now = time.time()
    for stage in STAGES.values():
        if stage.started and not stage.ended:
            stage.ended = now
    if _written:
        return
    _written = True
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results(), indent=2) + "\n")


# --- the users ------------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    for pattern in CSRF_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1)
    return ""


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Send the production settings' Secure cookies (session, CSRF) over plain http: the
    server is on loopback, where TLS would only measure the TLS library."""

    def return_ok_secure(self, cookie, request):
        return True


class SersUser(FastHttpUser):
    """A browser-like client: one session (cookies), keep-alive, no think time."""

    abstract = True
    stage = ""
    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 30.0
    insecure = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.client.cookiejar.set_policy(LoopbackCookiePolicy())

    def context(self) -> dict:
        return {"stage": self.stage}

    def page(self, path: str, name: str, *, expect: str = "") -> str:
        """GET a page; anything but 200 (or a missing `expect` text) is an error."""
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return ""
            text = r.text or ""
            if expect and expect not in text:
                r.failure(f"missing {expect!r}")
                return ""
            return text

    def post(self, path: str, data, name: str, *, redirect_to: str = "") -> str | None:
        """POST a form without following the redirect; returns the redirect's path (a 302
        elsewhere than `redirect_to`, or a 200 page with errors, is an error)."""
        with self.client.post(
            path,
            data=urlencode(data, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": path},
            name=name,
            catch_response=True,
            allow_redirects=False,
        ) as r:
            location = urlsplit(r.headers.get("Location", "") or "").path
            if r.status_code in (301, 302, 303) and location.startswith(redirect_to):
                return location + (
                    f"?{urlsplit(r.headers['Location']).query}"
                    if urlsplit(r.headers["Location"]).query
                    else ""
                )
            problem = ALERT.search(r.text or "") if r.status_code == 200 else None
            if problem:
                r.failure(
                    f"HTTP 200: {re.sub(r'<[^>]+>|\\s+', ' ', problem.group(1)).strip()[:80]}"
                )
            else:
                r.failure(f"HTTP {r.status_code} to {location or '-'}")
            return None

    def sign_in(self, account: Account, name: str = "sign in") -> bool:
        """The sign-in form; then, for staff with two-step sign-in, the code form."""
        self.client.cookiejar.clear()
        form = self.page(LOGIN_PATH, f"{name}: form")
        token = csrf_token(form)
        if not token:
            return False
        landed = self.post(
            LOGIN_PATH,
            {"csrfmiddlewaretoken": token, "username": account.email, "password": PASSWORD},
            name,
        )
        if landed is None or landed.startswith(LOGIN_PATH):
            return False
        key = TOTP_KEYS.get(account.user_id)
        return self.second_step(key, name) if key else True

    def second_step(self, key: str, name: str) -> bool:
        """The two-step page asks for the code of the authenticator (its key is known)."""
        from django_otp.oath import totp

        form = self.page(TWO_STEP_PATH, f"{name}: code form")
        code = f"{totp(bytes.fromhex(key)):06d}"
        landed = self.post(
            TWO_STEP_PATH,
            {"csrfmiddlewaretoken": csrf_token(form), "code": code},
            f"{name}: code",
        )
        return landed is not None and not landed.startswith(TWO_STEP_PATH)


def offered_sections(class_list: str, allowed: set[str], limit: int) -> list[str]:
    """One class of each course the class list lets the student tick, at most `limit`.

    Only classes the driver found the student may register (`allowed`): the class list
    also offers other teachers' classes of a course the student already holds, which the
    registration then refuses (see the report in bench/README.md).
    """
    picks = []
    for fieldset in FIELDSET.findall(class_list):
        boxes = [box for box in SECTION_BOX.findall(fieldset) if box in allowed]
        if boxes:
            picks.append(random.choice(boxes))
        if len(picks) >= limit:
            break
    return picks


class HealthzUser(SersUser):
    """The trivial view: the ceiling the other pages are compared with."""

    stage = "ceiling"

    def on_start(self):
        user_ready(self.stage)

    @task
    def healthz(self):
        self.page("/healthz", "/healthz")


class SignedInHealthzUser(SersUser):
    """The trivial view for a signed-in user: /healthz with a student's session cookie, so
    the session is read and its idle timeout renewed, and the user loaded, as on every
    signed-in page. The floor of the pages that need a sign-in (see bench/README.md)."""

    stage = "ceiling-session"

    def on_start(self):
        if not self.sign_in(POOLS["view_students"].take(again=True), "setup: sign in"):
            raise StopUser
        user_ready(self.stage)

    @task
    def healthz(self):
        self.page("/healthz", "/healthz (signed in)")


class RegistrationSurgeUser(SersUser):
    """One student after another: sign in, class list, tick, review, register, dashboard."""

    stage = "registration-surge"

    def on_start(self):
        user_ready(self.stage)

    @task
    def register_as_a_new_student(self):
        account = POOLS["surge_students"].take()
        if not self.sign_in(account, "student: sign in"):
            return
        self.page("/", "student: home")
        class_list = self.page("/student/register/", "student: class list", expect="class-list")
        picks = offered_sections(class_list, set(account.extra), limit=random.choice((1, 1, 2)))
        if not picks:
            note(self.stage, "students with nothing left to register")
            return
        school = re.search(r'name="school" value="(\d+)"', class_list).group(1)
        form = {"csrfmiddlewaretoken": csrf_token(class_list), "school": school, "sections": picks}
        review = self.client.post(
            "/student/register/review/",
            data=urlencode(form, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="student: registration review",
        )
        if review.status_code != 200:
            return
        form["csrfmiddlewaretoken"] = csrf_token(review.text or "")
        confirmation = self.post(
            "/student/register/confirm/",
            form,
            "student: registration post",
            redirect_to="/student/registrations/confirmation/",
        )
        if confirmation is None:
            return
        note(self.stage, "registrations", len(picks))
        self.page(confirmation, "student: confirmation")
        self.page("/student/dashboard/", "student: dashboard")


class DashboardUser(SersUser):
    stage = "dashboard"

    def on_start(self):
        if not self.sign_in(POOLS["view_students"].take(again=True), "setup: sign in"):
            raise StopUser
        user_ready(self.stage)

    @task
    def dashboard(self):
        self.page("/student/dashboard/", "student: dashboard")


class ClassListUser(SersUser):
    stage = "class-list"

    def on_start(self):
        if not self.sign_in(POOLS["view_students"].take(again=True), "setup: sign in"):
            raise StopUser
        user_ready(self.stage)

    @task
    def class_list(self):
        self.page("/student/register/", "student: class list", expect="class-list")


def posts_per_user(stage: StageResult | None) -> int:
    """How many registration posts one user of the stage may make, at most: the stage's
    length at POST_RATE_BOUND, shared by its users (load_surge.py lists that many)."""
    if stage is None:
        return 1
    return math.ceil(POST_RATE_BOUND * (stage.seconds or 60.0) / max(1, stage.users))


@dataclass
class SignedInStudent:
    session: FastHttpSession  # the student's own cookies: their session and CSRF cookie
    token: str
    classes: list[tuple[str, str]]  # (school_id, section_id) still to register


class RegistrationPostUser(SersUser):
    """Register one class per POST. Before the measurement, each user signs in enough
    students for the whole stage (its share of the list: the driver listed classes each
    student may still register, school:section, one per course), each in a session of
    its own, and reads their CSRF token from the home page; then it posts a class of each
    student in turn, so no sign-in (Argon2, expensive) runs while the post is measured.
    The user stops when its students have no class left."""

    stage = "registration-post"

    def on_start(self):
        self.students: deque[SignedInStudent] = deque()
        stage = _stage(self.stage)
        pool = POOLS["post_students"]
        share = max(1, len(pool) // max(1, stage.users if stage else 1))
        wanted, classes, taken = posts_per_user(stage), 0, 0
        main_session = self.client
        while classes < wanted and taken < share:
            try:
                account = pool.take()
            except StopUser:
                break  # the list is used up: go with the students signed in so far
            taken += 1
            student = self.signed_in_student(account)
            if student is not None:
                self.students.append(student)
                classes += len(student.classes)
        self.client = main_session
        if not self.students:
            raise StopUser
        note(self.stage, "students signed in before the measurement", len(self.students))
        user_ready(self.stage)
        # Post nothing until every user has signed in its students: posts made meanwhile
        # are not measured and would only slow the others' sign-ins down.
        while stage and not stage.ready and time.time() < stage.started + stage.seconds:
            gevent.sleep(0.1)

    def new_session(self) -> FastHttpSession:
        """A client like the user's own (FastHttpUser.__init__), with an empty cookie jar."""
        session = FastHttpSession(
            base_url=self.host,
            request_event=self.environment.events.request,
            user=self,
            insecure=self.insecure,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
            max_redirects=self.max_redirects,
            max_retries=self.max_retries,
            concurrency=self.concurrency,
            headers=self.default_headers,
        )
        session.cookiejar.set_policy(LoopbackCookiePolicy())
        return session

    def signed_in_student(self, account: Account) -> SignedInStudent | None:
        # page, post and sign_in send with self.client: point it at the student's session.
        self.client = self.new_session()
        if not self.sign_in(account, "setup: sign in"):
            return None
        token = csrf_token(self.page("/", "setup: home"))
        if not token:
            return None
        classes = [tuple(pair.split(":")) for pair in account.extra]
        return SignedInStudent(self.client, token, classes)

    @task
    def register_one_class(self):
        while self.students and not self.students[0].classes:
            self.students.popleft()
        if not self.students:
            note(self.stage, "users out of classes to register")
            raise StopUser  # every class of this user's students is registered
        student = self.students.popleft()
        self.students.append(student)  # the next post is the next student's
        school, section = student.classes.pop(0)
        form = {"csrfmiddlewaretoken": student.token, "school": school, "sections": [section]}
        self.client = student.session
        if self.post(
            "/student/register/confirm/",
            form,
            "student: registration post",
            redirect_to="/student/registrations/confirmation/",
        ):
            note(self.stage, "registrations")


class SearchUser(SersUser):
    """The public articulation search (no sign-in), filters drawn from the data."""

    stage = "search"

    def on_start(self):
        user_ready(self.stage)

    @task
    def search(self):
        self.page(random.choice(SEARCHES), "public: articulation search")


GRADE_INPUT = re.compile(r'name="grade_(\d+)"')
GRADES: dict[str, list[str]] = {}


def typed_grades(grades_page: str, scale: str) -> dict[str, str]:
    """A grade in every open box of the grade page (most differ from the saved ones)."""
    if not GRADES:
        GRADES.update({row[0]: row[1:] for row in _read_ids("grades.csv")})
    choices = GRADES.get(scale) or GRADES.get("letter") or ["A", "B"]
    return {f"grade_{pk}": random.choice(choices) for pk in GRADE_INPUT.findall(grades_page)}


class TeacherUser(SersUser):
    abstract = True

    def grade_class(self, section: str, scale: str) -> bool:
        """Open the grade page and save a grade for every student in one post."""
        path = f"/teacher/classes/{section}/grades/"
        page = self.page(path, "teacher: grade page")
        grades = typed_grades(page, scale)
        if not grades:
            note(self.stage, "classes with no grade to enter")
            return False
        form = {"csrfmiddlewaretoken": csrf_token(page), **grades}
        if self.post(path, form, "teacher: grade save", redirect_to=path) is None:
            return False
        note(self.stage, "grades saved", len(grades))
        return True


class GradingSurgeUser(TeacherUser):
    """One teacher after another: sign in, classes, roster, confirm it, save 30 grades."""

    stage = "grading-surge"

    def on_start(self):
        user_ready(self.stage)

    @task
    def grade_as_a_new_teacher(self):
        account = POOLS["surge_teachers"].take()
        section, scale = account.extra[0], account.extra[1]
        if not self.sign_in(account, "teacher: sign in"):
            return
        self.page("/teacher/classes/", "teacher: classes")
        roster_path = f"/teacher/classes/{section}/"
        roster = self.page(roster_path, "teacher: roster")
        if 'name="all"' in roster:
            form = {"csrfmiddlewaretoken": csrf_token(roster), "all": "1"}
            if self.post(
                f"{roster_path}confirm/", form, "teacher: roster confirm", redirect_to=roster_path
            ):
                self.page(roster_path, "teacher: roster")
        if self.grade_class(section, scale):
            self.page(f"/teacher/classes/{section}/grades/", "teacher: grade page")


class RosterUser(TeacherUser):
    stage = "roster"

    def on_start(self):
        account = POOLS["view_teachers"].take(again=True)
        self.section = account.extra[0]
        if not self.sign_in(account, "setup: sign in"):
            raise StopUser
        user_ready(self.stage)

    @task
    def roster(self):
        self.page(f"/teacher/classes/{self.section}/", "teacher: roster")


class GradeSaveUser(TeacherUser):
    """Save the whole class's grades again and again (the grade page is set-up)."""

    stage = "grade-save"

    def on_start(self):
        account = POOLS["grade_teachers"].take(again=True)
        self.section, self.scale = account.extra[0], account.extra[1]
        if not self.sign_in(account, "setup: sign in"):
            raise StopUser
        self.path = f"/teacher/classes/{self.section}/grades/"
        self.form_page = self.page(self.path, "setup: grade page")
        user_ready(self.stage)

    @task
    def save_grades(self):
        grades = typed_grades(self.form_page, self.scale)
        form = {"csrfmiddlewaretoken": csrf_token(self.form_page), **grades}
        if self.post(self.path, form, "teacher: grade save", redirect_to=self.path):
            note(self.stage, "grades saved", len(grades))


class RegistrarQueueUser(SersUser):
    """The transcription queue: ready to post (most of the time), waiting, transcribed."""

    stage = "registrar-queue"

    def on_start(self):
        if not self.sign_in(POOLS["registrars"].take(), "setup: sign in"):
            raise StopUser
        user_ready(self.stage)

    @task
    def queue(self):
        view = random.choice(("ready", "ready", "ready", "waiting", "transcribed"))
        self.page(f"/registrar/queue/?view={view}", "registrar: queue")


STAGE_USERS = {
    "ceiling": HealthzUser,
    "ceiling-session": SignedInHealthzUser,
    "registration-surge": RegistrationSurgeUser,
    "grading-surge": GradingSurgeUser,
    "dashboard": DashboardUser,
    "class-list": ClassListUser,
    "registration-post": RegistrationPostUser,
    "roster": RosterUser,
    "grade-save": GradeSaveUser,
    "search": SearchUser,
    "registrar-queue": RegistrarQueueUser,
}
DEFAULT_STAGES = list(STAGE_USERS)


class Stages(LoadTestShape):
    """The stages one after another, -u users each, -t shared evenly, a short gap between."""

    use_common_options = True

    def __init__(self):
        super().__init__()
        wanted = os.environ.get("SERS_BENCH_STAGES", "")
        names = [n.strip() for n in wanted.split(",") if n.strip()] or DEFAULT_STAGES
        unknown = [n for n in names if n not in STAGE_USERS]
        if unknown:
            raise SystemExit(f"locustfile: unknown stages {unknown}; known: {list(STAGE_USERS)}")
        self.names = names
        self.current = -1

    def _plan(self) -> tuple[int, float, float]:
        options = self.runner.environment.parsed_options
        users = max(1, int(options.num_users or 1))
        rate = float(options.spawn_rate or users)
        total = float(options.run_time or 60 * len(self.names))
        per_stage = max(5.0, (total - 1.0) / len(self.names) - GAP_SECONDS)
        return users, rate, per_stage

    def tick(self):
        users, rate, per_stage = self._plan()
        elapsed = self.get_run_time()
        index = int(elapsed // (per_stage + GAP_SECONDS))
        if index >= len(self.names):
            self._finish(self.current)
            return None
        name = self.names[index]
        in_gap = elapsed - index * (per_stage + GAP_SECONDS) >= per_stage
        if index != self.current:
            self._finish(self.current)
            self.current = index
            STAGES[name] = StageResult(
                name=name, users=users, seconds=per_stage, started=time.time()
            )
        if in_gap:
            self._finish(index)
            return (0, rate, [STAGE_USERS[name]])
        return (users, rate, [STAGE_USERS[name]])

    def _finish(self, index: int) -> None:
        if 0 <= index < len(self.names):
            stage = STAGES.get(self.names[index])
            if stage is not None and not stage.ended:
                stage.ended = time.time()
