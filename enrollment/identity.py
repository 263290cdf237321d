"""Is this the same person as a student we already have?

Duplicate student records are the most common reason credit never reaches a college
transcript, so a sign-up is compared with every student born on the same day. Two
identities are compared only when the birth dates are equal; then the legal names
decide, and the result is one of three kinds (strongest first):

SAME     first and last names are equal once case, accents, hyphens, spaces,
         apostrophes and periods are ignored ("José Núñez" = "jose nunez",
         "Ana-María" = "Ana María", "O'Brien" = "OBrien").
VARIANT  the same person written another way:
         - a nickname of the same first name from NICKNAMES (Jon/Jonathan,
           Bill/William, Liz/Elizabeth, Pepe/José, Lupe/Guadalupe);
         - a short form that begins the full first name (Chris/Christopher,
           Kim/Kimberly: the short one has 3-5 letters, the long one 2 or more extra);
         - first and last names swapped ("Nguyen Anh" / "Anh Nguyen");
         - the middle name used as the first name ("John Michael Reyes" / "Michael Reyes");
         - one compound last name holds the other ("García" / "García López") or
           the same letters split differently ("De la Cruz" / "Delacruz").
CLOSE    both names within typing distance (difflib similarity of at least 0.8 on
         each: "Jonathon"/"Jonathan", "Smyth"/"Smith", "Daniel"/"Danielle").

Anything else does not match: siblings or twins with different first names
("Maria"/"Jose García"), different last names, different birth dates. SAME and
VARIANT stop a sign-up (the student is guided to their existing account); CLOSE
asks the student, and if they say they are a different person the sign-up goes on
and the pair is kept for staff review (PossibleDuplicate).
"""

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from .models import MatchKind

CLOSE_RATIO = 0.8
_STRENGTH = {MatchKind.SAME: 3, MatchKind.VARIANT: 2, MatchKind.CLOSE: 1}

# Formal first name → common nicknames and short forms (English and Spanish).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "gail"),
    "alexander": ("alex", "al", "xander", "sasha", "alec"),
    "alexandra": ("alex", "alexa", "lexi", "sasha", "sandra"),
    "alejandro": ("alex", "alejo", "ale"),
    "alejandra": ("alex", "ale", "sandra"),
    "alberto": ("beto", "al"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony",),
    "antonio": ("tony", "toño", "tono"),
    "benjamin": ("ben", "benny", "benji"),
    "catherine": ("cathy", "kate", "katie", "cat"),
    "katherine": ("kathy", "kate", "katie", "kat", "kathryn"),
    "charles": ("charlie", "chuck", "chaz"),
    "christopher": ("chris", "topher", "kit"),
    "christina": ("chris", "tina", "christy"),
    "concepcion": ("conchita", "concha"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "dolores": ("lola", "lolita"),
    "eduardo": ("lalo", "eddie", "ed"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betsy", "eliza", "libby", "betty", "ellie"),
    "emily": ("em", "emmy"),
    "enrique": ("kike", "quique"),
    "francisco": ("paco", "pancho", "frank", "cisco"),
    "frances": ("fran", "frankie"),
    "gabriel": ("gabe",),
    "gabriela": ("gaby", "gabby", "gabi"),
    "guadalupe": ("lupe", "lupita"),
    "guillermo": ("memo", "will"),
    "ignacio": ("nacho",),
    "isabella": ("bella", "izzy", "isa"),
    "isabel": ("bella", "izzy", "isa", "chabela"),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny"),
    "jesus": ("chuy", "chucho"),
    "jonathan": ("jon", "john", "johnny", "jonny", "nathan"),
    "john": ("jack", "johnny", "jon"),
    "jose": ("pepe", "chepe"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "kimberly": ("kim",),
    "manuel": ("manny", "manolo"),
    "margaret": ("maggie", "meg", "peggy", "marge", "greta"),
    "maria": ("mari", "mary"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mikey", "mick", "mickey"),
    "nicholas": ("nick", "nicky", "nico"),
    "patricia": ("patty", "pat", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "rafael": ("rafa",),
    "rebecca": ("becky", "becca"),
    "richard": ("rick", "ricky", "rich", "dick"),
    "ricardo": ("ricky", "rick", "richie"),
    "robert": ("rob", "bob", "bobby", "robbie", "bert"),
    "roberto": ("beto", "rob", "robbie"),
    "rosario": ("charo", "chayo"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "susan": ("sue", "susie"),
    "theodore": ("ted", "teddy", "theo"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "tori", "vic"),
    "william": ("bill", "billy", "will", "willy", "liam"),
    "zachary": ("zach", "zack"),
}


def _build_groups() -> dict[str, frozenset[str]]:
    """Each name → the formal names it belongs to (its own and those it is a nickname of)."""
    groups: dict[str, set[str]] = {}
    for formal, nicknames in NICKNAMES.items():
        for name in (formal, *nicknames):
            groups.setdefault(normalize(name).replace(" ", ""), set()).add(formal)
    return {name: frozenset(formals) for name, formals in groups.items()}


def normalize(text: str) -> str:
    """Lower case, no accents, apostrophes and periods dropped, other punctuation a space."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['\u2019`.]", "", plain)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


_GROUPS = _build_groups()


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    middle_name: str = ""


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _strongest(*kinds: MatchKind | None) -> MatchKind | None:
    found = [k for k in kinds if k is not None]
    return max(found, key=_STRENGTH.__getitem__) if found else None


def _weakest(a: MatchKind | None, b: MatchKind | None) -> MatchKind | None:
    if a is None or b is None:
        return None
    return min((a, b), key=_STRENGTH.__getitem__)


def _at_most_variant(kind: MatchKind | None) -> MatchKind | None:
    return MatchKind.VARIANT if kind == MatchKind.SAME else kind


def _is_short_form(short: str, long: str) -> bool:
    return 3 <= len(short) <= 5 and len(long) >= len(short) + 2 and long.startswith(short)


def _single_first_names(a: str, b: str) -> MatchKind | None:
    if a == b:
        return MatchKind.SAME
    if _GROUPS.get(a, frozenset()) & _GROUPS.get(b, frozenset()):
        return MatchKind.VARIANT
    if _is_short_form(a, b) or _is_short_form(b, a):
        return MatchKind.VARIANT
    if _ratio(a, b) >= CLOSE_RATIO:
        return MatchKind.CLOSE
    return None


def first_names_match(a: str, b: str) -> MatchKind | None:
    """Compare two first names (which may hold several words, "Mary Ann")."""
    a_norm, b_norm = normalize(a), normalize(b)
    if not a_norm or not b_norm:
        return None
    a_compact, b_compact = a_norm.replace(" ", ""), b_norm.replace(" ", "")
    if a_compact == b_compact:
        return MatchKind.SAME
    whole = _single_first_names(a_compact, b_compact)
    # "Mary Ann" against "Mary": the leading words agree.
    a_lead, b_lead = a_norm.split()[0], b_norm.split()[0]
    lead = None
    if (" " in a_norm or " " in b_norm) and a_lead == b_lead:
        lead = MatchKind.VARIANT
    return _strongest(whole, lead)


def last_names_match(a: str, b: str) -> MatchKind | None:
    """Compare two last names, allowing compound surnames written in part or apart."""
    a_norm, b_norm = normalize(a), normalize(b)
    if not a_norm or not b_norm:
        return None
    if a_norm == b_norm:
        return MatchKind.SAME
    a_compact, b_compact = a_norm.replace(" ", ""), b_norm.replace(" ", "")
    if a_compact == b_compact:
        return MatchKind.VARIANT
    a_words = {w for w in a_norm.split() if len(w) > 2}
    b_words = {w for w in b_norm.split() if len(w) > 2}
    if a_words and b_words and (a_words <= b_words or b_words <= a_words):
        return MatchKind.VARIANT
    if _ratio(a_compact, b_compact) >= CLOSE_RATIO:
        return MatchKind.CLOSE
    return None


def identities_match(a: Identity, b: Identity) -> MatchKind | None:
    """How two people born on the same day compare by legal name (None: different people)."""
    straight = _weakest(
        first_names_match(a.first_name, b.first_name), last_names_match(a.last_name, b.last_name)
    )
    swapped = _weakest(
        first_names_match(a.first_name, b.last_name), last_names_match(a.last_name, b.first_name)
    )
    middle_as_first = None
    if a.middle_name or b.middle_name:
        last = last_names_match(a.last_name, b.last_name)
        middle_as_first = _strongest(
            _weakest(first_names_match(a.middle_name, b.first_name), last)
            if a.middle_name
            else None,
            _weakest(first_names_match(a.first_name, b.middle_name), last)
            if b.middle_name
            else None,
        )
        # Only an exact middle-for-first swap is a variant; a loose one is too weak.
        if middle_as_first != MatchKind.SAME:
            middle_as_first = None
    return _strongest(
        straight,
        _at_most_variant(swapped),
        _at_most_variant(middle_as_first),
    )


def blocks_sign_up(kind: MatchKind | None) -> bool:
    """SAME and VARIANT matches stop a sign-up; a CLOSE one only asks."""
    return kind in (MatchKind.SAME, MatchKind.VARIANT)


MASK = "•••"


def mask_email(email: str) -> str:
    """A hint of an address that never reveals it: jane.doe@gmail.com → j•••@g•••.com."""
    local, _at, domain = (email or "").rpartition("@")
    if not local or not domain:
        return MASK
    labels = domain.split(".")
    top = labels[-1] if len(labels) > 1 else ""
    return f"{local[0]}{MASK}@{labels[0][:1]}{MASK}" + (f".{top}" if top else "")
