"""Two student records compared field by field (enrollment.identity): each field adds a
weight for or against one person, and a reason in words staff see."""

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rapidfuzz.distance import OSA

from ..models import MatchKind, MatchReason
from .names import (
    _PARTICLES,
    _SUFFIXES,
    first_vowel,
    known_name,
    nickname_keys,
    normalize,
    other_gender_forms,
    sound_key,
    spelling_key,
    typo_apart,
)

R = MatchReason

# --- comparing names ------------------------------------------------------------------------------


class Level:
    SAME = "same"
    NICKNAME = "nickname"
    SPELLING = "spelling"
    SOUNDS = "sounds"
    TYPO = "typo"
    COMPOUND = "compound"
    MIDDLE = "middle"
    OTHER_GENDER = "other_gender"
    DIFFERENT = "different"
    MISSING = "missing"


L = Level

# Weights: how much a level speaks for one person (positive) or two (negative).
GIVEN_WEIGHTS = {
    L.SAME: 7.0,
    L.NICKNAME: 5.5,
    L.SPELLING: 5.5,
    L.SOUNDS: 5.0,
    L.TYPO: 4.5,
    L.MIDDLE: 4.0,
    L.OTHER_GENDER: -5.0,
    L.DIFFERENT: -6.0,
    L.MISSING: 0.0,
}
FAMILY_WEIGHTS = {
    L.SAME: 8.0,
    L.COMPOUND: 6.0,
    L.SPELLING: 6.0,
    L.SOUNDS: 5.5,
    L.TYPO: 5.0,
    L.DIFFERENT: -5.0,
    L.MISSING: 0.0,
}
SWAPPED_WEIGHT = -0.5
MIDDLE_SAME_WEIGHT = 1.5
MIDDLE_DIFFERENT_WEIGHT = -1.5
BIRTH_DATE_WEIGHTS = {
    R.BIRTH_DATE_SAME: 0.0,  # the baseline: sign-up candidates share it
    R.BIRTH_DATE_SWAPPED: -3.0,
    R.BIRTH_DATE_TYPO: -4.0,
    R.BIRTH_DATE_DIFFERENT: -12.0,
}
EMAIL_NAME_WEIGHT = 6.0
PHONE_WEIGHT = 1.5
SCHOOL_WEIGHT = 0.5

WARN_SCORE = 9.0
STRONG_SCORE = 14.0

GIVEN_REASONS = {
    L.SAME: R.GIVEN_SAME,
    L.NICKNAME: R.GIVEN_NICKNAME,
    L.SPELLING: R.GIVEN_SPELLING,
    L.SOUNDS: R.GIVEN_SOUNDS,
    L.TYPO: R.GIVEN_TYPO,
    L.MIDDLE: R.GIVEN_MIDDLE,
    L.OTHER_GENDER: R.GIVEN_OTHER_GENDER,
    L.DIFFERENT: R.GIVEN_DIFFERENT,
}
FAMILY_REASONS = {
    L.SAME: R.FAMILY_SAME,
    L.COMPOUND: R.FAMILY_COMPOUND,
    L.SPELLING: R.FAMILY_SPELLING,
    L.SOUNDS: R.FAMILY_SOUNDS,
    L.TYPO: R.FAMILY_TYPO,
    L.DIFFERENT: R.FAMILY_DIFFERENT,
}
# Name levels that say the names agree (used for the email, phone and school signals).
AGREEING = frozenset({L.SAME, L.NICKNAME, L.SPELLING, L.SOUNDS, L.TYPO, L.COMPOUND, L.MIDDLE})


@lru_cache(maxsize=262144)
def given_level(a: str, b: str) -> str:
    """How two folded single given names compare (a Level)."""
    if not a or not b:
        return L.MISSING
    if a == b:
        return L.SAME
    if other_gender_forms(a, b):
        return L.OTHER_GENDER
    if spelling_key(a) == spelling_key(b):
        return L.SPELLING
    if nickname_keys(a) & nickname_keys(b):
        return L.NICKNAME
    if sounds_alike(a, b):
        return L.SOUNDS
    if typo_apart(a, b, shortest=3) and _slip_not_name(a, b):
        return L.TYPO
    return L.DIFFERENT


def _slip_not_name(a: str, b: str) -> bool:
    """Two given names a typing slip apart: is one a slip of the other, rather than two
    names (Dana, Dina)? When we know one name and not the other, the other is a slip.
    Two names we know are two names, unless a letter was left out or added in a long
    one (Sandra, Sanda); two we do not know are, when short with another first vowel."""
    known_a, known_b = known_name(a), known_name(b)
    if known_a != known_b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    if known_a:
        return abs(len(a) - len(b)) == 1
    return len(a) != len(b) or len(a) > 5 or first_vowel(a) == first_vowel(b)


def sounds_alike(a: str, b: str) -> bool:
    """The same Metaphone sound (of at least two letters) and the same first vowel."""
    sound = sound_key(a)
    return len(sound) >= 2 and sound == sound_key(b) and first_vowel(a) == first_vowel(b)


@lru_cache(maxsize=262144)
def family_level(a: str, b: str) -> str:
    """How two folded family names (several words allowed) compare (a Level)."""
    if not a or not b:
        return L.MISSING
    words_a, words_b = family_words(a), family_words(b)
    compact_a, compact_b = "".join(words_a), "".join(words_b)
    if compact_a == compact_b:
        return L.SAME
    significant_a = {w for w in words_a if len(w) > 2 and w not in _PARTICLES}
    significant_b = {w for w in words_b if len(w) > 2 and w not in _PARTICLES}
    if (
        significant_a
        and significant_b
        and (significant_a <= significant_b or significant_b <= significant_a)
    ):
        return L.COMPOUND
    if spelling_key(compact_a) == spelling_key(compact_b):
        return L.SPELLING
    if sounds_alike(compact_a, compact_b):
        return L.SOUNDS
    if typo_apart(compact_a, compact_b, shortest=3):
        return L.TYPO
    return L.DIFFERENT


@lru_cache(maxsize=65536)
def family_words(folded: str) -> tuple[str, ...]:
    """A folded family name's words without a generational suffix ("smith jr" → smith)."""
    words = folded.split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return tuple(words)


# --- comparing two students -----------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What a student record says about who they are. Only the names are required."""

    first_name: str
    last_name: str
    middle_name: str = ""
    birth_date: date | None = None
    email: str = ""
    phone: str = ""
    high_school_id: int | None = None


@dataclass(frozen=True)
class Comparison:
    """The evidence that two records are one person: a score and the reasons."""

    score: float
    reasons: tuple[str, ...]
    given: str
    family: str
    swapped: bool = False
    birth_date: str = ""

    @property
    def warns(self) -> bool:
        return self.score >= WARN_SCORE

    @property
    def strong(self) -> bool:
        return self.score >= STRONG_SCORE

    @property
    def kind(self) -> str:
        """The pair's kind in a word (MatchKind), for the older queue column."""
        if self.birth_date not in ("", R.BIRTH_DATE_SAME):
            return MatchKind.BIRTH_DATE
        if self.given == L.SAME and self.family == L.SAME and not self.swapped:
            return MatchKind.SAME
        if self.given in AGREEING and self.family in AGREEING:
            loose = {L.TYPO, L.SOUNDS} & {self.given, self.family}
            return MatchKind.CLOSE if loose else MatchKind.VARIANT
        if R.PHONE_SAME in self.reasons and R.EMAIL_NAME not in self.reasons:
            return MatchKind.PHONE
        return MatchKind.CLOSE


def _first_word(folded: str) -> str:
    return folded.split()[0] if folded else ""


def _given_best(a: str, b: str) -> str:
    """Compare given names by their first words, and whole ("Ana María" / "Anamaria").
    Two compound given names agree only if their second words do too: "María José" and
    "María Fernanda" are two people."""
    order = list(GIVEN_WEIGHTS)
    words_a, words_b = a.split(), b.split()
    first = given_level(_first_word(a), _first_word(b))
    both_compound = len(words_a) > 1 and len(words_b) > 1
    if both_compound and first in AGREEING and given_level(words_a[1], words_b[1]) not in AGREEING:
        return L.DIFFERENT
    levels = [first]
    if len(words_a) > 1 or len(words_b) > 1:
        levels.append(given_level("".join(words_a), "".join(words_b)))
    return min(levels, key=order.index)


def _goes_by_another_given_name(first_a: str, middle_a: str, first_b: str, middle_b: str) -> bool:
    """Does one record go by another of the other's given names ("Juan Carlos" /
    "Carlos", "John Michael" / "Michael")? All of its given names must be among the
    other's: "Elizabeth María" and "María Cristina" are two people."""
    names_a = f"{first_a} {middle_a}".split()
    names_b = f"{first_b} {middle_b}".split()

    def among(word: str, names: list[str]) -> bool:
        return any(given_level(word, n) in (L.SAME, L.NICKNAME, L.SPELLING) for n in names)

    for mine, theirs in ((names_b, names_a), (names_a, names_b)):
        if mine and among(mine[0], theirs[1:]) and all(among(w, theirs) for w in mine):
            return True
    return False


def _names(a: Identity, b: Identity) -> tuple[float, list[str], str, str, bool]:
    """The best reading of the two names: as written, in the other order, or with a
    middle name used as the given name."""
    first_a, first_b = normalize(a.first_name), normalize(b.first_name)
    last_a, last_b = normalize(a.last_name), normalize(b.last_name)
    middle_a, middle_b = normalize(a.middle_name), normalize(b.middle_name)
    readings = []
    given, family = _given_best(first_a, first_b), family_level(last_a, last_b)
    readings.append((GIVEN_WEIGHTS[given] + FAMILY_WEIGHTS[family], given, family, False))
    if given not in AGREEING and _goes_by_another_given_name(first_a, middle_a, first_b, middle_b):
        readings.append((GIVEN_WEIGHTS[L.MIDDLE] + FAMILY_WEIGHTS[family], L.MIDDLE, family, False))
    swapped_given = _given_best(first_a, last_b)
    swapped_family = family_level(last_a, first_b)
    # In the other order, one of the two names must be written the same; and the order
    # must change something: "Martin Martin" reads the same either way, and "Martine
    # Martin" is his sister, not him with the names swapped.
    if (
        first_a != last_a
        and first_b != last_b
        and swapped_given in AGREEING
        and swapped_family in AGREEING
        and {swapped_given, swapped_family} & {L.SAME, L.SPELLING}
    ):
        readings.append(
            (
                GIVEN_WEIGHTS[swapped_given] + FAMILY_WEIGHTS[swapped_family] + SWAPPED_WEIGHT,
                swapped_given,
                swapped_family,
                True,
            )
        )
    # All the names in another arrangement ("Thi Anh Nguyen" / "Nguyen Thi Anh").
    words_a = sorted(f"{first_a} {middle_a} {last_a}".split())
    words_b = sorted(f"{first_b} {middle_b} {last_b}".split())
    if len(words_a) > 1 and words_a == words_b and (first_a, last_a) != (first_b, last_b):
        readings.append(
            (GIVEN_WEIGHTS[L.SAME] + FAMILY_WEIGHTS[L.SAME] + SWAPPED_WEIGHT, L.SAME, L.SAME, True)
        )
    score, given, family, swapped = max(readings, key=lambda r: r[0])
    reasons = []
    if swapped:
        reasons.append(R.NAMES_SWAPPED)
    if given in GIVEN_REASONS:
        reasons.append(GIVEN_REASONS[given])
    if family in FAMILY_REASONS:
        reasons.append(FAMILY_REASONS[family])
    if middle_a and middle_b and given != L.MIDDLE and not swapped:
        if given_level(_first_word(middle_a), _first_word(middle_b)) in AGREEING:
            score += MIDDLE_SAME_WEIGHT
            reasons.append(R.MIDDLE_SAME)
        else:
            score += MIDDLE_DIFFERENT_WEIGHT
            reasons.append(R.MIDDLE_DIFFERENT)
    return score, reasons, given, family, swapped


def birth_date_reason(a: date, b: date) -> str:
    """The same date, day and month swapped, one typing slip apart, or different."""
    if a == b:
        return R.BIRTH_DATE_SAME
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return R.BIRTH_DATE_SWAPPED
    if OSA.distance(a.isoformat(), b.isoformat(), score_cutoff=2) <= 1:
        return R.BIRTH_DATE_TYPO
    return R.BIRTH_DATE_DIFFERENT


def phone_digits(phone: str) -> str:
    """The last ten digits of a phone number, or "" when it has fewer than seven."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return digits[-10:] if len(digits) >= 7 else ""


def email_name(email: str) -> str:
    """The personal part of an address, alike across providers: "Ana.Ruiz+sers@x.org" →
    "anaruiz". Empty for very short or generic ones."""
    local = (email or "").rpartition("@")[0].split("+")[0].casefold()
    name = re.sub(r"[^0-9a-z]", "", local if local.isascii() else normalize(local))
    return name if len(name) >= 5 and not name.isdigit() else ""


def compare(a: Identity, b: Identity) -> Comparison:
    """Weigh the evidence that two student records are one person."""
    score, reasons, given, family, swapped = _names(a, b)
    names_agree = given in AGREEING or family in AGREEING
    date_reason = ""
    if a.birth_date and b.birth_date:
        date_reason = birth_date_reason(a.birth_date, b.birth_date)
        score += BIRTH_DATE_WEIGHTS[date_reason]
        reasons.append(date_reason)
    if email_name(a.email) and email_name(a.email) == email_name(b.email):
        score += EMAIL_NAME_WEIGHT
        reasons.append(R.EMAIL_NAME)
    if names_agree and phone_digits(a.phone) and phone_digits(a.phone) == phone_digits(b.phone):
        score += PHONE_WEIGHT
        reasons.append(R.PHONE_SAME)
    if names_agree and a.high_school_id and a.high_school_id == b.high_school_id:
        score += SCHOOL_WEIGHT
        reasons.append(R.SCHOOL_SAME)
    return Comparison(
        score=round(score, 2),
        reasons=tuple(reasons),
        given=given,
        family=family,
        swapped=swapped,
        birth_date=date_reason,
    )


def identities_match(a: Identity, b: Identity) -> MatchKind | None:
    """How two legal names compare, by the names alone (None: different people).

    SAME: the same names; VARIANT: the same names written another way (nickname,
    spelling, compound, order); CLOSE: alike enough to ask (a typing slip, the same
    sound). Used where a name must confirm a SERS id.
    """
    names_only = compare(
        Identity(first_name=a.first_name, middle_name=a.middle_name, last_name=a.last_name),
        Identity(first_name=b.first_name, middle_name=b.middle_name, last_name=b.last_name),
    )
    if not names_only.warns:
        return None
    if names_only.given == L.SAME and names_only.family == L.SAME:
        return MatchKind.SAME
    strong_levels = {L.SAME, L.NICKNAME, L.SPELLING, L.COMPOUND, L.MIDDLE}
    if names_only.given in strong_levels and names_only.family in strong_levels:
        return MatchKind.VARIANT
    return MatchKind.CLOSE


def is_likely_same_person(kind: str | None) -> bool:
    """A SAME or VARIANT name match: worth sending that account a sign-in link."""
    return kind in (MatchKind.SAME, MatchKind.VARIANT)
