"""The end-to-end flow of the CI Prometheus check (.ci/prometheus_check.sh): the demo's
people use the app under gunicorn over HTTP, a report job runs on the Celery worker, and
then Prometheus, which scraped both, must hold every series SERS promises (README:
Metrics). Exits 1 listing what is missing.

Runs with the same settings and database as the app (DJANGO_SETTINGS_MODULE and friends
from the environment) to find the demo's ids; every metric is made by the app or the
worker, never by this process. Environment: SERS_APP_URL, SERS_PROMETHEUS_URL.
"""

import http.cookiejar
import json
import os
import re
import sys
import time

import django
import requests

APP = os.environ["SERS_APP_URL"].rstrip("/")
PROMETHEUS = os.environ["SERS_PROMETHEUS_URL"].rstrip("/")
# What the TLS proxy says in production: the app redirects plain http to https otherwise.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Referer": f"https://{APP.split('://')[1]}/"}


class AnyScheme(http.cookiejar.DefaultCookiePolicy):
    """The session cookies are Secure (production); here the 'https' is the proxy header's."""

    def set_ok(self, cookie, request):
        return True


class Browser(requests.Session):
    """Keeps the Secure cookies and sends them back over the plain http of the test (the
    jar requests builds for each request would drop them). No redirects are followed."""

    def __init__(self):
        super().__init__()
        self.cookies.set_policy(AnyScheme())
        self.headers.update(PROXY_HEADERS)

    def request(self, method, url, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        if cookies:
            headers["Cookie"] = cookies
        kwargs["allow_redirects"] = False
        return super().request(method, url, headers=headers, **kwargs)


def browser() -> requests.Session:
    return Browser()


def csrf(session: requests.Session, path: str) -> tuple[str, str]:
    page = session.get(APP + path, timeout=30)
    page.raise_for_status()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    return (match.group(1) if match else ""), page.text


def post(session, path, data, form_page=None, **kwargs):
    token, _page = csrf(session, form_page or path)
    return session.post(
        APP + path,
        data={"csrfmiddlewaretoken": token, **data},
        timeout=30,
        **kwargs,
    )


def sign_in(session, email, password) -> int:
    return post(session, "/accounts/login/", {"username": email, "password": password}).status_code


def step(what: str) -> None:
    print(f"  - {what}", flush=True)


def run_flow() -> None:
    from accounts.models import User
    from demo.constants import DEMO_DOMAIN, DEMO_PASSWORD
    from enrollment.models import Enrollment, EnrollmentStatus, Section
    from reports import services as report_services
    from reports.models import ReportJob

    # Sign-ins: one that works, one that fails, and an account throttled after five.
    teacher = browser()
    assert sign_in(teacher, f"teacher@{DEMO_DOMAIN}", DEMO_PASSWORD) == 302, "teacher sign-in"
    step("the demo teacher signed in")
    stranger = browser()
    codes = [sign_in(stranger, "nobody@ci.sers.example", f"guess-{n}") for n in range(6)]
    assert codes[0] == 200, codes
    assert codes[-1] == 429, codes
    step(f"failed sign-ins, then throttled: {codes}")

    # A page twice: the page cache misses, then hits. Then a grade save.
    teacher_user = User.objects.get(email=f"teacher@{DEMO_DOMAIN}")
    enrollment = (
        Enrollment.objects.filter(
            section__teacher=teacher_user,
            status__in=[EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED],
        )
        .select_related("section__articulation")
        .order_by("-section__academic_year__start_date", "pk")
        .first()
    )
    assert enrollment is not None, "the demo teacher has no one to grade"
    section = enrollment.section
    roster = f"/teacher/classes/{section.pk}/"
    for _ in range(2):
        assert teacher.get(APP + roster, timeout=30).status_code == 200, "roster"
    step(f"the roster of class {section.pk} twice")
    grade = section.articulation.minimum_grade or "A"
    saved = post(teacher, f"{roster}grades/", {f"grade_{enrollment.pk}": grade})
    assert saved.status_code in (200, 302), f"grade save answered {saved.status_code}"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.GRADED, enrollment.status
    step(f"a grade saved ({grade})")

    # A registration, by the demo student, of a class the register page offers.
    student = browser()
    assert sign_in(student, f"student@{DEMO_DOMAIN}", DEMO_PASSWORD) == 302, "student sign-in"
    student_user = User.objects.get(email=f"student@{DEMO_DOMAIN}")
    before = Enrollment.objects.filter(student__user=student_user).count()
    _token, page = csrf(student, "/student/register/")
    school = re.search(r'name="school" value="(\d+)"', page)
    offered = re.findall(r'<input[^>]*name="sections" value="(\d+)"(?![^>]*disabled)', page)
    registered = False
    for section_id in offered:
        post(
            student,
            "/student/register/confirm/",
            {"school": school.group(1) if school else "", "sections": section_id},
            form_page="/student/register/",
        )
        if Enrollment.objects.filter(student__user=student_user).count() > before:
            registered = True
            break
    if not registered:
        # Nothing left to register for at the student's own school: a demo student who
        # has room, through the same page.
        for other in User.objects.filter(
            email__endswith=f"@{DEMO_DOMAIN}", student_profile__isnull=False
        ).exclude(pk=student_user.pk)[:20]:
            other_session = browser()
            if sign_in(other_session, other.email, DEMO_PASSWORD) != 302:
                continue
            count = Enrollment.objects.filter(student__user=other).count()
            _token, page = csrf(other_session, "/student/register/")
            school = re.search(r'name="school" value="(\d+)"', page)
            for section_id in re.findall(
                r'<input[^>]*name="sections" value="(\d+)"(?![^>]*disabled)', page
            )[:3]:
                post(
                    other_session,
                    "/student/register/confirm/",
                    {"school": school.group(1) if school else "", "sections": section_id},
                    form_page="/student/register/",
                )
                if Enrollment.objects.filter(student__user=other).count() > count:
                    registered = True
                    break
            if registered:
                break
    assert registered, "no demo student could register for a class"
    step("a registration")

    # A report job, run by the worker (its task goes through Redis).
    state = User.objects.get(email=f"state@{DEMO_DOMAIN}")
    job = report_services.enrollments_export_request(
        requester=state, academic_year=None, file_format="csv"
    )
    for _ in range(60):
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.5)
    assert job.status == ReportJob.Status.DONE, f"report job {job.pk}: {job.status}"
    step(f"report job {job.pk} done by the worker ({job.row_count} rows)")
    assert Section.objects.exists()


# The series SERS promises, each a PromQL query that must answer at least one sample > 0
# (or, with "any", a sample at all).
REQUIRED = [
    ('up{job="sers-web"}', "positive"),
    ('up{job="sers-worker"}', "positive"),
    (
        'django_http_requests_latency_seconds_by_view_method_count{view="enrollment:teacher_roster"}',
        "positive",
    ),
    ("django_http_responses_total_by_status_view_method_total", "positive"),
    ('django_http_responses_total_by_status_view_method_total{status="429"}', "positive"),
    ('sers_db_queries_per_request_count{view="enrollment:teacher_roster"}', "positive"),
    ('sers_page_cache_requests_total{page="roster",result="miss"}', "positive"),
    ('sers_page_cache_requests_total{page="roster",result="hit"}', "positive"),
    ("sers_sign_ins_total", "positive"),
    ("sers_sign_in_failures_total", "positive"),
    ("sers_sign_ins_throttled_total", "positive"),
    ("sers_registrations_total", "positive"),
    ("sers_grade_saves_total", "positive"),
    ("sers_grades_saved_total", "positive"),
    ('sers_celery_tasks_total{job="sers-worker",state="SUCCESS"}', "positive"),
    ('sers_celery_task_duration_seconds_count{task="reports.tasks.run_report_job"}', "positive"),
    ('sers_celery_queue_length{queue="celery"}', "any"),
    ('sers_report_jobs{status="done"}', "positive"),
    ('sers_report_job_duration_seconds_count{outcome="done"}', "positive"),
    ('sers_emails_total{outcome="sent"}', "positive"),
    ("sers_scheduled_job_last_success_age_seconds", "any"),
]


def query(expression: str) -> list:
    answer = requests.get(f"{PROMETHEUS}/api/v1/query", params={"query": expression}, timeout=10)
    answer.raise_for_status()
    body = answer.json()
    if body.get("status") != "success":
        raise RuntimeError(body)
    return body["data"]["result"]


def missing_series() -> list[str]:
    missing = []
    for expression, need in REQUIRED:
        results = query(expression)
        values = [float(r["value"][1]) for r in results]
        if not values or (need == "positive" and not any(v > 0 for v in values)):
            missing.append(f"{expression} -> {values or 'no series'}")
    return missing


def dashboard_errors() -> list[str]:
    """Every query of the Grafana dashboard (deploy/grafana/sers.json) parses and runs."""
    path = os.path.join(os.path.dirname(__file__), "..", "deploy", "grafana", "sers.json")
    with open(path) as handle:
        dashboard = json.load(handle)
    errors = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expression = target["expr"].replace("$__rate_interval", "1m").replace("$job", ".*")
            answer = requests.get(
                f"{PROMETHEUS}/api/v1/query", params={"query": expression}, timeout=10
            )
            if answer.status_code != 200 or answer.json().get("status") != "success":
                errors.append(f"{panel['title']}: {expression}: {answer.text[:200]}")
    return errors


def main() -> int:
    django.setup()
    print("flow against", APP, flush=True)
    run_flow()
    print("asking Prometheus at", PROMETHEUS, flush=True)
    deadline = time.monotonic() + 30
    while True:
        missing = missing_series()
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    for expression, _need in REQUIRED:
        results = query(expression)
        shown = ", ".join(f"{r['metric'].get('job', '')}={r['value'][1]}" for r in results[:3])
        print(f"  {expression}: {shown or '-'}")
    if missing:
        print("MISSING from Prometheus:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    errors = dashboard_errors()
    if errors:
        print("the Grafana dashboard's queries fail:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    print("every query of deploy/grafana/sers.json runs")
    print(f"all {len(REQUIRED)} required series are in Prometheus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
