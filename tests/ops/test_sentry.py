"""Error reporting (sers/sentry.py): a real event, captured from a failing page, holds the
exception and the request id but none of the student's data the request carried."""

import datetime
import json
import logging
import re

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from sentry_sdk.transport import Transport

import sers.urls
from enrollment.models import StudentProfile
from sers import request_id as request_context
from sers.sentry import FILTERED, init_sentry, scrub_event
from tests.test_settings import GOOD_PRODUCTION_ENV, run_python

# The student's data, kept far from the code below: an event carries the source lines
# around each frame, and those should show code, not these values.
FIRST, LAST = "Marisol", "Quintanilla"
EMAIL = "marisol.quintanilla@example.net"
BIRTH = datetime.date(2009, 5, 17)
PHONE = "360-555-0147"
PERSONAL = [FIRST, LAST, EMAIL, PHONE, "2009-05-17", "05/17/2009", "5/17/2009", "May 17, 2009"]


@pytest.fixture(autouse=True)
def _fresh_log_context():
    """Each test starts outside any request or task, whatever an earlier test left bound
    in this thread (some send task_prerun by hand, without its task_postrun)."""
    token = request_context.bind(request_context.Context())
    yield
    request_context.unbind(token)


logger = logging.getLogger("tests.ops.sentry")


class Recording(Transport):
    """Keeps the envelopes the SDK would send."""

    def __init__(self):
        super().__init__()
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    @property
    def events(self) -> list[dict]:
        return [e.get_event() or e.get_transaction_event() for e in self.envelopes]


@pytest.fixture
def sentry():
    """The SDK as production starts it, sending to a recording transport; closed after,
    so the rest of the suite runs without it."""
    transport = Recording()
    init_sentry(
        dsn="https://public@sentry.invalid/1",
        environment="test",
        release="test-release",
        traces_sample_rate=0.0,
        transport=transport,
    )
    try:
        with sentry_sdk.isolation_scope():
            yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


# --- a page that fails with a student's data in hand ---------------------------------------------


def check_student(legal_first_name, legal_last_name, email, birth_date, phone):
    student = {
        "legal_first_name": legal_first_name,
        "legal_last_name": legal_last_name,
        "email": email,
        "birth_date": birth_date,
    }
    profile = StudentProfile(
        legal_first_name=legal_first_name, legal_last_name=legal_last_name, phone=phone
    )
    row = [legal_first_name, legal_last_name, email, birth_date, profile]
    attempts = 3
    assert student
    assert row
    assert attempts
    raise ValueError(f"duplicate key value\nDETAIL:  Key (email)=({email}) already exists.")


@csrf_exempt  # the WSGI case has no test client to skip the check
def failing_sign_up(request):
    first = request.POST["legal_first_name"]
    last = request.POST["legal_last_name"]
    email = request.POST["email"]
    birth = datetime.date.fromisoformat(request.POST["birth_date"])
    StudentProfile.objects.filter(legal_last_name=last, birth_date=birth).exists()
    sentry_sdk.set_user({"id": 5, "email": email, "username": f"{first} {last}"})
    sentry_sdk.set_context("student", {"legal_first_name": first, "phone": request.POST["phone"]})
    sentry_sdk.set_extra("student_email", email)
    sentry_sdk.add_breadcrumb(
        category="query",
        message=f"SELECT 1 FROM student WHERE legal_last_name = '{last}'",  # noqa: S608
        data={"db.params": [last], "birth_date": str(birth)},
    )
    logger.warning("sign-up check failed for %s", email)
    check_student(first, last, email, birth, request.POST["phone"])


urlpatterns = [*sers.urls.urlpatterns, path("test-sentry/sign-up/", failing_sign_up)]


FORM = {
    "legal_first_name": FIRST,
    "legal_last_name": LAST,
    "email": EMAIL,
    "birth_date": BIRTH.isoformat(),
    "phone": PHONE,
}
URL = f"/test-sentry/sign-up/?q={LAST}&email={EMAIL}"
HEADERS = {
    "HTTP_X_REQUEST_ID": "sentry-req-0001",
    "HTTP_X_STUDENT_NAME": f"{FIRST} {LAST}",
    "HTTP_REFERER": f"http://testserver/signup/?email={EMAIL}",
}


def through_the_test_client() -> int:
    client = Client(raise_request_exception=False)
    client.cookies["student"] = LAST
    return client.post(URL, FORM, **HEADERS).status_code


def through_the_wsgi_handler() -> int:
    """As gunicorn calls the app: Sentry's WSGI middleware adds the URL, the method, the
    headers, the query string and the environment to the event."""
    environ = RequestFactory().post(URL, FORM, HTTP_COOKIE=f"student={LAST}", **HEADERS).environ
    statuses = []
    # As Django's test client does: the test's transaction keeps its connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = WSGIHandler()(environ, lambda status, headers, *a: statuses.append(status))
        b"".join(body)
        body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(statuses[0].split()[0])


@pytest.mark.parametrize("send", [through_the_test_client, through_the_wsgi_handler])
@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_reported_error_holds_no_student_data(sentry, send):
    assert send() == 500
    errors = [e for e in sentry.events if e.get("exception")]
    assert len(errors) == 1
    event = errors[0]
    if send is through_the_wsgi_handler:
        assert event["request"]["method"] == "POST"
        assert event["request"]["url"].endswith("/test-sentry/sign-up/")
        assert event["request"]["headers"]["X-Request-Id"] == "sentry-req-0001"

    # What the event is for is still there.
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["tags"]["request_id"] == "sentry-req-0001"
    assert event["user"] == {"id": "5"}
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    check = next(f for f in frames if f["function"] == "check_student")
    assert check["vars"]["attempts"] in (3, "3")
    assert check["vars"]["legal_first_name"] == FILTERED

    # And none of the student's data, anywhere.
    text = json.dumps(event, ensure_ascii=False, default=str)
    found = [value for value in PERSONAL if re.search(re.escape(value), text, re.IGNORECASE)]
    assert found == [], json.dumps(event, indent=1, default=str)[:20000]
    for removed in ("data", "cookies", "query_string", "env"):
        assert removed not in event["request"]
    assert set(event["request"].get("headers", {})) <= {
        "Host",
        "Content-Type",
        "Content-Length",
        "Accept",
        "X-Request-Id",
    }


# --- the scrubber on what the SDK sends besides errors ------------------------------------------


def test_transactions_keep_the_shape_of_their_sql_not_its_values():
    event = {
        "type": "transaction",
        "transaction": "/students/<int:pk>/",
        "request": {"url": "https://sers/students/1/?q=Okafor", "query_string": "q=Okafor"},
        "user": {"id": 9, "email": "a@b.org", "ip_address": "10.0.0.1"},
        "spans": [
            {
                "op": "db",
                "description": "SELECT * FROM s WHERE last = 'Okafor' AND b = '2009-05-17'",
                "data": {"db.params": ["Okafor"], "db.system": "postgresql"},
            }
        ],
        "breadcrumbs": {"values": [{"category": "query", "message": "x = 'Okafor'"}]},
        "extra": {"celery-job": {"args": [1], "kwargs": {"email": "a@b.org", "student_id": 3}}},
    }
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed)
    assert "Okafor" not in text
    assert "2009" not in text
    assert "a@b.org" not in text
    assert "10.0.0.1" not in text
    assert scrubbed["spans"][0]["description"] == "SELECT * FROM s WHERE last = '?' AND b = '?'"
    assert scrubbed["spans"][0]["data"] == {"db.system": "postgresql"}
    assert scrubbed["user"] == {"id": "9"}
    assert scrubbed["extra"]["celery-job"]["kwargs"] == {"email": FILTERED, "student_id": 3}
    assert scrubbed["request"] == {"url": "https://sers/students/1/"}


# --- production starts it only with a DSN --------------------------------------------------------

SHOW_SENTRY = (
    "import django; django.setup(); import sentry_sdk; c = sentry_sdk.get_client(); "
    "from sentry_sdk.scope import should_send_default_pii; "
    "print(sentry_sdk.is_initialized(), should_send_default_pii(), "
    "c.options.get('traces_sample_rate'), c.options.get('environment'))"
)


def _production(**env):
    return run_python(["-c", SHOW_SENTRY], **{**GOOD_PRODUCTION_ENV, **env})


def test_production_reports_errors_only_with_a_dsn():
    without = _production()
    assert without.returncode == 0, without.stderr
    assert without.stdout.split()[0] == "False"

    with_dsn = _production(
        SENTRY_DSN="https://public@sentry.invalid/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert with_dsn.returncode == 0, with_dsn.stderr
    assert with_dsn.stdout.split() == ["True", "False", "0.25", "staging"]

    refused = _production(
        SENTRY_DSN="https://public@sentry.invalid/1", SENTRY_TRACES_SAMPLE_RATE="2"
    )
    assert refused.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE must be between" in refused.stderr
