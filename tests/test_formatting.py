"""One date style and one money style per language (sers/formatting.py, sers/formats/),
through the template filters every template has (sers_date, sers_datetime, money), and
no template left with a style of its own."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from sers.formatting import display_date, display_datetime, money

DAY = datetime.date(2026, 3, 5)
# 23:30 UTC is 3:30 p.m. in the site's time zone (America/Los_Angeles, PST)
MOMENT = datetime.datetime(2026, 3, 5, 23, 30, tzinfo=datetime.UTC)


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "March 5, 2026"), ("es", "5 de marzo de 2026")]
)
def test_one_date_style_per_language(language, expected):
    with translation.override(language):
        assert display_date(DAY) == expected
        assert render("{{ day|sers_date }}", day=DAY) == expected
        # a moment shows its local day; a |date left in a template gives the same style
        assert render("{{ moment|sers_date }}", moment=MOMENT) == expected
        for style in ("DATE_FORMAT", "SHORT_DATE_FORMAT"):
            assert render(f'{{{{ day|date:"{style}" }}}}', day=DAY) == expected
        assert render("{{ day }}", day=DAY) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "March 5, 2026, 3:30 p.m."), ("es", "5 de marzo de 2026 a las 15:30")],
)
def test_one_date_and_time_style_per_language(language, expected):
    with translation.override(language):
        assert display_datetime(MOMENT) == expected
        assert render("{{ moment|sers_datetime }}", moment=MOMENT) == expected
        assert render('{{ moment|date:"SHORT_DATETIME_FORMAT" }}', moment=MOMENT) == expected
        # a date alone has no time to show
        assert render("{{ day|sers_datetime }}", day=DAY) == display_date(DAY)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("2150"), "$2,150.00"),
        (Decimal("50.00"), "$50.00"),
        (Decimal("0"), "$0.00"),
        (Decimal("1234567.5"), "$1,234,567.50"),
        (Decimal("-5"), "-$5.00"),
        (75, "$75.00"),
        ("12.5", "$12.50"),
    ],
)
def test_one_money_style_per_language(language, amount, expected):
    """English and the Spanish of the United States (es-US) write dollars alike: the
    Spanish reader's prices, checks and bank statements all read "$2,150.00"."""
    with translation.override(language):
        assert money(amount) == expected
        assert render("{{ amount|money }}", amount=amount) == expected


def test_nothing_to_show_stays_empty():
    assert money(None) == money("") == ""
    assert display_date(None) == display_datetime(None) == ""
    assert render("{{ missing|money }}{{ missing|sers_date }}") == ""


def test_spanish_numbers_group_like_its_money():
    with translation.override("es"):
        assert render("{% load humanize %}{{ n|intcomma }}", n=1234567) == "1,234,567"


BASE = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [BASE / "templates", *sorted(BASE.glob("*/templates"))]
# Styles of their own: a dollar sign before a value, a |date with a format other than the
# year alone (a masked birth date shows only its year).
OWN_STYLES = re.compile(r'\$\{\{|\$%\(|\|date:"(?!Y")[^"]*"')


def test_no_template_has_a_date_or_money_style_of_its_own():
    found = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*"):
            if path.suffix not in {".html", ".txt"} or not path.is_file():
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if OWN_STYLES.search(line):
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert found == [], "use |sers_date, |sers_datetime or |money:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("language", "amount", "day"),
    [("en", "$2,150.00", "December 1, 2026"), ("es", "$2,150.00", "1 de diciembre de 2026")],
)
def test_the_fee_page_shows_amounts_and_dates_in_the_language_style(
    client, here, language, amount, day
):
    fee = here.students[0].fees.get()
    fee.amount = fee.paid_amount = Decimal("2150")
    fee.status, fee.paid_on, fee.receipt_number = "paid", datetime.date(2026, 12, 1), "R-1"
    fee.save()
    client.force_login(here.admin)
    response = client.get(
        reverse("enrollment:fee_detail", args=[fee.pk]), headers={"accept-language": language}
    )
    page = response.content.decode()
    assert f"{amount} · {day}" in page
    assert "$2150" not in page


@pytest.mark.parametrize(
    ("language", "deadline"), [("en", "June 20, 2027"), ("es", "20 de junio de 2027")]
)
def test_the_student_dashboard_shows_the_fee_and_its_deadline_in_the_language_style(
    client, here, language, deadline
):
    student = here.students[0]
    client.force_login(student.user)
    response = client.get(reverse("enrollment:dashboard"), headers={"accept-language": language})
    page = response.content.decode()
    assert "$50.00" in page
    assert deadline in page
