"""Grade scales: letter (A..F), GPA points (0.0-4.0) and percent (0-100).

Grades are stored as text in the scale of the articulation they were earned under
and compared through grade points, so "B", "3.0" and "85" can be checked against
a minimum in any of the three scales.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LETTER_POINTS: dict[str, Decimal] = {
    "A": Decimal("4.0"),
    "A-": Decimal("3.7"),
    "B+": Decimal("3.3"),
    "B": Decimal("3.0"),
    "B-": Decimal("2.7"),
    "C+": Decimal("2.3"),
    "C": Decimal("2.0"),
    "C-": Decimal("1.7"),
    "D+": Decimal("1.3"),
    "D": Decimal("1.0"),
    "D-": Decimal("0.7"),
    "F": Decimal("0.0"),
}

# Lower bound of each letter on a percent scale (a common high-school table).
PERCENT_LETTER_FLOORS: list[tuple[int, str]] = [
    (93, "A"),
    (90, "A-"),
    (87, "B+"),
    (83, "B"),
    (80, "B-"),
    (77, "C+"),
    (73, "C"),
    (70, "C-"),
    (67, "D+"),
    (63, "D"),
    (60, "D-"),
    (0, "F"),
]

_REGEX = {
    "letter": r"^([A-D][+-]?|F)$",
    "points": r"^([0-3]\.[0-9]{1,2}|4\.00?)$",
    "percent": r"^(100|[1-9]?[0-9])$",
}


class GradeError(ValueError):
    """A grade that does not fit its scale."""


class GradeScale(models.TextChoices):
    LETTER = "letter", _("Letter (A-F)")
    POINTS = "points", _("Grade points (0.0-4.0)")
    PERCENT = "percent", _("Percent (0-100)")

    @staticmethod
    def value_check(scale_field: str, value_field: str) -> Q:
        """A database check that `value_field` is a well-formed grade in `scale_field`."""
        condition = Q()
        for scale, pattern in _REGEX.items():
            condition |= Q(**{scale_field: scale, f"{value_field}__regex": pattern})
        return condition


def normalize(scale: str, raw: str) -> str:
    """Return the canonical text of a grade, or raise GradeError with a plain message."""
    value = (raw or "").strip().upper()
    if not value:
        raise GradeError(_("Enter a grade."))
    if scale == GradeScale.LETTER:
        if value not in LETTER_POINTS:
            raise GradeError(_("Enter a letter grade from A to F, such as B+ or C."))
        return value
    try:
        number = Decimal(value.rstrip("%"))
    except InvalidOperation:
        number = None
    if number is not None and not number.is_finite():
        number = None  # "NaN" and "Infinity" parse as decimals but are not grades
    if scale == GradeScale.POINTS:
        if number is None or not (Decimal("0") <= number <= Decimal("4")):
            raise GradeError(_("Enter grade points from 0.0 to 4.0, such as 3.2."))
        # Half up, as gradebooks round: 3.25 is 3.3, never down to the even 3.2.
        return f"{number.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):.1f}"
    if scale == GradeScale.PERCENT:
        if number is None or not (Decimal("0") <= number <= Decimal("100")):
            raise GradeError(_("Enter a percent from 0 to 100, such as 85."))
        return str(int(number.to_integral_value(rounding=ROUND_HALF_UP)))
    raise GradeError(_("Unknown grade scale."))


def to_points(scale: str, value: str) -> Decimal:
    """Grade points (0.0-4.0) of a normalized grade."""
    if scale == GradeScale.LETTER:
        return LETTER_POINTS[value]
    if scale == GradeScale.POINTS:
        return Decimal(value)
    percent = int(value)
    for floor, letter in PERCENT_LETTER_FLOORS:
        if percent >= floor:
            return LETTER_POINTS[letter]
    return Decimal("0.0")


def meets_minimum(*, scale: str, grade: str, minimum_scale: str, minimum: str) -> bool:
    """Whether a grade meets an articulation's minimum, comparing like with like."""
    grade = normalize(scale, grade)
    minimum = normalize(minimum_scale, minimum)
    if scale == minimum_scale == GradeScale.PERCENT:
        return int(grade) >= int(minimum)
    return to_points(scale, grade) >= to_points(minimum_scale, minimum)
