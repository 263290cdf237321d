"""Names folded to compare them (enrollment.identity): accents, scripts, spelling and
sound keys, other-gender forms, and the nickname data."""

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import jellyfish
from nameparser.config import CONSTANTS as NAME_CONSTANTS
from nicknames import name_triplets
from rapidfuzz.distance import OSA

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


def typo_apart(a: str, b: str, *, shortest: int = 4) -> bool:
    """One typing slip apart (two for long words): a letter added, dropped or changed, or
    two neighbours swapped. Words shorter than `shortest` never are."""
    short = min(len(a), len(b))
    if short < shortest or max(len(a), len(b)) < 4:
        return False
    return OSA.distance(a, b, score_cutoff=2) <= (2 if short >= 9 and a[0] == b[0] else 1)


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
    text = (Path(__file__).parent.parent / "data" / "given_names.txt").read_text()
    return frozenset(text.split())


def known_name(word: str) -> bool:
    """A given name we know (the name lists or the nickname data), not a typing slip."""
    return word in _given_names() or spelling_key(word) in _nickname_graph()
