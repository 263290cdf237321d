"""The request id: one per request, on every log line, and carried into its Celery tasks.

The id comes from the incoming `X-Request-ID` header when that is a safe token (a proxy
in front may set one), else it is made here; the response returns it in `X-Request-ID`.
`RequestIdMiddleware` (first in MIDDLEWARE) keeps it, and the request, in a context
variable that the log formatters read (sers/logs.py), and tags the Sentry scope with it.

A task sent while a request runs carries the id, and the signed-in user's id, in its
message headers (`before_task_publish`); the worker restores them for the task's run
(`task_prerun`, undone on `task_postrun`) along with the task's name and id. A task run
in-process (CELERY_TASK_ALWAYS_EAGER: the demo, the tests) publishes nothing: it runs in
the request's own context, so the id is simply still set. A task with no request behind
it (beat) gets an id of its own, which the tasks it sends carry in turn.

Only ids travel: never a name, an email address or a birth date.
"""

import re
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from django.utils.functional import empty

HEADER = "X-Request-ID"
TASK_REQUEST_ID = "sers_request_id"  # task message headers
TASK_USER_ID = "sers_user_id"
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


@dataclass(frozen=True)
class Context:
    request_id: str | None = None
    request: Any = None  # the HttpRequest, for its user once authenticated
    user_id: int | None = None  # a task's: the user whose request sent it
    task_name: str | None = None
    task_id: str | None = None


_current: ContextVar[Context] = ContextVar("sers_log_context", default=Context())  # noqa: B039


def new_request_id() -> str:
    return uuid.uuid4().hex


def safe_request_id(value: str | None) -> str:
    """The incoming id if it is a safe token, else a new one."""
    if value and SAFE_ID.fullmatch(value):
        return value
    return new_request_id()


def current() -> Context:
    return _current.get()


def current_request_id() -> str | None:
    return _current.get().request_id


def current_user_id() -> int | None:
    """The signed-in user's id, without loading the user: None until authentication
    middleware (or a view) has looked the user up, and for anonymous visitors."""
    context = _current.get()
    if context.user_id is not None:
        return context.user_id
    request = context.request
    if request is None:
        return None
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)  # SimpleLazyObject: not evaluated yet
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return getattr(wrapped, "pk", None)


def bind(context: Context) -> Token:
    return _current.set(context)


def unbind(token: Token) -> None:
    _current.reset(token)


def _tag_sentry(request_id: str) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - a dependency, always installed
        return
    if sentry_sdk.is_initialized():
        sentry_sdk.set_tag("request_id", request_id)


class RequestIdMiddleware:
    """First in MIDDLEWARE: every log line of the request carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = safe_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        token = bind(Context(request_id=request_id, request=request))
        _tag_sentry(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind(token)
        response[HEADER] = request_id
        return response


# --- Celery -------------------------------------------------------------------------------

# The token of a task's context is kept on its request (one per run, dropped after it).
_CONTEXT_ATTR = "_sers_log_context_token"


def _before_task_publish(sender=None, headers=None, **kwargs) -> None:
    if headers is None:
        return
    request_id = current_request_id()
    if request_id:
        headers.setdefault(TASK_REQUEST_ID, request_id)
    user_id = current_user_id()
    if user_id is not None:
        headers.setdefault(TASK_USER_ID, user_id)


def _header(task_request, name: str):
    value = getattr(task_request, name, None)
    if value is None:
        value = (getattr(task_request, "headers", None) or {}).get(name)
    return value


def _task_prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    task = task or sender
    outer = current()
    request_id, user_id = None, None
    if task is not None:
        request_id = _header(task.request, TASK_REQUEST_ID)
        user_id = _header(task.request, TASK_USER_ID)
    if not (isinstance(request_id, str) and SAFE_ID.fullmatch(request_id)):
        request_id = outer.request_id or new_request_id()
    if not isinstance(user_id, int):
        user_id = None
    context = Context(
        request_id=request_id,
        # Run in-process (eager): still inside the request that sent the task.
        request=outer.request,
        user_id=user_id if user_id is not None else outer.user_id,
        task_name=getattr(task, "name", None),
        task_id=task_id,
    )
    if task is not None:
        setattr(task.request, _CONTEXT_ATTR, bind(context))


# An eager task that raises (CELERY_TASK_EAGER_PROPAGATES) skips task_postrun: its context
# then stays until the request ends, when the middleware restores the one before it.
def _task_postrun(sender=None, task_id=None, task=None, **kwargs) -> None:
    task = task or sender
    token = getattr(task.request, _CONTEXT_ATTR, None) if task is not None else None
    if token is None:
        return
    setattr(task.request, _CONTEXT_ATTR, None)
    try:
        unbind(token)
    except ValueError:  # set in another context (should not happen): forget it
        _current.set(Context())


def connect_celery_signals() -> None:
    """Called once by sers/celery.py."""
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, dispatch_uid="sers.request_id")
    signals.task_prerun.connect(_task_prerun, dispatch_uid="sers.request_id")
    signals.task_postrun.connect(_task_postrun, dispatch_uid="sers.request_id")
