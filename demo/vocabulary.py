"""The synthetic vocabulary the demo draws from: names, places, demographics and reasons."""

import random
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from functools import cache
from itertools import accumulate
from pathlib import Path

from enrollment.services.signup import luhn_check_digit


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


class Weighted:
    """A weighted choice with its cumulative table computed once."""

    def __init__(self, items: Sequence[tuple[object, float]]):
        self.values = tuple(value for value, _ in items)
        self.cum = tuple(accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.cum[-1])]


FIRST_NAMES = _words(
    "Aaliyah Abdi Adrian Aiden Alejandro Alexis Amara Amelia Andre Angel Anika Aria Arjun "
    "Ashton Aubrey Avery Bailey Beatriz Bennett Bianca Blake Brielle Caleb Camila Carlos "
    "Carmen Cedric Chloe Darius Daniela Dante Declan Delaney Desmond Diego Eli Elena Elijah "
    "Emerson Emiliano Esme Ezra Fatima Finley Gabriel Gemma Gianna Hana Harper Hector Imani "
    "Isaac Isabela Jalen Jasmine Javier Jaylen Jordan Josiah Julian Kai Kamila Keanu Kendall "
    "Khalil Kiara Leilani Leo Liam Lila Logan Lucia Luis Mai Malia Marcus Mateo Maya Micah "
    "Miguel Mila Nadia Naomi Nia Noah Nolan Omar Paloma Parker Priya Quinn Rafael Reese Riley "
    "Rohan Rosa Rowan Samir Santiago Sofia Soren Tatum Teagan Theo Valentina Wren Xavier "
    "Yara Yusuf Zara Zion"
)
LAST_NAMES = _words(
    "Abbott Acosta Adeyemi Alvarez Andersen Arellano Baker Banerjee Barrera Bell Bergstrom "
    "Bishop Bui Calderon Campbell Castillo Chavez Chen Cho Cruz Dahl Dang Delgado Diaz Do "
    "Duarte Ellison Espinoza Evans Farah Fernandez Fischer Flores Fuentes Garcia Gomez Grant "
    "Gutierrez Hall Hansen Hayes Hernandez Hoang Holm Huang Ibarra Ito Jensen Johansson Kang "
    "Kaur Khan Kim Kowalski Larsen Le Lee Lindqvist Lopez Lund Mahmoud Martinez Medina Mendoza "
    "Mercado Molina Morales Moreno Murphy Nakamura Navarro Nguyen Nielsen Novak Nunez Okafor "
    "Olsen Ortega Ortiz Park Patel Pedersen Pham Quintero Ramirez Ramos Reyes Rios Rivera "
    "Rodriguez Rojas Romero Ruiz Salazar Sanchez Santos Schmidt Shah Silva Singh Sorensen "
    "Soto Suarez Tanaka Tran Trujillo Valdez Vargas Vasquez Vu Wagner Walsh Watanabe Yamamoto "
    "Yang Zamora Zhang"
)
PLACE_A = _words(
    "Alder Aspen Bear Beaver Birch Cedar Clear Copper Cougar Coyote Crane Crystal Deer Eagle "
    "Elk Fern Fir Fox Granite Hawk Hemlock Heron Huckleberry Iron Juniper Kestrel Lupine Maple "
    "Marten Meadow Osprey Otter Pine Quail Raven Salmon Sage Silver Spruce Stone Sunny Timber "
    "Trillium Willow Wolf Larch"
)
PLACE_B = _words(
    "Bay Bluff Creek Crossing Falls Flats Glen Grove Harbor Heights Hollow Lake Landing "
    "Meadows Mill Point Prairie Ridge River Springs Summit Valley"
)
# The state-size data's names, at a state's frequencies (data/build_state_names.py): the
# short lists above would give every full name to about 15 of 213,000 students, and
# name agreement would count for almost nothing in the statewide duplicate check.
STATE_NAMES_FILE = Path(__file__).with_name("data") / "state_names.tsv"
STATE_HERITAGES = Weighted((("us", 62), ("mx", 28), ("in", 5), ("vn", 5)))


@cache
def _state_names() -> dict[tuple[str, str], Weighted]:
    """(heritage, "given" or "family") → a weighted choice of its names."""
    found: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for line in STATE_NAMES_FILE.read_text(encoding="utf-8").splitlines():
        heritage, kind, name, weight = line.split("\t")
        found.setdefault((heritage, kind), []).append((name, float(weight)))
    return {key: Weighted(names) for key, names in found.items()}


def state_person(rng: random.Random) -> tuple[str, str]:
    """A given and a family name of one heritage, at a state's frequencies."""
    heritage = STATE_HERITAGES(rng)
    names = _state_names()
    return names[heritage, "given"](rng), names[heritage, "family"](rng)


AREA_CODES = ("206", "253", "360", "425", "509", "564")

# Enrollments per student per year: mean about 2.6.
K_VALUES = (1, 2, 3, 4, 5)
K_CUM = tuple(accumulate((0.21, 0.30, 0.25, 0.14, 0.10)))
GENDERS = Weighted((("female", 48), ("male", 48), ("nonbinary", 2), ("not_listed", 2)))
RACES = Weighted(
    (
        ("white", 52),
        ("hispanic", 25),
        ("asian", 9),
        ("multiracial", 8),
        ("black", 4),
        ("american_indian", 1.5),
        ("pacific_islander", 0.5),
    )
)
REMOVE_REASONS = (
    "Not in my class",
    "Student is not on my roster",
    "Registered for the wrong period",
)
WITHDRAW_REASONS = ("", "", "Schedule change", "Dropped the class", "Moved to another school")


def month_day(start_year: int, month_day: tuple[int, int]) -> date:
    """A month/day in the school year starting July 1 of start_year."""
    month, day = month_day
    return date(start_year if month >= 7 else start_year + 1, month, day)


def ascii_lower(text: str) -> str:
    """Letters and digits, accents dropped: "Nguyễn" → "nguyen" (for email addresses)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in plain if ch.isascii() and ch.isalnum())


def slug(text: str) -> str:
    return "-".join(ascii_lower(part) for part in text.split())


def sers_id_from(rng: random.Random) -> str:
    """The format of enrollment's generate_sers_id (eight digits, the first not zero, and a
    Luhn check digit) drawn from a seeded generator, so a seed gives the same ids."""
    body = f"{rng.randrange(10_000_000, 100_000_000):08d}"
    return body + luhn_check_digit(body)
