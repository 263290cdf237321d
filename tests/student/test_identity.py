"""The duplicate-identity matcher and the masked email hint."""

import datetime

import pytest

from enrollment.identity import Identity, blocks_sign_up, identities_match, mask_email
from enrollment.models import MatchKind
from enrollment.selectors.student import identity_matches
from tests.factories import StudentProfileFactory

SAME, VARIANT, CLOSE = MatchKind.SAME, MatchKind.VARIANT, MatchKind.CLOSE


def person(first, last, middle=""):
    return Identity(first_name=first, last_name=last, middle_name=middle)


# (sign-up, existing student, expected kind): all born on the same day.
MUST_MATCH = [
    (person("Maria", "Lopez"), person("Maria", "Lopez"), SAME),
    (person("MARIA", "LOPEZ"), person("maria", "lopez"), SAME),
    (person("José", "Núñez"), person("Jose", "Nunez"), SAME),
    (person("Zoë", "Brontë"), person("Zoe", "Bronte"), SAME),
    (person("Ana-María", "Lopez"), person("Ana Maria", "Lopez"), SAME),
    (person("Sean", "O'Brien"), person("Sean", "OBrien"), SAME),
    (person("Sean", "O\u2019Brien"), person("Sean", "O'Brien"), SAME),  # typographic apostrophe
    (person("  Maria ", " Lopez  "), person("Maria", "Lopez"), SAME),
    (person("Jon", "Smith"), person("Jonathan", "Smith"), VARIANT),
    (person("Bill", "Jones"), person("William", "Jones"), VARIANT),
    (person("Will", "Jones"), person("Bill", "Jones"), VARIANT),
    (person("Liz", "Brown"), person("Elizabeth", "Brown"), VARIANT),
    (person("Beth", "Brown"), person("Elizabeth", "Brown"), VARIANT),
    (person("Mike", "Tran"), person("Michael", "Tran"), VARIANT),
    (person("Pepe", "Ruiz"), person("José", "Ruiz"), VARIANT),
    (person("Lupe", "Ruiz"), person("Guadalupe", "Ruiz"), VARIANT),
    (person("Chris", "Park"), person("Christopher", "Park"), VARIANT),
    (person("Kim", "Park"), person("Kimberly", "Park"), VARIANT),
    (person("Anh", "Nguyen"), person("Nguyen", "Anh"), VARIANT),
    (person("Maria", "Garcia Lopez"), person("Maria", "Garcia"), VARIANT),
    (person("Maria", "García-López"), person("Maria", "Garcia Lopez"), SAME),
    (person("Luis", "De La Cruz"), person("Luis", "Delacruz"), VARIANT),
    (person("Mary Ann", "Jones"), person("Mary", "Jones"), VARIANT),
    (person("Michael", "Reyes"), person("John", "Reyes", middle="Michael"), VARIANT),
    (person("Jonathon", "Smith"), person("Jonathan", "Smith"), CLOSE),
    (person("Mary", "Smyth"), person("Mary", "Smith"), CLOSE),
    (person("Daniel", "Lee"), person("Danielle", "Lee"), CLOSE),
    (person("Maria", "Ruiz"), person("Mario", "Ruiz"), CLOSE),
    (person("Alexander", "Ito"), person("Alexandra", "Ito"), CLOSE),
]

MUST_NOT_MATCH = [
    (person("Maria", "Garcia"), person("Jose", "Garcia")),  # siblings, twins
    (person("Emily", "Chen"), person("Emma", "Chen")),
    (person("John", "Smith"), person("Jane", "Smith")),
    (person("Sam", "Lee"), person("Pam", "Lee")),
    (person("Roberto", "Diaz"), person("Alberto", "Diaz")),  # both "Beto", different names
    (person("John", "Smith"), person("John", "Smithers")),
    (person("Maria", "Lopez"), person("Maria", "Perez")),
    (person("Anh", "Nguyen"), person("Binh", "Nguyen")),
    (person("Jon", "Smith"), person("Jon", "Stone")),
    (person("Maria", "Lopez"), person("Lopez", "Ramirez")),
]


@pytest.mark.parametrize(("new", "existing", "kind"), MUST_MATCH)
def test_names_that_must_match(new, existing, kind):
    assert identities_match(new, existing) == kind
    assert identities_match(existing, new) == kind  # the order does not matter


@pytest.mark.parametrize(("new", "existing"), MUST_NOT_MATCH)
def test_names_that_must_not_match(new, existing):
    assert identities_match(new, existing) is None
    assert identities_match(existing, new) is None


def test_same_and_variant_block_a_sign_up_but_close_only_asks():
    assert blocks_sign_up(SAME)
    assert blocks_sign_up(VARIANT)
    assert not blocks_sign_up(CLOSE)
    assert not blocks_sign_up(None)


@pytest.mark.django_db
def test_only_students_born_the_same_day_are_candidates():
    born = datetime.date(2009, 4, 12)
    twin_day = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=born
    )
    StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=datetime.date(2009, 4, 13)
    )
    StudentProfileFactory(legal_first_name="Emma", legal_last_name="Smith", birth_date=born)
    matches = identity_matches(first_name="Jon", middle_name="", last_name="Smith", birth_date=born)
    assert [(m.student, m.kind) for m in matches] == [(twin_day, VARIANT)]


@pytest.mark.django_db
def test_matches_come_strongest_first_and_can_exclude_a_student():
    born = datetime.date(2009, 4, 12)
    close = StudentProfileFactory(
        legal_first_name="Jonathon", legal_last_name="Smith", birth_date=born
    )
    same = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=born
    )
    matches = identity_matches(
        first_name="Jonathan", middle_name="", last_name="Smith", birth_date=born
    )
    assert [m.student for m in matches] == [same, close]
    matches = identity_matches(
        first_name="Jonathan",
        middle_name="",
        last_name="Smith",
        birth_date=born,
        exclude_student_id=same.pk,
    )
    assert [m.student for m in matches] == [close]


@pytest.mark.parametrize(
    ("email", "hint"),
    [
        ("jane.doe@gmail.com", "j•••@g•••.com"),
        ("Bob@school.k12.wa.us", "B•••@s•••.us"),
        ("a@b.co", "a•••@b•••.co"),
        ("x@localhost", "x•••@l•••"),
        ("", "•••"),
        ("not-an-address", "•••"),
    ],
)
def test_masked_hint(email, hint):
    assert mask_email(email) == hint


@pytest.mark.parametrize(
    "email", ["jane.doe@gmail.com", "maria.lopez@outlook.com", "a.b@students.example.org"]
)
def test_masked_hint_never_reveals_the_address_or_its_parts(email):
    hint = mask_email(email)
    local, domain = email.split("@")
    assert email not in hint
    assert local not in hint
    assert domain not in hint
    assert domain.split(".")[0] not in hint
