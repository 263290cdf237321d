"""The duplicate-identity matcher (enrollment.identity) and the masked email hint."""

import datetime

import pytest

from enrollment.identity import (
    STRONG_SCORE,
    WARN_SCORE,
    Identity,
    compare,
    identities_match,
    is_likely_same_person,
    mask_email,
    normalize,
)
from enrollment.models import MatchKind, MatchReason
from enrollment.selectors.student import identity_matches
from tests.factories import StudentProfileFactory

SAME, VARIANT, CLOSE = MatchKind.SAME, MatchKind.VARIANT, MatchKind.CLOSE
R = MatchReason
BORN = datetime.date(2009, 4, 12)


def person(first, last, middle="", **more):
    return Identity(first_name=first, last_name=last, middle_name=middle, **more)


# (sign-up, existing student, the reason that must be given): all born on the same day.
MUST_MATCH = [
    (person("Maria", "Lopez"), person("Maria", "Lopez"), R.GIVEN_SAME),
    (person("MARIA", "LOPEZ"), person("maria", "lopez"), R.FAMILY_SAME),
    (person("José", "Núñez"), person("Jose", "Nunez"), R.GIVEN_SAME),
    (person("Ana-María", "Lopez"), person("Ana Maria", "Lopez"), R.GIVEN_SAME),
    (person("Sean", "O'Brien"), person("Sean", "O\u2019Brien"), R.FAMILY_SAME),
    (person("Luis", "De La Cruz"), person("Luis", "Delacruz"), R.FAMILY_SAME),
    (person("Tom", "Smith Jr."), person("Tom", "Smith"), R.FAMILY_SAME),
    (person("Jon", "Smith"), person("Jonathan", "Smith"), R.GIVEN_NICKNAME),
    (person("Bill", "Jones"), person("William", "Jones"), R.GIVEN_NICKNAME),
    (person("Will", "Jones"), person("Bill", "Jones"), R.GIVEN_NICKNAME),
    (person("Liz", "Brown"), person("Elizabeth", "Brown"), R.GIVEN_NICKNAME),
    (person("Robbie", "Brown"), person("Robert", "Brown"), R.GIVEN_NICKNAME),
    (person("Pepe", "Ruiz"), person("José", "Ruiz"), R.GIVEN_NICKNAME),
    (person("Lupe", "Ruiz"), person("Guadalupe", "Ruiz"), R.GIVEN_NICKNAME),
    (person("Chris", "Park"), person("Christopher", "Park"), R.GIVEN_NICKNAME),
    (person("Steven", "Chen"), person("Stephen", "Chen"), R.GIVEN_SOUNDS),
    (person("Catherine", "Smith"), person("Kathryn", "Smith"), R.GIVEN_SOUNDS),
    (person("Mohammed", "Khan"), person("Muhammad", "Khan"), R.GIVEN_SOUNDS),
    (person("Christian", "Vega"), person("Cristian", "Vega"), R.GIVEN_SPELLING),
    (person("Aleksandr", "Ivanov"), person("Alexander", "Ivanov"), R.GIVEN_SOUNDS),
    (person("Yevgeny", "Petrov"), person("Evgeniy", "Petrov"), R.GIVEN_SPELLING),
    (person("Natalya", "Smirnova"), person("Natalia", "Smirnova"), R.GIVEN_SPELLING),
    (person("Юлия", "Смирнова"), person("Yulia", "Smirnova"), R.GIVEN_SPELLING),
    (person("Ksenia", "Orlova"), person("Xenia", "Orlova"), R.GIVEN_SPELLING),
    (person("Micheal", "Jordan"), person("Michael", "Jordan"), R.GIVEN_SOUNDS),
    (person("Bwrnardo", "Amador"), person("Bernardo", "Amador"), R.GIVEN_TYPO),
    (person("Laur", "Stone"), person("Laura", "Stone"), R.GIVEN_SOUNDS),  # not another gender
    (person("Mary", "Smyth"), person("Mary", "Smith"), R.FAMILY_SPELLING),
    (person("Ana", "Gonzalez"), person("Ana", "Gonzlaez"), R.FAMILY_SOUNDS),
    (person("Ana", "Bell"), person("Ana", "Bll"), R.FAMILY_TYPO),
    (person("Maria", "Garcia Lopez"), person("Maria", "Garcia"), R.FAMILY_COMPOUND),
    (person("Anh", "Nguyen"), person("Nguyen", "Anh"), R.NAMES_SWAPPED),
    (person("Huong", "Nguyen Thi"), person("Nguyen Thi", "Huong"), R.NAMES_SWAPPED),
    (person("Mary Ann", "Jones"), person("Mary", "Jones"), R.GIVEN_SAME),
    (person("Michael", "Reyes"), person("John", "Reyes", middle="Michael"), R.GIVEN_MIDDLE),
    (person("Carlos", "Perez"), person("Juan Carlos", "Perez"), R.GIVEN_MIDDLE),
]

# Two people born the same day: twins, brothers and sisters, strangers with one name.
MUST_NOT_MATCH = [
    person("Maria", "Garcia"),
    person("Jose", "Garcia"),
    person("Emily", "Chen"),
    person("Emma", "Chen"),
    person("John", "Smith"),
    person("Jane", "Smith"),
    person("Sam", "Lee"),
    person("Pam", "Lee"),
    person("Dana", "Ruiz"),
    person("Dina", "Ruiz"),
    person("Roberto", "Diaz"),  # both are "Beto", different names
    person("Alberto", "Diaz"),
    person("Taylor", "Brown"),
    person("Tyler", "Brown"),
    person("John", "Smith"),
    person("John", "Smithers"),
    person("Maria", "Lopez"),
    person("Maria", "Perez"),
    person("Maria", "Lopez"),
    person("Lopez", "Ramirez"),
    # A name and its other-gender form.
    person("Daniel", "Lee"),
    person("Danielle", "Lee"),
    person("Mario", "Ruiz"),
    person("Maria", "Ruiz"),
    person("Alexander", "Ito"),
    person("Alexandra", "Ito"),
    person("Christian", "Lee"),
    person("Christina", "Lee"),
    person("Gabriel", "Soto"),
    person("Gabrielle", "Soto"),
    person("Julian", "Soto"),
    person("Juliana", "Soto"),
    person("Louis", "Martin"),
    person("Louise", "Martin"),
    person("René", "Young"),
    person("Renée", "Young"),
    # Different names that share a beginning.
    person("José", "Garcia"),
    person("Josefina", "Garcia"),
    person("Marisol", "Quintero"),
    person("Mari", "Quintero"),
    person("María José", "Vega"),
    person("María Fernanda", "Vega"),
    person("Elizabeth", "Hale", middle="Maria"),
    person("María Cristina", "Hale"),
]
MUST_NOT_MATCH_PAIRS = list(zip(MUST_NOT_MATCH[::2], MUST_NOT_MATCH[1::2], strict=True))


@pytest.mark.parametrize(("new", "existing", "reason"), MUST_MATCH)
def test_names_that_must_match(new, existing, reason):
    for a, b in ((new, existing), (existing, new)):  # the order does not matter
        comparison = compare(a, b)
        assert comparison.warns, comparison
        assert reason in comparison.reasons
        assert identities_match(a, b) is not None


@pytest.mark.parametrize(("new", "existing"), MUST_NOT_MATCH_PAIRS)
def test_names_that_must_not_match(new, existing):
    for a, b in ((new, existing), (existing, new)):
        comparison = compare(a, b)
        assert not comparison.warns, comparison
        assert identities_match(a, b) is None


def test_twins_sharing_everything_but_the_given_name_are_two_people():
    household = {
        "birth_date": BORN,
        "phone": "509-555-0142",
        "high_school_id": 7,
    }
    twin_a = person("Daniel", "Okafor", email="daniel.okafor@example.org", **household)
    twin_b = person("Danielle", "Okafor", email="dani.o@example.net", **household)
    comparison = compare(twin_a, twin_b)
    assert not comparison.warns
    assert R.GIVEN_OTHER_GENDER in comparison.reasons
    # The same name in the personal email at another address outweighs that.
    twin_b = person("Danielle", "Okafor", email="Daniel.Okafor+x@example.net", **household)
    assert compare(twin_a, twin_b).warns


def test_every_signal_of_the_record_counts():
    base = person("Maria", "Lopez", birth_date=BORN)
    alone = compare(base, person("Maria", "Lopez", birth_date=BORN))
    richer = compare(
        person("Maria", "Lopez", birth_date=BORN, phone="(509) 555-0100", high_school_id=3),
        person("Maria", "Lopez", birth_date=BORN, phone="509.555.0100", high_school_id=3),
    )
    assert richer.score > alone.score
    assert {R.PHONE_SAME, R.SCHOOL_SAME, R.BIRTH_DATE_SAME} <= set(richer.reasons)
    swapped_date = compare(base, person("Maria", "Lopez", birth_date=datetime.date(2009, 12, 4)))
    assert R.BIRTH_DATE_SWAPPED in swapped_date.reasons
    assert swapped_date.warns
    assert swapped_date.kind == MatchKind.BIRTH_DATE


def test_strength_and_kinds():
    same = compare(person("Maria", "Lopez"), person("María", "López"))
    assert same.strong
    assert same.kind == SAME
    assert same.score >= STRONG_SCORE
    nickname = compare(person("Bill", "Jones"), person("William", "Jones"))
    assert nickname.warns
    assert not nickname.strong
    assert nickname.kind == VARIANT
    typo = compare(person("Bwrnardo", "Amador"), person("Bernardo", "Amador"))
    assert WARN_SCORE <= typo.score < STRONG_SCORE
    assert typo.kind == CLOSE
    assert is_likely_same_person(SAME)
    assert is_likely_same_person(VARIANT)
    assert not is_likely_same_person(CLOSE)
    assert not is_likely_same_person(None)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("José Núñez", "jose nunez"),
        ("O'Brien", "obrien"),
        ("O\u2019Brien", "obrien"),
        ("Ana-María", "ana maria"),
        ("  Mary   Ann ", "mary ann"),
        ("Đặng", "dang"),
        ("Łukasz", "lukasz"),
        ("Юлия", "iuliia"),
        ("", ""),
    ],
)
def test_names_are_folded(text, folded):
    assert normalize(text) == folded


@pytest.mark.django_db
def test_students_born_the_same_day_or_with_day_and_month_swapped_are_candidates():
    twin_day = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=BORN
    )
    swapped = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=datetime.date(2009, 12, 4)
    )
    StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=datetime.date(2009, 4, 13)
    )
    StudentProfileFactory(legal_first_name="Emma", legal_last_name="Smith", birth_date=BORN)
    merged = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=BORN
    )
    merged.merged_into = twin_day
    merged.save(update_fields=["merged_into"])
    matches = identity_matches(first_name="Jon", middle_name="", last_name="Smith", birth_date=BORN)
    assert [m.student for m in matches] == [twin_day, swapped]
    assert matches[0].kind == VARIANT
    assert R.GIVEN_NICKNAME in matches[0].comparison.reasons
    assert matches[1].kind == MatchKind.BIRTH_DATE


@pytest.mark.django_db
def test_matches_come_strongest_first_and_can_exclude_a_student():
    close = StudentProfileFactory(
        legal_first_name="Jonathon", legal_last_name="Smith", birth_date=BORN
    )
    same = StudentProfileFactory(
        legal_first_name="Jonathan", legal_last_name="Smith", birth_date=BORN
    )
    matches = identity_matches(
        first_name="Jonathan", middle_name="", last_name="Smith", birth_date=BORN
    )
    assert [m.student for m in matches] == [same, close]
    matches = identity_matches(
        first_name="Jonathan",
        middle_name="",
        last_name="Smith",
        birth_date=BORN,
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
