"""Given names of two genders, and one name in two languages (enrollment.identity).

Twins share a family name, a birth date, a school and often a phone: only the given names
tell them apart, so a name and its other-gender form must count against one person however
alike the two sound. A name in Spanish and in English is one person's. The statewide check
(enrollment.linkage) must read the two alike.
"""

import datetime

import duckdb
import pyarrow as pa
import pytest

from enrollment import linkage
from enrollment.identity import (
    Identity,
    Level,
    compare,
    given_level,
    linkage_features,
    name_gender,
    normalize,
    other_gender_forms,
)

BORN = datetime.date(2009, 4, 12)

# A brother and a sister: an ending added or changed, or names the name lists give to a
# boy and to a girl that differ only in their endings (Francis / Frances, Jesse / Jessie).
OTHER_GENDER = [
    ("Michael", "Michelle"),
    ("Brian", "Brianna"),
    ("Dean", "Deanna"),
    ("Mikhail", "Mikhaila"),
    ("Kevin", "Kevina"),
    ("Francis", "Frances"),
    ("Jesse", "Jessie"),
    ("Terry", "Terri"),
    ("Stephen", "Stephanie"),
    ("Colin", "Colleen"),
    ("Raphael", "Raphaëlle"),
    ("Marcel", "Marcelle"),
    ("Mario", "Maria"),
    ("Sergio", "Sergia"),
    ("Louis", "Louise"),
    ("Julian", "Julianna"),
    ("Martin", "Martine"),
]

# One student: a spelling, a transliteration, a nickname, a typing slip, or the name in
# Spanish and in English.
ONE_PERSON = [
    ("Jorge", "George"),
    ("José", "Joseph"),
    ("Guillermo", "William"),
    ("Juan", "John"),
    ("Carlos", "Charles"),
    ("Andrés", "Andrew"),
    ("María", "Mary"),
    ("Susana", "Susan"),
    ("Juana", "Jane"),
    ("Aleksandr", "Alexander"),
    ("Mohammed", "Muhammad"),
    ("Yevgeniy", "Evgenii"),
    ("Natalya", "Natalia"),
    ("Bill", "William"),
    ("Jessica", "Jessie"),
    ("Frank", "Frankie"),
    ("Christina", "Chris"),
    ("Laura", "Laur"),
    ("Michelle", "Michele"),
    ("Jasmine", "Jasmin"),
]


def twins(first, other, **more):
    shared = {
        "last_name": "Reyes",
        "birth_date": BORN,
        "phone": "509-555-0100",
        "high_school_id": 3,
        **more,
    }
    return Identity(first_name=first, **shared), Identity(first_name=other, **shared)


@pytest.mark.parametrize(("first", "other"), OTHER_GENDER)
def test_a_name_and_its_other_gender_form_are_two_people(first, other):
    a, b = (normalize(first), normalize(other))
    assert given_level(a, b) == given_level(b, a) == Level.OTHER_GENDER
    assert not compare(*twins(first, other)).warns


@pytest.mark.parametrize(("first", "other"), ONE_PERSON)
def test_one_name_written_another_way_is_one_person(first, other):
    a, b = (normalize(first), normalize(other))
    assert not other_gender_forms(a, b)
    assert compare(*twins(first, other, phone="")).warns


def test_the_name_lists_say_which_names_are_given_to_boys_and_to_girls():
    assert (name_gender("francis"), name_gender("frances")) == ("m", "f")
    assert (name_gender("jesse"), name_gender("jessie")) == ("m", "f")
    # About as many lists give them to each: neither.
    assert name_gender("jamie") == name_gender("toni") == ""


def test_the_statewide_check_reads_other_gender_forms_as_sign_up_does():
    pairs = OTHER_GENDER + ONE_PERSON
    columns = [f for f in linkage.COLUMNS if f.name != "unique_id"]
    rows = {f"{f.name}_{side}": [] for f in columns for side in "lr"}
    for first, other in pairs:
        left = linkage_features(Identity(first_name=first, last_name="Reyes"))
        right = linkage_features(Identity(first_name=other, last_name="Reyes"))
        for f in columns:
            rows[f"{f.name}_l"].append(left[f.name])
            rows[f"{f.name}_r"].append(right[f.name])
    schema = pa.schema([pa.field(f"{f.name}_{side}", f.type) for f in columns for side in "lr"])
    compared = pa.table(rows, schema=schema)  # noqa: F841 (read by DuckDB by name)
    condition = next(sql for level, sql, *_ in linkage.GIVEN_LEVELS if level == Level.OTHER_GENDER)
    query = f"SELECT coalesce(({condition}), false) FROM compared"  # noqa: S608 (the model's SQL)
    read = duckdb.sql(query).fetchall()
    statewide = [other_gender for (other_gender,) in read]
    sign_up = [other_gender_forms(normalize(a), normalize(b)) for a, b in pairs]
    assert statewide == sign_up
