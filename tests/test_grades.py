"""Tests of organisations.grades: typed grades in each scale, and an agreement's minimum."""

from decimal import Decimal

import pytest

from organisations.grades import GradeError, GradeScale, meets_minimum, normalize, to_points

LETTER_ERROR = "Enter a letter grade from A to F, such as B+ or C."
POINTS_ERROR = "Enter grade points from 0.0 to 4.0, such as 3.2."
PERCENT_ERROR = "Enter a percent from 0 to 100, such as 85."


@pytest.mark.parametrize(
    ("scale", "raw", "expected"),
    [
        ("letter", "B", "B"),
        ("letter", " b+ ", "B+"),
        ("letter", "a-", "A-"),
        ("letter", "F", "F"),
        ("points", "3", "3.0"),
        ("points", "3.0", "3.0"),
        ("points", " 2.75 ", "2.8"),
        ("points", "4", "4.0"),
        ("points", "0", "0.0"),
        ("percent", "85", "85"),
        ("percent", "85%", "85"),
        ("percent", "100", "100"),
        ("percent", "0", "0"),
        ("percent", "92.6", "93"),
    ],
)
def test_normalize(scale, raw, expected):
    assert normalize(scale, raw) == expected


@pytest.mark.parametrize(
    ("scale", "raw", "message"),
    [
        ("letter", "", "Enter a grade."),
        ("letter", "   ", "Enter a grade."),
        ("letter", None, "Enter a grade."),
        ("points", "", "Enter a grade."),
        ("letter", "E", LETTER_ERROR),
        ("letter", "A+", LETTER_ERROR),
        ("letter", "85", LETTER_ERROR),
        ("letter", "B++", LETTER_ERROR),
        ("points", "B", POINTS_ERROR),
        ("points", "4.1", POINTS_ERROR),
        ("points", "-1", POINTS_ERROR),
        ("percent", "101", PERCENT_ERROR),
        ("percent", "-5", PERCENT_ERROR),
        ("percent", "B", PERCENT_ERROR),
        ("percent", "eighty", PERCENT_ERROR),
        ("points", "nan", POINTS_ERROR),
        ("points", "Infinity", POINTS_ERROR),
        ("percent", "NaN", PERCENT_ERROR),
        ("percent", "Infinity", PERCENT_ERROR),
        ("stars", "A", "Unknown grade scale."),
    ],
)
def test_normalize_explains_bad_grades(scale, raw, message):
    with pytest.raises(GradeError) as caught:
        normalize(scale, raw)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("scale", "grade", "minimum_scale", "minimum", "meets"),
    [
        # like with like
        ("letter", "B", "letter", "B", True),
        ("letter", "A", "letter", "B", True),
        ("letter", "B-", "letter", "B", False),
        ("letter", "c", "letter", "C", True),
        ("points", "3.0", "points", "3.0", True),
        ("points", "2.9", "points", "3.0", False),
        ("percent", "85", "percent", "85", True),
        ("percent", "84", "percent", "85", False),
        ("percent", "86%", "percent", "85", True),
        # across scales, through grade points
        ("points", "3.0", "letter", "B", True),
        ("points", "2.9", "letter", "B", False),
        ("letter", "B", "points", "3.0", True),
        ("letter", "C+", "points", "2.5", False),
        ("percent", "83", "letter", "B", True),
        ("percent", "82", "letter", "B", False),
        ("percent", "93", "letter", "A", True),
        ("percent", "59", "letter", "D-", False),
        ("letter", "B+", "percent", "87", True),
        ("letter", "B", "percent", "87", False),
        ("points", "3.3", "percent", "87", True),
        ("letter", "F", "letter", "F", True),
    ],
)
def test_meets_minimum(scale, grade, minimum_scale, minimum, meets):
    assert (
        meets_minimum(scale=scale, grade=grade, minimum_scale=minimum_scale, minimum=minimum)
        is meets
    )


@pytest.mark.parametrize(
    ("scale", "grade", "minimum_scale", "minimum"),
    [
        ("letter", "E", "letter", "B"),
        ("letter", "B", "percent", "120"),
        ("points", "", "letter", "C"),
    ],
)
def test_meets_minimum_refuses_bad_grades(scale, grade, minimum_scale, minimum):
    with pytest.raises(GradeError):
        meets_minimum(scale=scale, grade=grade, minimum_scale=minimum_scale, minimum=minimum)


@pytest.mark.parametrize(
    ("percent", "points"),
    [("100", "4.0"), ("93", "4.0"), ("92", "3.7"), ("83", "3.0"), ("60", "0.7"), ("59", "0.0")],
)
def test_percent_to_points_uses_the_letter_floors(percent, points):
    assert to_points(GradeScale.PERCENT, percent) == Decimal(points)


def test_every_normalized_grade_fits_the_database_check():
    """normalize() output must satisfy the regex the check constraints use."""
    import re

    from organisations.grades import _REGEX

    samples = {
        "letter": ["a", "b+", "c-", "d", "f"],
        "points": ["0", "1.25", "3", "4", "2.999"],
        "percent": ["0", "7", "85%", "99.4", "100"],
    }
    for scale, raws in samples.items():
        for raw in raws:
            assert re.match(_REGEX[scale], normalize(scale, raw)), (scale, raw)


@pytest.mark.parametrize(
    ("scale", "raw", "expected"),
    [
        ("points", "3.25", "3.3"),
        ("points", "2.95", "3.0"),
        ("percent", "84.5", "85"),
        ("percent", "85.5", "86"),
        ("percent", "84.4", "84"),
    ],
)
def test_normalize_rounds_halves_up_as_gradebooks_do(scale, raw, expected):
    assert normalize(scale, raw) == expected
