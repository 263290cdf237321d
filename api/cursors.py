"""Opaque page cursors: the position after the last row of a page, signed so that a
client can only hand back a cursor SERS made for the same list. A cursor that was
changed, cut or made for another list is refused with BadCursor (a 400)."""

import datetime

from django.core import signing

MAX_LENGTH = 500
MESSAGE = "The cursor is not valid: pass the `next_cursor` of the previous page unchanged."


class BadCursor(ValueError):
    def __init__(self) -> None:
        super().__init__(MESSAGE)


def _salt(kind: str) -> str:
    return f"sers.api.cursor.{kind}"


def encode(kind: str, *values: datetime.datetime | int) -> str:
    """A cursor after the row whose ordering values are `values`."""
    payload = [v.isoformat() if isinstance(v, datetime.datetime) else v for v in values]
    return signing.dumps(payload, salt=_salt(kind), compress=False)


def decode(kind: str, cursor: str, *, shape: tuple[type, ...]) -> tuple:
    """The ordering values of a cursor of `kind`; `shape` gives each one's type
    (datetime.datetime or int)."""
    if len(cursor) > MAX_LENGTH:
        raise BadCursor
    try:
        payload = signing.loads(cursor, salt=_salt(kind))
    except (signing.BadSignature, ValueError, UnicodeError):
        raise BadCursor from None
    if not isinstance(payload, list) or len(payload) != len(shape):
        raise BadCursor
    try:
        return tuple(
            datetime.datetime.fromisoformat(value) if kind_of is datetime.datetime else int(value)
            for value, kind_of in zip(payload, shape, strict=True)
        )
    except (TypeError, ValueError):
        raise BadCursor from None
