"""Error reporting to Sentry, with the students' data taken out before an event leaves.

`init_sentry()` is called by the settings when SENTRY_DSN is set (never otherwise). The
SDK collects no personal data of its own (`data_collection`, which replaces
`send_default_pii=False`), and `scrub_event`
(before_send and before_send_transaction) removes what could still hold some:

- the request: its body, cookies, query string and environment; of its headers only
  Host, Content-Type, Content-Length, Accept and X-Request-ID stay;
- the user: only the id (the signed-in user's id is added when the SDK has none);
- any value under a key naming a person's data (first_name, last_name, legal_*,
  birth_date, email, phone, address, sers_id, password...), anywhere in the event;
- local variables of the stack frames: only numbers, booleans and None stay (an id
  helps; a string or an object's repr may be a name);
- breadcrumbs and spans: SQL keeps its shape, not its quoted values or parameters;
- in every remaining string, email addresses and the values PostgreSQL quotes in a
  constraint error ("Key (email)=(...)").

Each event is tagged with the request id (X-Request-ID, sers/request_id.py), and in a
Celery task with the task's name, so an error can be found in the logs.
"""

import re
from typing import Any

from sers import request_id as context

FILTERED = "[Filtered]"
SAFE_HEADERS = frozenset({"host", "content-type", "content-length", "accept", "x-request-id"})
SENSITIVE_KEY = re.compile(
    r"first_?name|last_?name|middle_?name|full_?name|preferred_?name|nick_?name|legal_"
    r"|user_?name|birth|dob|e_?mail|phone|address|street|postal|zip|sers_?id"
    r"|college_student_id|student_number|ssn|password|passwd|secret|token|cookie"
    r"|session|csrf|authorization|api_?key|signature",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?:[^()]|\([^)]*\))*\)")
_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")
_PLAIN_VALUE = re.compile(r"-?\d{1,18}(?:\.\d+)?|True|False|None")


def init_sentry(
    *, dsn: str, environment: str, release: str | None, traces_sample_rate: float, **options
) -> None:
    """Start the SDK (settings call this only with a DSN). `options` are for the tests
    (a transport that records the events)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        # send_default_pii=False, in the SDK's newer terms (it deprecates that flag): no
        # user details, cookies, bodies, query strings, queries' values or queue payloads.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(SAFE_HEADERS)}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "gen_ai": {"inputs": False, "outputs": False},
            "graphql": {"document": False, "variables": False},
            # Kept for the ids among them; scrub_event drops every other value.
            "stack_frame_variables": True,
        },
        max_request_body_size="never",
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )


# --- scrubbing ---------------------------------------------------------------------------------


def scrub_text(text: str) -> str:
    text = _EMAIL.sub(FILTERED, text)
    return _PG_KEY.sub(lambda m: f"Key ({m['cols']})=({FILTERED})", text)


def _scrub_sql(text: str) -> str:
    return scrub_text(_SQL_LITERAL.sub("'?'", text))


def _scrub(value: Any, key: str = "") -> Any:
    """Values under sensitive keys blanked, frame locals reduced, strings scrubbed."""
    if key and SENSITIVE_KEY.search(key):
        return FILTERED
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "vars" and isinstance(v, dict):
                out[k] = _locals(v)
            else:
                out[k] = _scrub(v, str(k))
        return out
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _kept_local(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    # The SDK sends each variable as its repr: a string shows in quotes, an object as
    # <...>; a bare number, True, False or None was one.
    return isinstance(value, str) and bool(_PLAIN_VALUE.fullmatch(value))


def _locals(variables: dict) -> dict:
    """A frame's local variables: numbers, booleans and None only."""
    return {name: value if _kept_local(value) else FILTERED for name, value in variables.items()}


def _scrub_request(request: dict) -> dict:
    headers = request.get("headers") or {}
    kept = {
        "method": request.get("method"),
        "url": (request.get("url") or "").split("?", 1)[0] or None,
        "headers": {k: scrub_text(str(v)) for k, v in headers.items() if k.lower() in SAFE_HEADERS},
    }
    return {k: v for k, v in kept.items() if v}


def _scrub_crumb_or_span(item: dict, text_key: str) -> dict:
    sql = item.get("category") == "query" or str(item.get("op", "")).startswith("db")
    item = dict(item)
    if isinstance(item.get(text_key), str):
        item[text_key] = _scrub_sql(item[text_key]) if sql else scrub_text(item[text_key])
    data = item.get("data")
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "db.params"}
        item["data"] = _scrub(data)
    return item


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return _scrub_crumb_or_span(crumb, "message")


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    event = dict(event)
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    user = event.get("user") or {}
    user_id = user.get("id") or context.current_user_id()
    event["user"] = {"id": str(user_id)} if user_id is not None else {}
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict) and isinstance(crumbs.get("values"), list):
        event["breadcrumbs"] = {
            **crumbs,
            "values": [scrub_breadcrumb(c) for c in crumbs["values"] if isinstance(c, dict)],
        }
    if isinstance(event.get("spans"), list):
        event["spans"] = [
            _scrub_crumb_or_span(s, "description") for s in event["spans"] if isinstance(s, dict)
        ]
    skip = {"request", "user", "breadcrumbs", "spans"}
    for key, value in list(event.items()):
        if key not in skip:
            event[key] = _scrub(value, "" if key in ("exception", "threads") else key)
    tags = dict(event.get("tags") or {})
    current = context.current()
    if current.request_id and "request_id" not in tags:
        tags["request_id"] = current.request_id
    if current.task_name and "celery_task" not in tags:
        tags["celery_task"] = current.task_name
    if tags:
        event["tags"] = tags
    return event
