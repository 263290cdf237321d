"""Log lines: JSON in production, plain text in development; never a student's data.

Every record gets the request id and, when someone is signed in, their user id (never a
name, email address or birth date), and in a Celery task the task's name and id
(`RequestContextFilter`, from sers/request_id.py). LOG_FORMAT picks the formatter:

- `JsonFormatter`: one JSON object per line with time, level, logger, message,
  request_id, user_id (and task_name, task_id in a task), the traceback as exc_info, and
  of any `extra=` only the values that are numbers or booleans (status_code...): an extra
  string or object (Django's `request`) could hold a name, so it is left out.
- `PlainFormatter`: a readable line for the console, with the request id.

Both also blank what slips into a message from elsewhere: email addresses, the values
PostgreSQL quotes in a constraint error ("Key (email)=(...)"), and query strings in the
request lines of the development server.
"""

import copy
import logging
import re
import traceback
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from sers import request_id as context

CONTEXT_FIELDS = ("request_id", "user_id", "task_name", "task_id")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?:[^()]|\([^)]*\))*\)")
_QUERY = re.compile(r"(?P<path>\s/\S*?)\?\S*")
_REQUEST_LINE_LOGGERS = frozenset({"django.server", "gunicorn.access"})
# Loggers whose exceptions' messages quote whole objects: Django's templates log (DEBUG) a
# failed variable lookup with the template's context in the message, users and students
# included. Their tracebacks keep the frames and exception types, not the messages.
_HIDE_EXCEPTION_MESSAGES = frozenset({"django.template"})


def add_context(record: logging.LogRecord) -> logging.LogRecord:
    """The request id, user id and task of the current context, unless already set."""
    current = context.current()
    values = {
        "request_id": current.request_id,
        "user_id": context.current_user_id(),
        "task_name": current.task_name,
        "task_id": current.task_id,
    }
    for name, value in values.items():
        if name not in record.__dict__:
            setattr(record, name, value)
    return record


def exception_without_messages(exc_info) -> str:
    """A traceback with each exception's type and frames but not its message."""
    parts, seen = [], set()
    exc = exc_info[1]
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = type(exc)
        parts.append(
            "Traceback (most recent call last):\n"
            + "".join(traceback.format_tb(exc.__traceback__))
            + f"{kind.__module__}.{kind.__qualname__}: [message hidden]"
        )
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nDuring the handling of:\n".join(reversed(parts))


def _hides_exception_messages(record: logging.LogRecord) -> bool:
    return bool(record.exc_info) and record.name in _HIDE_EXCEPTION_MESSAGES


def scrub(text: str, logger_name: str = "") -> str:
    """Blank email addresses, PostgreSQL's quoted key values and request-line queries."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    text = _PG_KEY.sub(lambda m: f"Key ({m['cols']})=([hidden])", text)
    if logger_name in _REQUEST_LINE_LOGGERS:
        text = _QUERY.sub(lambda m: f"{m['path']}?[query]", text)
    return text


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id, task_name and task_id to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        add_context(record)
        return True


# The attributes every LogRecord has; anything else came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    *CONTEXT_FIELDS,
}


class JsonFormatter(_JsonFormatter):
    """One JSON object per line (see the module docstring for its keys)."""

    def add_fields(self, log_data, record, message_dict) -> None:
        add_context(record)
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = scrub(record.message, record.name)
        log_data["request_id"] = record.request_id
        log_data["user_id"] = record.user_id
        if record.task_id or record.task_name:
            log_data["task_name"] = record.task_name
            log_data["task_id"] = record.task_id
        # A dict logged as the message: only its numbers and booleans, like extras.
        extras = {**message_dict, **record.__dict__}
        for key, value in extras.items():
            if key in _RECORD_ATTRIBUTES or key in log_data or key.startswith("_"):
                continue
            if isinstance(value, bool | int | float) or value is None:
                log_data[key] = value
        if _hides_exception_messages(record):
            message_dict["exc_info"] = exception_without_messages(record.exc_info)
        for key in ("exc_info", "stack_info"):
            if message_dict.get(key):
                log_data[key] = scrub(str(message_dict[key]), record.name)


class PlainFormatter(logging.Formatter):
    """A readable console line with the request id (and the user and task, if any)."""

    def __init__(self, fmt=None, datefmt=None, style="%", **kwargs):
        fmt = fmt or "%(asctime)s %(levelname)s %(name)s [%(log_context)s] %(message)s"
        super().__init__(fmt, datefmt, style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        add_context(record)
        label = record.request_id or "-"
        if record.user_id is not None:
            label += f" user={record.user_id}"
        if record.task_name:
            label += f" task={record.task_name}[{record.task_id}]"
        record.log_context = label
        if _hides_exception_messages(record):
            shown = copy.copy(record)
            shown.exc_info, shown.exc_text = None, exception_without_messages(record.exc_info)
            return scrub(super().format(shown), record.name)
        return scrub(super().format(record), record.name)


def logging_config(*, log_format: str, level: str) -> dict:
    """Django's LOGGING: one console handler with the context filter and the formatter
    LOG_FORMAT names ("json" or "plain")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "sers.logs.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "sers.logs.JsonFormatter"},
            "plain": {"()": "sers.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # SQL with its parameters (names, birth dates) is logged at DEBUG: never shown.
        # and templates log failed lookups with their whole context at DEBUG (above).
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django.template": {"level": "INFO"},
        },
    }


def keep_django_logging(**kwargs) -> None:
    """Celery's `setup_logging` signal: with a receiver connected, the worker leaves the
    logging that Django's LOGGING set up as it is (these formatters), instead of putting
    its own handler on the root logger."""


def connect_celery_signals() -> None:
    """Called once by sers/celery.py."""
    from celery import signals

    signals.setup_logging.connect(keep_django_logging, dispatch_uid="sers.logs")
