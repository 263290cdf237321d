"""The API for college systems, version 1 (/api/v1/): django-ninja endpoints, thin as
views are (parse, call a selector or a service, log the access, answer). The OpenAPI
document is /api/v1/openapi.json, the interactive docs /api/v1/docs.

Every answer is JSON; every error is {"detail": "..."} (invalid input also lists each
field's problem in "errors"), with 400 for bad input (wrong types, unknown fields or
query parameters, a query parameter given twice, a malformed cursor, a page size over
the maximum), 401 without a valid token, 404 for a credit that is not the token's
college's, 429 over the rate limit (with Retry-After). Every answer that shows
students' records is written to the student-record access log under the token's
creator.
"""

import datetime
import functools
import re
from typing import Annotated

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from accesslog.services import access_log_record
from accounts.models import Role

from . import cursors, selectors, services
from .auth import AuthenticationFailed, RateLimited, TokenAuth
from .schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    AgreementPage,
    CreditOut,
    CreditPage,
    Error,
)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
ERRORS = {400: Error, 401: Error, 429: Error}


class SersNinjaAPI(NinjaAPI):
    """django-ninja's API, answering in JSON everywhere under /api/v1/: also a method a
    path does not take (405, with Allow) and a path that is not a call (404)."""

    def create_response(self, request, data, *args, **kwargs):
        response = super().create_response(request, data, *args, **kwargs)
        # Students' records: never kept by a browser or a proxy.
        response["Cache-Control"] = "no-store"
        return response

    def _get_urls(self):
        # django-ninja's own list of URL patterns (NinjaAPI.urls), each view wrapped.
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = self._in_json(pattern.callback)
        return [*patterns, re_path(r"^.*$", self._in_json(_no_such_call), name="not-found")]

    def _in_json(self, view):
        @functools.wraps(view)
        def answer(request, *args, **kwargs):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                return _error(request, _("Not found: see /api/v1/openapi.json for the calls."), 404)
            if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
                allowed = response["Allow"]
                response = _error(
                    request,
                    _("This path takes only: %(methods)s.") % {"methods": allowed},
                    405,
                )
                response["Allow"] = allowed
            return response

        return answer


@csrf_exempt  # any method: the answer is the same 404
def _no_such_call(request, *args, **kwargs):
    raise Http404


api = SersNinjaAPI(
    title="SERS API for college systems",
    version="1",
    description=(
        "Credits ready for the college transcript, the acknowledgement of posted credits, "
        "and the college's active agreements. Sign in with an API token a registrar of "
        "the college created in SERS: `Authorization: Bearer <token>`."
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
)


# --- errors: always JSON, always {"detail": ...} ---------------------------------------------


def _error(request, detail: str, status: int, **extra):
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(AuthenticationFailed)
def _authentication_failed(request, exc: AuthenticationFailed):
    response = _error(request, exc.detail, 401)
    response["WWW-Authenticate"] = 'Bearer realm="SERS"'
    return response


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc):
    response = _error(request, _("The token is not valid."), 401)
    response["WWW-Authenticate"] = 'Bearer realm="SERS"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    response = _error(
        request,
        _("Too many calls: wait %(seconds)s seconds, then try again.")
        % {"seconds": exc.retry_after},
        429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _location(loc) -> str:
    parts = [str(part) for part in loc]
    return ".".join(parts) if parts else "request"


@api.exception_handler(NinjaValidationError)
def _invalid_input(request, exc: NinjaValidationError):
    errors = [
        {"location": _location(error.get("loc", ())), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    summary = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
    return _error(
        request, _("Invalid input: %(problems)s") % {"problems": summary}, 400, errors=errors
    )


@api.exception_handler(cursors.BadCursor)
def _bad_cursor(request, exc: cursors.BadCursor):
    return _error(request, str(exc), 400)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    detail = {
        400: _("The request body is not valid JSON."),
    }.get(exc.status_code, str(exc))
    return _error(request, detail, exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return _error(request, _("The request body is too large."), 400)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, _("Not found: no such credit at your college."), 404)


class BadRequest(Exception):
    """400, with the message in `detail`."""


@api.exception_handler(BadRequest)
def _bad_request(request, exc: BadRequest):
    return _error(request, str(exc), 400)


def _only(request, *names: str) -> None:
    """Refuse query parameters the endpoint does not know (a misspelt one would
    otherwise be ignored without a word), and one given more than once (only one of the
    values would count, without a word)."""
    unknown = sorted(set(request.GET) - set(names))
    if unknown:
        raise BadRequest(
            _("Unknown query parameter(s): %(names)s. This endpoint takes: %(known)s.")
            % {"names": ", ".join(unknown)[:200], "known": ", ".join(names) or "-"}
        )
    repeated = sorted(name for name, values in request.GET.lists() if len(values) > 1)
    if repeated:
        raise BadRequest(
            _("Query parameter(s) given more than once: %(names)s. Give each once.")
            % {"names": ", ".join(repeated)}
        )


def _log(request, *, what: str, student_ids) -> None:
    """The access-log entry of an answer that shows students' records: the token's creator
    acting as registrar, through the token."""
    ids = list(student_ids)
    if ids:
        client = request.auth
        access_log_record(
            actor=client.actor,
            action="view",
            what=f"API token {client.token.prefix}…: {what}",
            student_ids=ids,
            role=Role.REGISTRAR,
            request=request,
        )


# --- parameters --------------------------------------------------------------------------------


Cursor = Annotated[
    str | None,
    Field(description="The `next_cursor` of the previous page; leave out for the first."),
]
Limit = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Results per page, 1 to {MAX_PAGE_SIZE} (larger is refused with 400).",
    ),
]
ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})"
)


def _iso_datetime(value):
    """ISO 8601 with a time zone only (pydantic alone would also take "0.5": seconds
    since 1970)."""
    if value is None or (isinstance(value, str) and ISO_DATETIME.fullmatch(value)):
        return value
    raise ValueError("give a date and time in ISO 8601 with a time zone, e.g. 2026-12-01T00:00:00Z")


def _in_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    """In UTC, as the database compares it; a time whose UTC falls outside years 1 to
    9999 (0001-01-01T00:00:00+14:00) is refused rather than overflowing."""
    if value is None:
        return value
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("the date and time is out of range") from None


UpdatedSince = Annotated[
    AwareDatetime | None,
    BeforeValidator(_iso_datetime),
    AfterValidator(_in_utc),
    Field(
        description="Only credits that changed at or after this time (ISO 8601 with a time "
        "zone, e.g. 2026-12-01T00:00:00Z): what a system that polls asks for."
    ),
]


# --- credits -----------------------------------------------------------------------------------


@api.get(
    "/credits/ready",
    response={200: CreditPage, **ERRORS},
    url_name="credits_ready",
    summary="Credits ready for the transcript",
    tags=["credits"],
)
def credits_ready(
    request,
    cursor: Cursor = None,
    updated_since: UpdatedSince = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
):
    """The college's credits ready to post (the registrar's "ready" list): attained, fee
    paid or waived, email confirmed, not transcribed yet. Oldest change first; a credit
    that changes while you page appears again later, so de-duplicate by `id`."""
    _only(request, "cursor", "updated_since", "limit")
    after = (
        cursors.decode(selectors.CREDITS_CURSOR, cursor, shape=(datetime.datetime, int))
        if cursor
        else None
    )
    credits, next_after = selectors.credits_ready_page(
        access=request.auth.access, updated_since=updated_since, after=after, limit=limit
    )
    _log(
        request,
        what="credits ready for the transcript",
        student_ids=[credit["student_id"] for credit in credits],
    )
    return {
        "results": credits,
        "next_cursor": cursors.encode(selectors.CREDITS_CURSOR, *next_after)
        if next_after
        else None,
    }


# Before /credits/{credit_id}: the first path that matches gets the request.
@api.post(
    "/credits/acknowledgements",
    response={200: AcknowledgementOut, **ERRORS},
    url_name="credits_acknowledge",
    summary="Acknowledge posted credits",
    tags=["credits"],
)
def credits_acknowledge(request, acknowledgement: AcknowledgementIn):
    """Mark credits the college posted as transcribed, each with the student's college
    id and the posting date. Safe to send again: a credit already transcribed is
    answered `already_transcribed` and not changed. A credit that is not ready (or not
    the college's) is refused with its reasons; the others still go through. Each item
    is answered, in order; a credit listed twice is marked once, by its first listing."""
    _only(request)
    results = services.credits_acknowledge(client=request.auth, items=acknowledgement.items)
    # Every item of a credit of the college shows its student: the college id and date
    # recorded, or why it was refused (a credit not found shows no one).
    _log(
        request,
        what="credits acknowledged",
        student_ids=[result.student_id for result in results if result.student_id is not None],
    )
    counts = {"transcribed": 0, "already_transcribed": 0, "refused": 0}
    for result in results:
        counts[result.outcome] += 1
    return {"results": results, "counts": counts}


@api.get(
    "/credits/{credit_id}",
    response={200: CreditOut, 404: Error, **ERRORS},
    url_name="credit",
    summary="One credit",
    tags=["credits"],
)
def credit(request, credit_id: Annotated[int, Field(ge=1, le=2**63 - 1)]):
    """One credit of the college, in any status, with why it is not ready yet."""
    _only(request)
    found = selectors.credit_get(access=request.auth.access, credit_id=credit_id)
    _log(request, what="credit", student_ids=[found["student_id"]])
    return found


# --- agreements --------------------------------------------------------------------------------


@api.get(
    "/agreements",
    response={200: AgreementPage, **ERRORS},
    url_name="agreements",
    summary="The college's active agreements",
    tags=["agreements"],
)
def agreements(request, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE):
    """The college's active agreements: the high-school course, the college courses it
    counts as, the minimum grade, the school years and high schools."""
    _only(request, "cursor", "limit")
    after = cursors.decode(selectors.AGREEMENTS_CURSOR, cursor, shape=(int,))[0] if cursor else None
    page, next_after = selectors.agreements_active_page(
        access=request.auth.access, after=after, limit=limit
    )
    return {
        "results": page,
        "next_cursor": cursors.encode(selectors.AGREEMENTS_CURSOR, next_after)
        if next_after
        else None,
    }
