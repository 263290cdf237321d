"""Is this the same person as a student we already have?

Duplicate student records are the most common reason credit never reaches a college
transcript; stopping a twin from signing up is as bad. Two student records are compared
field by field, and each comparison adds evidence for or against one person, in the
manner of Fellegi and Sunter: a weight (roughly the log2 of how much likelier the
agreement is for one person than for two) and a reason in words that staff see.

Names are folded first (`normalize`): case, accents, apostrophes, periods, hyphens and
spacing are ignored, and letters without an accent form are spelled out in Latin letters
("Đặng" = "dang", "Łukasz" = "lukasz", "Юлия" = "iuliia"). Then a given name is:

SAME          the same folded name;
NICKNAME      one is a nickname of the other, or both are nicknames of one name
              (the `nicknames` dataset, plus the Spanish short forms it lacks): Bill and
              William, Bill and Will; but not two formal names that share a nickname
              (Roberto and Alberto are both "Beto");
SPELLING      the same name spelled or transliterated another way (`spelling_key`:
              ph/f, ks/x, y/i, kh/h, doubled letters, final -iy/-ey...): Aleksandr and
              Alexandr, Natalya and Natalia, Sarah and Sara;
SOUNDS        the same sound (Metaphone of the spelling key): Stephen and Steven,
              Mohammed and Muhammad, Katherine and Kathryn;
TYPO          one typing slip apart (one letter added, dropped, changed, or two swapped),
              unless both are names in their own right (Dana and Dina are two people:
              the given names of data/given_names.txt and the nickname data);
OTHER_GENDER  a name and its other-gender form (Mario and Maria, Daniel and Danielle,
              Julian and Juliana): evidence of two people, however alike they look,
              unless one of the two is no name at all but a slip ("Laura" / "Laur");
DIFFERENT     anything else, including different names that share a beginning
              (Emily and Emma, José and Josefina, Christian and Christina).

A family name is SAME (also "De la Cruz" = "Delacruz", a "Jr." ignored), COMPOUND (one
holds the other: "García" and "García López"), SPELLING, SOUNDS, TYPO or DIFFERENT. The
two names are also tried in the other order ("Nguyen Anh" / "Anh Nguyen"), and the
middle name as the given name ("John Michael Reyes" / "Michael Reyes").

The rest of the record counts too: the birth date (the same, day and month swapped, one
digit apart), the same name in the personal email at another address (strong: siblings
do not share one), the same phone and the same high school (weak: twins and siblings
share them too, so they never outweigh a different given name).

A pair whose total reaches WARN_SCORE is shown to a student signing up, who may say "this
is not me" and go on (the pair then waits for staff, PossibleDuplicate). Nothing stops a
sign-up for good. STRONG_SCORE marks the pairs that are almost surely one person (the
same names and birth date): the sign-up then leads with signing in to that account.

The statewide check (enrollment.linkage) uses the same name keys (`linkage_features`) in
a probabilistic record-linkage model over all students.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import jellyfish
from nameparser.config import CONSTANTS as NAME_CONSTANTS
from nicknames import name_triplets
from rapidfuzz.distance import OSA

from .models import MatchKind, MatchReason

R = MatchReason

# --- folding ------------------------------------------------------------------------------------

# Letters that Unicode does not decompose into a Latin letter and an accent, and the
# Cyrillic script (transliterated as US passports do, ICAO 9303).
_SCRIPT = {
    "đ": "d",
    "ð": "d",
    "ø": "o",
    "ł": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "\u0131": "i",  # dotless i
    "ħ": "h",
    "ё": "e",
    "ж": "zh",
    "\u0445": "kh",  # Cyrillic ha
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    "є": "ie",
    "\u0456": "i",  # Ukrainian i
    "ї": "i",
    "ґ": "g",
}
_SCRIPT_TABLE = {
    **str.maketrans("абвгдезийклмнопрстуфыэ", "abvgdeziiklmnoprstufye"),
    **str.maketrans(_SCRIPT),
}


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Lower case, Latin letters without accents, apostrophes and periods dropped, other
    punctuation a space: "José Núñez" → "jose nunez", "O'Brien" → "obrien"."""
    if not text:
        return ""
    if text.isascii():  # most names: no accents to take off
        return " ".join(re.sub(r"[^0-9a-z]+", " ", re.sub(r"['`.]", "", text.lower())).split())
    lowered = text.casefold().translate(_SCRIPT_TABLE)
    decomposed = unicodedata.normalize("NFKD", lowered)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['\u2019\u2018\u00b4`.]", "", plain).translate(_SCRIPT_TABLE)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


# nameparser's dictionaries: generational suffixes ("Jr", "III"), and the particles and
# conjunctions inside compound family names ("de la", "van", "y").
_SUFFIXES = frozenset(
    s for s in NAME_CONSTANTS.suffix_not_acronyms if s.isascii() and s.isalnum()
) - {"i", "v", "esq", "esquire", "ret", "vet"}
_PARTICLES = frozenset(
    p.rstrip("-") for p in NAME_CONSTANTS.prefixes if p.isascii() and p.rstrip("-").isalpha()
) | frozenset(c for c in NAME_CONSTANTS.conjunctions if c.isascii() and c.isalpha())

# Spelling and transliteration variants of one name, in order (on folded single words).
_SPELLING_RULES = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^mac", "mc"),  # MacKenzie / McKenzie
        (r"chr", "kr"),  # Christian / Cristian / Kristian
        (r"eigh$", "i"),  # Ashleigh / Ashlee, Leigh / Lee
        (r"ph", "f"),
        (r"kh", "h"),
        (r"(?<=.)yo", "e"),  # Fyodor / Fedor, Pyotr / Petr
        (r"^ye|^je(?=[vlks])", "e"),  # Yevgeny / Evgeny, Yelena / Jelena, Yessica
        (r"^y(?=[aeou])|^i(?=u|a[a-z]{2})", "j"),  # Yesenia / Jesenia, Yulia / Iuliia
        (r"cks|ks|x", "x"),  # Aleksandr / Alexandr, Ksenia / Xenia
        (r"ck", "k"),
        (r"c(?![eiyh])", "k"),  # Carlos / Karlos, Catherine / Katherine
        (r"q", "k"),
        (r"z", "s"),
        (r"w", "v"),
        (r"ou|oo", "u"),
        (r"ee", "i"),
        (r"(?<=[aeiou])h$", ""),  # Sarah / Sara, Hannah / Hanna
        (r"(?<=[tdg])h", ""),  # Thomas / Tomas, Meghan / Megan
        (r"oey$", "oe"),  # Zoey / Zoe, Chloey / Chloe
        (r"(iy|ii|ij|ie|ey|ei|y)$", "i"),  # Dmitriy / Dmitri, Andrey / Andrei, Jenny / Jennie
        (r"(?<=.)y", "i"),  # Natalya / Natalia, Kristyn / Kristin
        (r"(.)\1+", r"\1"),  # Phillip / Filip, Anna / Ana
    )
]


@lru_cache(maxsize=65536)
def spelling_key(word: str) -> str:
    """One folded word with its spelling and transliteration variants made alike."""
    for pattern, replacement in _SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=65536)
def sound_key(word: str) -> str:
    """How a folded word sounds (Metaphone of its spelling key)."""
    return jellyfish.metaphone(spelling_key(word)) if word else ""


def feminine_ending(word: str) -> bool:
    """Does the word end in -a (or -ah), as feminine given names in many languages do?"""
    return word.endswith(("a", "ah"))


# Feminine endings added to a masculine given name: Louis / Louise, Daniel / Danielle,
# Daniel / Daniela, Isabel / Isabella, Justin / Justine, Jean / Jeanne, Henri / Henriette.
_FEMININE_SUFFIXES = ("a", "la", "e", "le", "elle", "ne", "ine", "tte", "ette")


@lru_cache(maxsize=65536)
def masculine_bases(word: str) -> tuple[str, ...]:
    """The masculine names a feminine form may be made from by an added ending:
    "danielle" → ("daniel",), "luisa" → ("luis",). A base ends in a consonant, and a
    silent e after a double letter is spelling, not gender ("Anne", "Lynne")."""
    bases = []
    for suffix in _FEMININE_SUFFIXES:
        base = word.removesuffix(suffix)
        if base == word or len(base) < 2:
            continue
        if base[-1] in "aeiouy" and not (suffix == "e" and base[-1] == "e"):
            continue  # but René / Renée, André / Andrée
        if suffix == "e" and base[-1] == base[-2]:
            continue
        bases.append(base)
    return tuple(bases)


def other_gender_forms(a: str, b: str) -> bool:
    """Are two given names a name and its other-gender form (Mario / Maria, Daniel /
    Danielle, Julian / Juliana)? Such names look alike but name two people.

    A typing slip can look the same ("Laura" / "Laur"): when only one of the two is a
    given name we know, the other is taken for a slip, not a name of its own.
    """
    added_ending = a in masculine_bases(b) or b in masculine_bases(a)
    other_ending = feminine_ending(a) != feminine_ending(b) and (
        spelling_key(a) == spelling_key(b)
        or OSA.distance(a, b, score_cutoff=2) <= 1
        or (sound_key(a) == sound_key(b) and abs(len(a) - len(b)) <= 1)
    )
    if not (added_ending or other_ending):
        return False
    return not (known_name(a) != known_name(b) and typo_apart(a, b))


_VOWEL_CLASSES = str.maketrans("aeiouy", "aiiuui")


def first_vowel(word: str) -> str:
    """The class of a word's first vowel: a; e, i or y; o or u. "John" and "Jane",
    "Taylor" and "Tyler" sound alike to Metaphone, not to a person."""
    found = re.search(r"[aeiouy]", spelling_key(word))
    return found.group().translate(_VOWEL_CLASSES) if found else ""


# --- nicknames -------------------------------------------------------------------------------

# Spanish short forms and English/Spanish pairs that the `nicknames` dataset (English)
# lacks: formal name → its short forms and equivalents. Data, like the dataset.
SPANISH_NICKNAMES: dict[str, tuple[str, ...]] = {
    "adolfo": ("fito",),
    "alberto": ("beto", "tito"),
    "alejandra": ("ale", "alex", "sandra", "jandra"),
    "alejandro": ("ale", "alex", "jando", "alexander"),
    "alicia": ("licha",),
    "antonio": ("tono", "tonio", "toni", "anthony"),
    "carolina": ("caro",),
    "catalina": ("cata", "catherine"),
    "concepcion": ("concha", "conchita", "chita"),
    "consuelo": ("chelo",),
    "cristobal": ("cris", "toba"),
    "dolores": ("lola", "lolita"),
    "eduardo": ("lalo", "edward"),
    "enrique": ("kike", "quique", "henry"),
    "ernesto": ("neto",),
    "federico": ("fede", "kiko"),
    "fernanda": ("fer", "nanda"),
    "fernando": ("fer", "nando"),
    "francisca": ("paca", "paquita", "pancha", "frances"),
    "francisco": ("paco", "pancho", "cisco", "curro", "francis", "frank"),
    "gabriela": ("gaby", "gabi"),
    "gerardo": ("gera", "lalo"),
    "gonzalo": ("chalo",),
    "graciela": ("chela",),
    "guadalupe": ("lupe", "lupita", "pita"),
    "guillermo": ("memo", "guille", "william"),
    "humberto": ("beto",),
    "ignacio": ("nacho",),
    "isabel": ("chabela", "chabe"),
    "javier": ("javi", "xavier"),
    "jesus": ("chuy", "chucho", "chus"),
    "jimena": ("ximena", "jime"),
    "jose": ("pepe", "chepe", "joseph"),
    "josefina": ("pepa", "pepita", "chepina", "fina"),
    "juan": ("juanito", "john"),
    "luis": ("lucho", "louis"),
    "luz": ("lucha",),
    "manuel": ("manolo", "manny", "lolo"),
    "margarita": ("marga", "magui", "margaret"),
    "maria": ("mari", "maru", "mary"),
    "mercedes": ("meche", "merche"),
    "miguel": ("miguelito", "michael"),
    "pedro": ("pedrito", "peter"),
    "pilar": ("pili",),
    "rafael": ("rafa", "rafi"),
    "ricardo": ("richi", "rica", "richard"),
    "roberto": ("beto", "robert"),
    "rodolfo": ("fito", "rudy", "rudolph"),
    "rosario": ("charo", "chayo"),
    "santiago": ("santi", "chago", "diego"),
    "sebastian": ("sebas", "chano"),
    "teresa": ("tere", "techa"),
    "valentina": ("vale",),
    "vicente": ("chente",),
}


_DIMINUTIVE = ("ie", "y", "ey", "i", "ee")


@cache
def _nickname_graph() -> dict[str, frozenset[str]]:
    """Each name → the names it is directly linked to as nickname and formal name."""
    graph: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        # By spelling key: a nickname spelled another way is the same nickname.
        a = spelling_key(normalize(a).replace(" ", ""))
        b = spelling_key(normalize(b).replace(" ", ""))
        if a and b and a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set()).add(a)

    triplets = [(a, b) for a, relation, b in name_triplets() if relation == "has_nickname"]
    nicknames_of: dict[str, set[str]] = {}
    for formal, nickname in triplets:
        nicknames_of.setdefault(formal, set()).add(nickname)
    # Names that have short forms of their own ("emma": "em").
    formal_names = {
        name
        for name, shorter in nicknames_of.items()
        if any(len(n) <= len(name) - 2 for n in shorter)
    }
    for formal, nickname in triplets:
        if formal in formal_names and nickname in formal_names:
            # The dataset also links names in their own right ("emily": "emma"). Such a
            # link counts when the shorter one is shaped like a short form: a diminutive
            # ending (Eddie, Bobby), or the beginning or end of the other (Alex, Ella).
            short, long = sorted((formal, nickname), key=len)
            if not (short.endswith(_DIMINUTIVE) or long.startswith(short) or long.endswith(short)):
                continue
        link(formal, nickname)
    for formal, nicknames in SPANISH_NICKNAMES.items():
        for nickname in nicknames:
            link(formal, nickname)
    return {name: frozenset(linked) for name, linked in graph.items()}


def _outranks(a: str, b: str) -> bool:
    return (len(a), a) > (len(b), b)


@lru_cache(maxsize=65536)
def nickname_keys(word: str) -> frozenset[str]:
    """The word and the linked names that outrank it (longer: the formal forms).

    Two names are nicknames of one another when their keys meet: directly linked names
    always do (the longer is in both), and two nicknames of one formal name do through it
    (Will, Bill → William); two formal names that only share a short form do not
    (Roberto, Alberto ← Beto).
    """
    key = spelling_key(word)
    linked = _nickname_graph().get(key, frozenset())
    return frozenset({key, *(name for name in linked if _outranks(name, key))})


@cache
def _given_names() -> frozenset[str]:
    """Given names from many languages (data/given_names.txt, see its builder)."""
    text = (Path(__file__).parent / "data" / "given_names.txt").read_text()
    return frozenset(text.split())


def known_name(word: str) -> bool:
    """A given name we know (the name lists or the nickname data), not a typing slip."""
    return word in _given_names() or spelling_key(word) in _nickname_graph()


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


def typo_apart(a: str, b: str, *, shortest: int = 4) -> bool:
    """One typing slip apart (two for long words): a letter added, dropped or changed, or
    two neighbours swapped. Words shorter than `shortest` never are."""
    short = min(len(a), len(b))
    if short < shortest or max(len(a), len(b)) < 4:
        return False
    return OSA.distance(a, b, score_cutoff=2) <= (2 if short >= 9 and a[0] == b[0] else 1)


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
    # In the other order, one of the two names must be written the same.
    if (
        swapped_given in AGREEING
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


# --- the statewide check's view of a record (enrollment.linkage) ------------------------------


def linkage_features(identity: Identity) -> dict:
    """The columns the record-linkage model compares (enrollment.linkage), made with the
    same keys as `compare`: folded names, nickname, spelling and sound keys, endings."""
    born = identity.birth_date
    return {
        **_given_features(identity.first_name, identity.middle_name),
        **_family_features(identity.last_name),
        "email_name": email_name(identity.email) or None,
        "phone": phone_digits(identity.phone) or None,
        "high_school_id": identity.high_school_id,
        "birth_date": born,
        "birth_text": born.isoformat() if born else None,
        "birth_year": born.year if born else None,
        "birth_month": born.month if born else None,
        "birth_day": born.day if born else None,
    }


@lru_cache(maxsize=65536)
def _given_features(first_name: str, middle_name: str) -> dict:
    first, middle = normalize(first_name), normalize(middle_name)
    given = _first_word(first)
    whole = first.replace(" ", "")
    return {
        "given": given or None,
        "given_whole_spell": spelling_key(whole) or None,
        "given_whole_sound": sound_key(whole) or None,
        "given_nick": sorted(nickname_keys(given)) if given else None,
        "given_spell": spelling_key(given) or None,
        "given_sound": sound_key(given) or None,
        "given_vowel": first_vowel(given) or None,
        "given_fem": feminine_ending(given),
        "given_bases": list(masculine_bases(given)) or None,
        "given_known": known_name(given),
        "given_others": [*first.split()[1:], *middle.split()] or None,
        "middle": _first_word(middle) or None,
    }


@lru_cache(maxsize=65536)
def _family_features(last_name: str) -> dict:
    parts = family_words(normalize(last_name))
    family = "".join(parts)
    significant = [w for w in parts if len(w) > 2 and w not in _PARTICLES]
    return {
        "family": family or None,
        "family_words": significant or None,
        "family_first": significant[0] if significant else None,
        "family_last": significant[-1] if significant else None,
        "family_spell": spelling_key(family) or None,
        "family_sound": sound_key(family) or None,
        "family_vowel": first_vowel(family) or None,
    }


MASK = "•••"


def mask_email(email: str) -> str:
    """A hint of an address that never reveals it: jane.doe@gmail.com → j•••@g•••.com."""
    local, _at, domain = (email or "").rpartition("@")
    if not local or not domain:
        return MASK
    labels = domain.split(".")
    top = labels[-1] if len(labels) > 1 else ""
    return f"{local[0]}{MASK}@{labels[0][:1]}{MASK}" + (f".{top}" if top else "")
