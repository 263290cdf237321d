"""Structured logs (sers/logs.py, sers/request_id.py): a request id on every line, the
signed-in user's id and never a student's (or anyone's) name, email or birth date."""

import datetime
import json
import logging
import re

import pytest
from celery import shared_task
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

import sers.urls
from accounts.models import User
from enrollment.models import StudentProfile
from sers import logs
from sers import request_id as request_context
from tests.factories import UserFactory
from tests.scale import test_school_year_e2e as school_year
from tests.test_settings import run_python

logger = logging.getLogger("tests.ops.logs")

HEX_ID = re.compile(r"[0-9a-f]{32}")
# The test data builders' own debug lines (factory_boy prints the objects it makes): they
# run in the tests, never in the application.
TEST_ONLY_LOGGERS = frozenset({"factory", "faker"})


@pytest.fixture(autouse=True)
def _fresh_log_context():
    """Each test starts outside any request or task, whatever an earlier test left bound
    in this thread (some send task_prerun by hand, without its task_postrun)."""
    token = request_context.bind(request_context.Context())
    yield
    request_context.unbind(token)


# --- capturing every record, formatted as production formats it ----------------------------


class Capture(logging.Handler):
    """Keeps each record's JSON line (formatted when emitted, in the thread and context
    that logged it) and its raw message."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[str] = []
        self.raw: list[str] = []
        self.names: list[str] = []
        self.seen: set[int] = set()

    def emit(self, record):
        if id(record) in self.seen:  # reached through two loggers
            return
        if record.name.split(".")[0] in TEST_ONLY_LOGGERS:
            return
        self.seen.add(id(record))
        self.lines.append(self.format(record))
        self.raw.append(record.getMessage())
        self.names.append(record.name)

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def captured():
    """Every logger at DEBUG, a capturing handler on the root logger and on the loggers
    that matter most directly (django.request, celery), for the length of the test."""
    handler = Capture()
    loggers = [logging.getLogger(name) for name in ("", "django.request", "django", "celery")]
    loggers += [
        known
        for known in logging.root.manager.loggerDict.values()
        if isinstance(known, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger_ in loggers:
        logger_.setLevel(logging.DEBUG)
    for name in ("", "django.request", "celery", "django.server"):
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in ("", "django.request", "celery", "django.server"):
            logging.getLogger(name).removeHandler(handler)
        for logger_, level in levels.items():
            logger_.setLevel(level)


# --- the whole school year, and no personal data in its logs -----------------------------------


def personal_data() -> list[re.Pattern]:
    """Patterns for everyone's names, email addresses and birth dates in the database."""
    full, words, emails, dates = set(), set(), set(), set()
    for user in User.objects.all():
        emails.add(user.email)
        if user.first_name and user.last_name:
            full.add(f"{user.first_name} {user.last_name}")
            full.add(f"{user.last_name}, {user.first_name}")
        words.update(n for n in (user.first_name, user.last_name) if len(n) >= 4)
    for student in StudentProfile.objects.all():
        names = [student.legal_first_name, student.legal_middle_name, student.legal_last_name]
        full.add(student.legal_name)
        full.add(f"{student.legal_last_name}, {student.legal_first_name}")
        words.update(n for n in names if n and len(n) >= 4)
        birth = student.birth_date
        dates.update(
            {
                birth.isoformat(),
                birth.strftime("%m/%d/%Y"),
                f"{birth.month}/{birth.day}/{birth.year}",
                f"{birth.month}/{birth.day}/{birth:%y}",
                f"{birth:%B} {birth.day}, {birth.year}",  # as the pages write it
            }
        )
    for found in (full, words, emails, dates):
        assert found, "no personal data: the flow did not run"
    # What the returning student typed when he tried to sign up again (caught, not saved).
    emails.add("jonreyes.new@example.net")
    patterns = [re.compile(re.escape(value), re.IGNORECASE) for value in full | emails]
    patterns += [re.compile(rf"(?<![\w/-]){re.escape(value)}(?![\w/-])") for value in dates]
    patterns += [re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE) for word in words]
    return patterns


def leaks(names: list[str], texts: list[str], patterns: list[re.Pattern]) -> list[str]:
    """One line per logger and pattern found (with the first text it is in)."""
    found: dict[tuple[str, str], str] = {}
    for name, text in zip(names, texts, strict=True):
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                start = max(match.start() - 150, 0)
                found.setdefault((name, pattern.pattern), text[start : match.end() + 150])
    return [f"{name}: {pattern!r} in ...{text!r}..." for (name, pattern), text in found.items()]


@pytest.mark.browser
def test_a_whole_school_year_logs_no_personal_data(
    browser, live_server, django_db_serialized_rollback, settings, captured
):
    school_year.test_a_whole_school_year(
        browser, live_server, django_db_serialized_rollback, settings
    )
    patterns = personal_data()
    lines = captured.lines
    assert len(lines) > 50, "too few log lines: is the capture working?"
    # The lines as a log collector receives them, decoded (non-ASCII names are escaped).
    decoded = [json.dumps(json.loads(line), ensure_ascii=False) for line in lines]
    names = captured.names
    found = leaks(names * 2, lines + decoded, patterns)
    assert not found, "personal data in the log lines:\n" + "\n".join(found)
    # Stricter: not even in the messages as logged (before the formatter blanks emails).
    found = leaks(names, captured.raw, patterns)
    assert not found, "personal data in the logged messages:\n" + "\n".join(found)

    # Every line the apps wrote carries a request id (a request's, or a task's own), and
    # the signed-in users' lines their user id.
    ours = [
        r
        for r in captured.records
        if r["logger"].split(".")[0]
        in {"accounts", "accesslog", "organisations", "articulations", "enrollment", "reports"}
    ]
    assert ours
    assert [r for r in ours if not r["request_id"]] == []
    assert any(r["user_id"] for r in ours if r["message"].startswith("signed in"))
    registered = [r for r in ours if r["message"].startswith("registered: ")]
    assert len(registered) == 2
    assert all(r["user_id"] for r in registered)


# --- the request id ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_request_id_comes_back_in_the_response(client):
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="edge-proxy.0123_abcd")
    assert response["X-Request-ID"] == "edge-proxy.0123_abcd"


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_new_one(client):
    first = client.get(reverse("healthz"))["X-Request-ID"]
    second = client.get(reverse("healthz"))["X-Request-ID"]
    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "unsafe",
    [
        "short",  # under 8 characters
        "x" * 65,  # over 64
        "id with spaces",
        "<script>alert(1)</script>",
        "abc123\r\nSet-Cookie: x=1",
        "maya.okafor@example.net",
        "ïdéntité-12345",
    ],
)
@pytest.mark.django_db
def test_an_unsafe_incoming_id_is_replaced(client, unsafe):
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID=unsafe)
    assert HEX_ID.fullmatch(response["X-Request-ID"])


# A page that logs and starts a task (which logs too): the task's line has the same id.


@shared_task(name="tests.ops.logs.note")
def note(number: int) -> int:
    logger.info("task ran: number=%s", number)
    return number


def start_a_task(request):
    logger.info("view ran")
    note.delay(7)
    return HttpResponse("ok")


urlpatterns = [*sers.urls.urlpatterns, path("test-logs/task/", start_a_task)]


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_task_started_by_a_request_logs_the_same_request_id(captured, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    user = UserFactory(email="pat.logs@example.net", first_name="Patricia", last_name="Logsdon")
    client = Client()
    client.force_login(user)
    response = client.get("/test-logs/task/", HTTP_X_REQUEST_ID="req-task-0001")
    assert response.status_code == 200
    records = {r["message"]: r for r in captured.records}
    view, task = records["view ran"], records["task ran: number=7"]
    assert view["request_id"] == task["request_id"] == "req-task-0001"
    assert view["user_id"] == task["user_id"] == user.pk
    assert task["task_name"] == "tests.ops.logs.note"
    assert task["task_id"]
    assert "task_name" not in view
    # After the task, the rest of the request keeps its id; after the request, none is set.
    assert request_context.current_request_id() is None


def test_a_published_task_carries_the_id_to_the_worker(captured):
    """Sent to a broker, the id travels in the message headers (before_task_publish), and
    the worker restores it for the task (task_prerun) and forgets it after (postrun)."""
    headers: dict = {}
    token = request_context.bind(request_context.Context(request_id="req-broker-0002", user_id=42))
    try:
        request_context._before_task_publish(headers=headers)
    finally:
        request_context.unbind(token)
    assert headers == {"sers_request_id": "req-broker-0002", "sers_user_id": 42}

    # The worker's side: a fresh context, the message's headers.
    note.apply(args=[8], headers=headers)
    line = next(r for r in captured.records if r["message"] == "task ran: number=8")
    assert line["request_id"] == "req-broker-0002"
    assert line["user_id"] == 42
    assert line["task_name"] == "tests.ops.logs.note"
    assert request_context.current() == request_context.Context()


def test_a_task_with_no_request_gets_an_id_of_its_own(captured):
    note.apply(args=[9], headers={"sers_request_id": "not a safe id!"})
    line = next(r for r in captured.records if r["message"] == "task ran: number=9")
    assert HEX_ID.fullmatch(line["request_id"])
    assert line["user_id"] is None


# --- the JSON lines ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_lines_carry_the_user_id_not_the_email(captured, password):
    user = UserFactory(email="quinn.json@example.net", first_name="Quinn", last_name="Jsonson")
    client = Client()
    response = client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": password},
        HTTP_X_REQUEST_ID="req-login-0003",
    )
    assert response.status_code == 302
    signed_in = next(r for r in captured.records if r["message"].startswith("signed in"))
    assert signed_in["user_id"] == user.pk
    assert signed_in["request_id"] == "req-login-0003"
    assert set(signed_in) >= {"time", "level", "logger", "message", "request_id", "user_id"}
    assert signed_in["level"] == "INFO"
    assert signed_in["logger"] == "accounts.security"
    datetime.datetime.fromisoformat(signed_in["time"])
    for line in captured.lines:
        assert "quinn.json@example.net" not in line
        assert "Jsonson" not in line


def test_the_formatter_keeps_numbers_and_drops_what_could_be_a_name():
    formatter = logs.JsonFormatter()
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x/",), None
    )
    record.status_code = 404
    record.request = "<WSGIRequest: GET '/search/?q=Okafor'>"
    line = json.loads(formatter.format(record))
    assert line["status_code"] == 404
    assert "request" not in line
    assert line["message"] == "Not Found: /x/"
    assert line["request_id"] is None

    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "duplicate key\nDETAIL:  Key (email)=(maya.okafor@example.net) already exists. cc %s",
        ("sam@example.edu",),
        None,
    )
    line = json.loads(formatter.format(record))
    assert "example" not in line["message"]
    assert "Key (email)=([hidden])" in line["message"]

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"GET /search/?q=Okafor HTTP/1.1" 200 5',
        (),
        None,
    )
    assert "Okafor" not in json.loads(formatter.format(record))["message"]


def test_the_plain_format_shows_the_request_id():
    formatter = logs.PlainFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    token = request_context.bind(request_context.Context(request_id="req-plain-0004", user_id=5))
    try:
        text = formatter.format(record)
    finally:
        request_context.unbind(token)
    assert text.endswith("INFO x [req-plain-0004 user=5] hello")


# --- settings ------------------------------------------------------------------------------------


def _logging_of(module: str, **env) -> str:
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console']['formatter'])"
    )
    result = run_python(["-c", script], DJANGO_SETTINGS_MODULE=module, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_logs_json_and_development_plain():
    from tests.test_settings import GOOD_PRODUCTION_ENV

    production = {k: v for k, v in GOOD_PRODUCTION_ENV.items() if k != "DJANGO_SETTINGS_MODULE"}
    assert _logging_of("sers.settings.production", **production) == "json json"
    assert _logging_of("sers.settings.production", **production, LOG_FORMAT="plain") == (
        "plain plain"
    )
    assert _logging_of("sers.settings.dev") == "plain plain"
    assert _logging_of("sers.settings.test") == "plain plain"


def test_an_unknown_log_format_is_refused():
    result = run_python(
        ["-c", "import django; django.setup()"],
        DJANGO_SETTINGS_MODULE="sers.settings.dev",
        LOG_FORMAT="xml",
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of json, plain" in result.stderr
