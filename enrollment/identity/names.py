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
# Daniel / Daniela, Isabel / Isabella, Justin / Justine, Jean / Jeanne, Henri / Henriette,
# and after an n, Brian / Brianna, Dean / Deanna, Johan / Johanna.
_FEMININE_SUFFIXES = ("a", "la", "e", "le", "elle", "ne", "ine", "tte", "ette", "na")
# Feminine endings that take the place of a masculine one: Mario / Maria, Michael /
# Michelle, Michela.
_FEMININE_REPLACEMENTS = (("a", "o"), ("elle", "ael"), ("ela", "ael"))


@lru_cache(maxsize=65536)
def masculine_bases(word: str) -> tuple[str, ...]:
    """The masculine names a feminine form may be made from: by an added ending
    ("danielle" → "daniel", "luisa" → "luis", "brianna" → "brian"), a changed one
    ("maria" → "mario", "michelle" → "michael"), or, for a name the name lists give to
    women, a name they give to men that differs from it only in its ending ("frances" →
    "francis", "jessie" → "jesse"). An added ending follows a consonant, and a silent e
    after a double letter is spelling, not gender ("Anne", "Lynne"); a name the lists
    give to women is no masculine base ("Susan" / "Susanna")."""
    bases = []
    for suffix in _FEMININE_SUFFIXES:
        base = word.removesuffix(suffix)
        if base == word or len(base) < 2:
            continue
        if base[-1] in "aeiouy" and not (suffix == "e" and base[-1] == "e"):
            continue  # but René / Renée, André / Andrée
        if suffix == "e" and base[-1] == base[-2]:
            continue
        if suffix == "na" and not (base[-1] == "n" and name_gender(base) == "m"):
            continue  # Brianna, Johanna; but many women's names end in n (Joan, Marian)
        bases.append(base)
    for feminine, masculine in _FEMININE_REPLACEMENTS:
        if word.endswith(feminine) and len(word) > len(feminine) + 1:
            bases.append(word.removesuffix(feminine) + masculine)
    bases = [base for base in bases if name_gender(base) != "f"]
    return (*bases, *_listed_masculine_forms(word))


# Two names differ only in their endings when, as written or spelled alike (spelling_key),
# they share a beginning at least this long and neither has more letters than this after
# it: Francis / Frances, Luca / Lucia, Michael / Michelle, Steven / Stephanie; not
# Frederick / Freddie.
_SHARED_BEGINNING = 3
_ENDING_AT_MOST = 4


def _endings_apart(a: str, b: str) -> bool:
    """Do two words differ only in their endings (Francis / Frances, Brian / Brianna)?"""
    for x, y in ((a, b), (spelling_key(a), spelling_key(b))):
        shared = 0
        for letter_x, letter_y in zip(x, y, strict=False):
            if letter_x != letter_y:
                break
            shared += 1
        if shared >= _SHARED_BEGINNING and max(len(x), len(y)) - shared <= _ENDING_AT_MOST:
            return True
    return False


def _beginnings(word: str) -> set[str]:
    """The first letters of a word, as written and spelled alike."""
    return {word[:_SHARED_BEGINNING], spelling_key(word)[:_SHARED_BEGINNING]}


def _alike(a: str, b: str) -> bool:
    """Alike enough to be read as one name: the same spelling or sound, or a slip apart."""
    return spelling_key(a) == spelling_key(b) or sound_key(a) == sound_key(b) or typo_apart(a, b)


@cache
def _listed_men_by_beginning() -> dict[str, frozenset[str]]:
    """The names the lists give to men, by their first letters (_beginnings)."""
    found: dict[str, set[str]] = {}
    for name, gender in _given_names().items():
        if gender == "m":
            for beginning in _beginnings(name):
                found.setdefault(beginning, set()).add(name)
    return {beginning: frozenset(names) for beginning, names in found.items()}


def _listed_masculine_forms(word: str) -> tuple[str, ...]:
    """For a name the lists give to women, the names they give to men that differ from it
    only in their endings and are alike enough to be read as one (Frances / Francis,
    Jessie / Jesse, Michelle / Michael): the lists know the two as two names of two
    genders, however alike they sound. Names less alike are told apart anyway. Not a
    nickname of it: a short form may be listed for the other gender (Frank / Frankie,
    Chris / Christina); two spellings of one (Terry / Terri) share their nicknames."""
    if name_gender(word) != "f":
        return ()
    by_beginning = _listed_men_by_beginning()
    men = set().union(*(by_beginning.get(beginning, ()) for beginning in _beginnings(word)))
    return tuple(
        man
        for man in sorted(men)
        if _endings_apart(word, man)
        and _alike(word, man)
        and (
            spelling_key(word) == spelling_key(man) or not nickname_keys(word) & nickname_keys(man)
        )
    )


def other_gender_forms(a: str, b: str) -> bool:
    """Are two given names a name and its other-gender form (Mario / Maria, Daniel /
    Danielle, Julian / Juliana, Michael / Michelle, Francis / Frances)? Such names look
    alike but name two people.

    A typing slip can look the same ("Laura" / "Laur"): when only one of the two is a
    given name we know, the other is taken for a slip, not a name of its own; unless it
    is a masculine name we know with a feminine ending (Kevin / Kevina, Mikhail /
    Mikhaila, Sergio / Sergia), which a slip seldom makes. And two names the lists give
    one gender are one name when the nickname data links them (Mary / María, Susan /
    Susana).
    """
    gender = name_gender(a)
    if gender and gender == name_gender(b) and nickname_keys(a) & nickname_keys(b):
        return False  # one name, say the lists and the nickname data (Mary / María)
    added_ending = a in masculine_bases(b) or b in masculine_bases(a)
    other_ending = feminine_ending(a) != feminine_ending(b) and (
        spelling_key(a) == spelling_key(b)
        or OSA.distance(a, b, score_cutoff=2) <= 1
        or (sound_key(a) == sound_key(b) and abs(len(a) - len(b)) <= 1)
    )
    if not (added_ending or other_ending):
        return False
    known_a, known_b = known_name(a), known_name(b)
    if known_a == known_b or not typo_apart(a, b):
        return True
    known, unknown = (a, b) if known_a else (b, a)
    return name_gender(known) == "m" and known in masculine_bases(unknown)


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
# lacks: formal name → its short forms and equivalents. Data, like the dataset. The
# equivalents are the name's usual English form, one a student may write on one record
# and not the other (Jorge / George, Guillermo / William); not one whose English form's
# nicknames reach another name (Josefina / Josephine / Joe, Lorenzo / Lawrence / Lori).
SPANISH_NICKNAMES: dict[str, tuple[str, ...]] = {
    "adolfo": ("fito",),
    "alberto": ("beto", "tito", "albert"),
    "alejandra": ("ale", "alex", "sandra", "jandra"),
    "alejandro": ("ale", "alex", "jando", "alexander"),
    "alicia": ("licha",),
    "andres": ("andrew",),
    "antonio": ("tono", "tonio", "toni", "anthony"),
    "carlos": ("carlitos", "charles"),
    "carlota": ("charlotte",),
    "carolina": ("caro",),
    "catalina": ("cata", "catherine"),
    "concepcion": ("concha", "conchita", "chita"),
    "consuelo": ("chelo",),
    "cristobal": ("cris", "toba", "christopher"),
    "dolores": ("lola", "lolita"),
    "eduardo": ("lalo", "edward"),
    "enrique": ("kike", "quique", "henry"),
    "ernesto": ("neto",),
    "esteban": ("stephen",),
    "federico": ("fede", "kiko"),
    "felipe": ("philip",),
    "fernanda": ("fer", "nanda"),
    "fernando": ("fer", "nando"),
    "francisca": ("paca", "paquita", "pancha", "frances"),
    "francisco": ("paco", "pancho", "cisco", "curro", "francis", "frank"),
    "gabriela": ("gaby", "gabi"),
    "gerardo": ("gera", "lalo"),
    "gonzalo": ("chalo",),
    "graciela": ("chela",),
    "gregorio": ("goyo", "gregory"),
    "guadalupe": ("lupe", "lupita", "pita"),
    "guillermo": ("memo", "guille", "william"),
    "humberto": ("beto",),
    "ignacio": ("nacho",),
    "isabel": ("chabela", "chabe"),
    "jaime": ("james",),
    "javier": ("javi", "xavier"),
    "jesus": ("chuy", "chucho", "chus"),
    "jimena": ("ximena", "jime"),
    "jorge": ("coque", "george"),
    "jose": ("pepe", "chepe", "joseph"),
    "josefina": ("pepa", "pepita", "chepina", "fina"),
    "juan": ("juanito", "john"),
    "juana": ("juanita", "jane"),
    "luis": ("lucho", "louis"),
    "luz": ("lucha",),
    "manuel": ("manolo", "manny", "lolo"),
    "marcos": ("mark",),
    "margarita": ("marga", "magui", "margaret"),
    "maria": ("mari", "maru", "mary"),
    "mateo": ("matthew",),
    "mercedes": ("meche", "merche"),
    "miguel": ("miguelito", "michael"),
    "pablo": ("pablito", "paul"),
    "pedro": ("pedrito", "peter"),
    "pilar": ("pili",),
    "rafael": ("rafa", "rafi"),
    "ricardo": ("richi", "rica", "richard"),
    "roberto": ("beto", "robert"),
    "rodolfo": ("fito", "rudy", "rudolph"),
    "rosario": ("charo", "chayo"),
    "santiago": ("santi", "chago", "diego"),
    "sebastian": ("sebas", "chano"),
    "susana": ("susan",),
    "teresa": ("tere", "techa"),
    "valentina": ("vale",),
    "vicente": ("chente", "vincent"),
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
def _given_names() -> dict[str, str]:
    """Given names from many languages → "m" or "f" when the name lists give it mostly to
    men or to women, else "" (data/given_names.txt, see its builder)."""
    text = (Path(__file__).parent.parent / "data" / "given_names.txt").read_text()
    return {
        name: gender
        for name, _space, gender in (line.partition(" ") for line in text.splitlines())
        if name
    }


def known_name(word: str) -> bool:
    """A given name we know (the name lists or the nickname data), not a typing slip."""
    return word in _given_names() or spelling_key(word) in _nickname_graph()


def name_gender(word: str) -> str:
    """The gender the name lists mostly give a name: "m", "f", or "" (both, or unlisted)."""
    return _given_names().get(word, "")
