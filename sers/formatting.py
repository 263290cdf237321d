"""How SERS shows a date, a moment and an amount of money: one style per language, from
the format modules in sers/formats/ (English "March 5, 2026" and "$2,150.00"; Spanish
"5 de marzo de 2026" and "$2,150.00").

Templates use the filters of the same names (sers/templatetags/sers_ui.py, built in to
every template): `{{ fee.amount|money }}`, `{{ policy.payment_deadline|sers_date }}`,
`{{ change.changed_at|sers_datetime }}`. Python code that builds text for a page or an
email calls these functions.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import formats, numberformat, timezone
from django.utils.translation import get_language

DEFAULT_MONEY_FORMAT = "${amount}"
CENT = Decimal("0.01")


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def display_date(value: date | datetime | None) -> str:
    """The day, in the language's one date style; a moment shows its local day."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return formats.date_format(value, "DATE_FORMAT")


def display_datetime(value: date | datetime | None) -> str:
    """A moment, local time: the date style above with the time of day."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return display_date(value)
    return formats.date_format(_local(value), "DATETIME_FORMAT")


def money_format(language: str | None = None) -> str:
    """The language's money pattern (MONEY_FORMAT of its format module), "{amount}" in it."""
    for module in formats.get_format_modules(language or get_language()):
        pattern = getattr(module, "MONEY_FORMAT", None)
        if pattern:
            return pattern
    return DEFAULT_MONEY_FORMAT


def money(value: Decimal | int | float | str | None) -> str:
    """An amount in dollars with cents and grouped thousands: "$2,150.00", "-$5.00"."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return str(value)
    number = numberformat.format(
        abs(amount),
        decimal_sep=formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=2,
        grouping=formats.get_format("NUMBER_GROUPING"),
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )
    text = money_format().format(amount=number)
    return f"-{text}" if amount < 0 else text
