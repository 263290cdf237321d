"""Which SERS class an SIS class probably is, and which registered student an SIS
student is. Pure rules: the selectors give them the rows.

Classes: each SERS class of the school in the SIS class's school year is scored on what
both sides know: the course title (rapidfuzz's token-set similarity, against the SIS
course's and class's titles), the course code (the district's own code of the SERS
course), the teacher (email, else name similarity), the period (its digits) and the term
(full year, fall or spring). The score is the weighted mean of the signals both sides
have; the best class at MIN_SCORE or more is suggested. Staff confirm every suggestion.

Students: by the strongest signal SERS has. StudentProfile keeps no school student
number, so: the same email address (the school's address, if the student registered with
it), else the same legal name (enrollment.identity: accents, hyphens and case ignored),
else a name variant (nickname, order); only a match that is the one candidate at its
strength counts. A close spelling is not enough: the teacher sees that student in both
lists instead.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from ..identity import Identity, identities_match, normalize
from ..models import MatchKind

MIN_SCORE = 70
WEIGHTS = {"title": 50, "code": 25, "teacher": 25, "period": 15, "term": 10}
_DIGITS = re.compile(r"[0-9]+")
_YEAR_LONG = 200  # days: a class this long runs the whole year
FULL_YEAR, FALL, SPRING = "year", "fall", "spring"  # Section.Term's values


@dataclass(frozen=True)
class Candidate:
    """A SERS class, as the suggestion compares it."""

    section_id: int
    title: str
    local_code: str
    teacher_name: str
    teacher_email: str
    section_code: str
    term: str
    year_start: date
    year_end: date


def _compact(text: str) -> str:
    return normalize(text).replace(" ", "")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _sis_term(sis_class) -> str | None:
    start, end = sis_class.starts_on, sis_class.ends_on
    if "schoolYear" in sis_class.term_types or (start and end and (end - start).days > _YEAR_LONG):
        return FULL_YEAR
    if start is None:
        return None
    return FALL if start.month >= 7 else SPRING


def signals(sis_class, candidate: Candidate) -> dict[str, float]:
    """Each signal both sides have, 0 to 100."""
    found: dict[str, float] = {}
    title = normalize(candidate.title)
    if title:
        found["title"] = max(
            fuzz.token_set_ratio(normalize(sis_class.course_title), title),
            fuzz.token_set_ratio(normalize(sis_class.title), title),
        )
    codes = {_compact(sis_class.course_code), _compact(sis_class.class_code)} - {""}
    if candidate.local_code and codes:
        found["code"] = 100.0 if _compact(candidate.local_code) in codes else 0.0
    emails = set(_split(sis_class.teacher_emails))
    names = _split(sis_class.teachers)
    if candidate.teacher_email and candidate.teacher_email.lower() in emails:
        found["teacher"] = 100.0
    elif names and candidate.teacher_name:
        found["teacher"] = max(
            fuzz.token_sort_ratio(normalize(name), normalize(candidate.teacher_name))
            for name in names
        )
    periods = set(_DIGITS.findall(sis_class.periods))
    section_periods = set(_DIGITS.findall(candidate.section_code))
    if periods and section_periods:
        found["period"] = 100.0 if periods & section_periods else 0.0
    term = _sis_term(sis_class)
    if term is not None:
        found["term"] = 100.0 if term == candidate.term else 0.0
    return found


def score(sis_class, candidate: Candidate) -> float:
    found = signals(sis_class, candidate)
    weight = sum(WEIGHTS[name] for name in found)
    if not weight:
        return 0.0
    return sum(WEIGHTS[name] * value for name, value in found.items()) / weight


def _in_year(sis_class, candidate: Candidate) -> bool:
    """The SIS class runs in the SERS class's school year (unknown dates: it may)."""
    start = sis_class.starts_on or sis_class.ends_on
    if start is None:
        return True
    end = sis_class.ends_on or start
    return start <= candidate.year_end and end >= candidate.year_start


def suggest(sis_class, candidates: Iterable[Candidate]) -> tuple[int | None, float]:
    """(the best SERS class for an SIS class, its score), or (None, 0) below MIN_SCORE."""
    best, best_score = None, 0.0
    for candidate in candidates:
        if not _in_year(sis_class, candidate):
            continue
        value = score(sis_class, candidate)
        if value > best_score:
            best, best_score = candidate.section_id, value
    if best_score < MIN_SCORE:
        return None, 0.0
    return best, best_score


# --- students ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone on either list: `key` names them (an enrollment id, an SIS student id)."""

    key: int
    first_name: str
    last_name: str
    middle_name: str = ""
    email: str = ""
    other_first_name: str = ""  # the SIS's preferred first name, if it gives one


_STRENGTH = {MatchKind.SAME: 2, MatchKind.VARIANT: 1}


def _name_strength(sis: Person, registered: Person) -> int:
    best = 0
    for first in filter(None, (sis.first_name, sis.other_first_name)):
        kind = identities_match(
            Identity(first_name=first, last_name=sis.last_name, middle_name=sis.middle_name),
            Identity(
                first_name=registered.first_name,
                last_name=registered.last_name,
                middle_name=registered.middle_name,
            ),
        )
        best = max(best, _STRENGTH.get(kind, 0))
    return best


def match_people(sis: Sequence[Person], registered: Sequence[Person]) -> dict[int, int]:
    """SIS key → registered key, each person matched at most once."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    by_email: dict[str, list[Person]] = {}
    for person in registered:
        if person.email:
            by_email.setdefault(person.email.lower(), []).append(person)
    for person in sis:
        found = by_email.get(person.email.lower(), []) if person.email else []
        if len(found) == 1 and found[0].key not in taken:
            matched[person.key] = found[0].key
            taken.add(found[0].key)
    for strength in (2, 1):
        claims: dict[int, list[int]] = {}
        for person in sis:
            if person.key in matched:
                continue
            candidates = [
                other.key
                for other in registered
                if other.key not in taken and _name_strength(person, other) == strength
            ]
            if len(candidates) == 1:
                claims.setdefault(candidates[0], []).append(person.key)
        for registered_key, sis_keys in claims.items():
            if len(sis_keys) == 1:  # two SIS students claiming one: neither is sure
                matched[sis_keys[0]] = registered_key
                taken.add(registered_key)
    return matched
