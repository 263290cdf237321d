"""Labelled pairs of student records for measuring the duplicate checks.

A seeded generator of realistic students (names drawn, by frequency, from Faker's US,
Mexican, Indian, French, Vietnamese and Russian/Ukrainian name lists, the last two
transliterated) and of second records of the same student written another way:

- nicknames (a list of common US and Spanish short forms kept here, apart from the
  matcher's data), spelling variants that sound the same, transliterations of one
  Russian or Arabic name in different systems, a Spanish name and its English form
  (Jorge / George), names in the other order, accents, hyphens and apostrophes, typing
  slips, one of two family names, the middle name used as the given name;

and of different people born the same day: twins and brothers and sisters with the same
family name, school and often phone (with different given names, other-gender forms of
one name: -o/-a, -el/-elle, -an/-anna..., a boy's and a girl's name that sound the same,
Francis / Frances, or names that share a beginning), and strangers with one name in
common. The statewide population also has brothers and sisters born a few years apart.

Used by the sign-up tests (tests/identity/test_evaluation.py) and the statewide bench
(bench/bench_identity.py). Synthetic people only.
"""

# ruff: noqa: RUF001 (the romanization tables hold Cyrillic letters)

import random
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

import jellyfish
from faker.providers.person.en_IN import Provider as IndianNames
from faker.providers.person.en_US import Provider as UsNames
from faker.providers.person.es_MX import Provider as MexicanNames
from faker.providers.person.fr_FR import Provider as FrenchNames
from faker.providers.person.ru_RU import Provider as RussianNames
from faker.providers.person.uk_UA import Provider as UkrainianNames
from faker.providers.person.vi_VN import Provider as VietnameseNames
from faker.providers.person.zh_CN import Provider as ChineseNames
from nicknames import name_triplets

from enrollment.identity import Identity, nickname_keys, spelling_key


@dataclass(frozen=True)
class Person:
    first: str
    middle: str
    last: str
    birth_date: date
    email: str
    phone: str
    school: int
    gender: str  # "m" or "f"


@dataclass(frozen=True)
class Case:
    """Two records: `same` says whether they are one student; `kind` how they differ."""

    existing: Person
    new: Person
    same: bool
    kind: str


# --- name pools ---------------------------------------------------------------------------------

# Romanizations that differ from one system to another (Russian and Ukrainian Cyrillic).
_ROMAN_A = {  # BGN/PCGN-like, as most English-language records write them
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "є": "ye", "і": "i", "ї": "yi", "ґ": "g",
}  # fmt: skip
_ROMAN_B = {  # the other common habits: ks for x, ia/iu, ii/iy endings, j for й
    **_ROMAN_A,
    "е": "e", "ё": "e", "й": "i", "х": "h", "ю": "iu", "я": "ia", "ы": "i",
}  # fmt: skip


def romanize(cyrillic: str, system: dict[str, str], *, initial_ye: bool) -> str:
    """A Cyrillic name in Latin letters by `system`."""
    out = []
    for i, ch in enumerate(cyrillic):
        low = ch.lower()
        piece = "ye" if low == "е" and i == 0 and initial_ye else system.get(low, low)
        out.append(piece.capitalize() if ch.isupper() else piece)
    return "".join(out)


# Arabic names as English-language records spell them: each group is one name.
ARABIC_GIVEN = [
    ("m", ["Mohammed", "Muhammad", "Mohamed", "Mohammad"]),
    ("m", ["Ahmed", "Ahmad"]),
    ("m", ["Yousef", "Yusuf", "Youssef"]),
    ("m", ["Hussein", "Husain", "Hussain"]),
    ("m", ["Abdullah", "Abdallah"]),
    ("m", ["Omar", "Umar"]),
    ("m", ["Khalid", "Khaled"]),
    ("m", ["Mustafa", "Mostafa"]),
    ("m", ["Ibrahim", "Ebrahim"]),
    ("m", ["Hassan", "Hasan"]),
    ("m", ["Karim", "Kareem"]),
    ("f", ["Fatima", "Fatimah", "Fatema"]),
    ("f", ["Aisha", "Ayesha", "Aysha"]),
    ("f", ["Layla", "Leila", "Laila"]),
    ("f", ["Noor", "Nour", "Nur"]),
    ("f", ["Maryam", "Mariam"]),
    ("f", ["Yasmin", "Yasmeen", "Jasmin"]),
    ("f", ["Zainab", "Zaynab"]),
]
ARABIC_FAMILY = [
    ["Al-Sayed", "Alsayed", "El-Sayed"],
    ["Abdelrahman", "Abdel Rahman", "Abdulrahman"],
    ["Haddad"],
    ["Mansour", "Mansur"],
    ["Hussein", "Husain"],
    ["Khalil"],
    ["Nasser", "Nasir"],
    ["Saleh", "Salih"],
]
# Spellings of one English or Spanish name that sound the same.
SPELLINGS = [
    ["Stephen", "Steven"], ["Jeffrey", "Geoffrey"], ["Katherine", "Catherine", "Kathryn"],
    ["Sara", "Sarah"], ["Brian", "Bryan"], ["Aidan", "Aiden", "Ayden"],
    ["Caitlin", "Katelyn", "Kaitlyn"], ["Ashley", "Ashlee", "Ashleigh"], ["Megan", "Meghan"],
    ["Jackson", "Jaxon"], ["Isaiah", "Isiah"], ["Jasmine", "Jazmin"], ["Nathaniel", "Nathanael"],
    ["Yesenia", "Jesenia"], ["Ximena", "Jimena"], ["Jonathan", "Jonathon", "Johnathan"],
    ["Kristen", "Kristin", "Kirsten"], ["Allison", "Alison", "Allyson"], ["Eric", "Erik"],
    ["Lucas", "Lukas"], ["Sofia", "Sophia"], ["Zoe", "Zoey"], ["Hailey", "Haley", "Hayley"],
    ["Jayden", "Jaden", "Jaiden"], ["Mackenzie", "McKenzie"], ["Sean", "Shaun"],
    ["Madeline", "Madeleine", "Madelyn"], ["Philip", "Phillip"], ["Marc", "Mark"],
    ["Carlos", "Karlos"], ["Cristian", "Christian"], ["Gerardo", "Jerardo"],
]  # fmt: skip
NICKNAMES = {
    "William": ["Will", "Bill", "Billy", "Liam"], "Robert": ["Rob", "Bob", "Bobby", "Robbie"],
    "Elizabeth": ["Liz", "Beth", "Eliza", "Betsy", "Lizzie"], "Katherine": ["Kate", "Katie"],
    "Jennifer": ["Jen", "Jenny"], "Michael": ["Mike", "Mikey"], "Christopher": ["Chris"],
    "Alexander": ["Alex", "Xander"], "Alejandro": ["Alex", "Ale"], "Jose": ["Pepe"],
    "Guadalupe": ["Lupe", "Lupita"], "Francisco": ["Paco", "Pancho", "Frank"],
    "Margaret": ["Maggie", "Meg", "Peggy"], "Richard": ["Rick", "Rich", "Ricky"],
    "Nicholas": ["Nick", "Nico"], "Benjamin": ["Ben", "Benji"], "Samantha": ["Sam", "Sammy"],
    "Jonathan": ["Jon", "Johnny"], "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"],
    "Anthony": ["Tony"], "Joseph": ["Joe", "Joey"], "Victoria": ["Tori", "Vicky"],
    "Rebecca": ["Becky", "Becca"], "Abigail": ["Abby"], "Isabella": ["Bella", "Izzy"],
    "Gabriela": ["Gaby"], "Patricia": ["Patty", "Trish"], "Theodore": ["Teddy", "Theo"],
    "Zachary": ["Zach", "Zack"], "Jacob": ["Jake"], "Andrew": ["Andy", "Drew"],
    "Timothy": ["Tim"], "Thomas": ["Tom", "Tommy"], "James": ["Jim", "Jimmy", "Jamie"],
    "Edward": ["Ed", "Eddie", "Ted"], "Charles": ["Charlie", "Chuck"], "Susan": ["Sue"],
    "Deborah": ["Debbie", "Deb"], "Jessica": ["Jess", "Jessie"], "Kimberly": ["Kim"],
    "Jesus": ["Chuy"], "Ignacio": ["Nacho"], "Eduardo": ["Lalo"], "Enrique": ["Kike"],
    "Manuel": ["Manny", "Manolo"], "Ricardo": ["Ricky"], "Fernando": ["Nando"],
    "Santiago": ["Santi"], "Dolores": ["Lola"], "Rosario": ["Charo"], "Alberto": ["Beto"],
    "Guillermo": ["Memo"], "Gregory": ["Greg"], "Kenneth": ["Ken", "Kenny"],
    "Jacqueline": ["Jackie"], "Christina": ["Tina", "Chris"], "Dorothy": ["Dot", "Dottie"],
    "Frederick": ["Fred", "Freddie"], "Lawrence": ["Larry"], "Douglas": ["Doug"],
    "Raymond": ["Ray"], "Ronald": ["Ron", "Ronnie"], "Stephanie": ["Steph"],
    "Valerie": ["Val"], "Penelope": ["Penny"], "Cameron": ["Cam"], "Nathaniel": ["Nate"],
}  # fmt: skip
# A Spanish given name and its English form, which one student may write on one record
# and not the other.
CROSS_LANGUAGE = [
    ("m", "Jorge", "George"), ("m", "José", "Joseph"), ("m", "Juan", "John"),
    ("m", "Guillermo", "William"), ("m", "Pedro", "Peter"), ("m", "Miguel", "Michael"),
    ("m", "Alejandro", "Alexander"), ("m", "Francisco", "Francis"), ("m", "Carlos", "Charles"),
    ("m", "Andrés", "Andrew"), ("m", "Antonio", "Anthony"), ("m", "Eduardo", "Edward"),
    ("m", "Ricardo", "Richard"), ("m", "Roberto", "Robert"), ("m", "Enrique", "Henry"),
    ("m", "Mateo", "Matthew"), ("m", "Felipe", "Philip"), ("m", "Pablo", "Paul"),
    ("m", "Esteban", "Stephen"), ("m", "Vicente", "Vincent"), ("f", "María", "Mary"),
    ("f", "Margarita", "Margaret"), ("f", "Catalina", "Catherine"), ("f", "Juana", "Jane"),
    ("f", "Susana", "Susan"), ("f", "Carlota", "Charlotte"), ("f", "Elena", "Helen"),
    ("f", "Lucía", "Lucy"),
]  # fmt: skip
# Other-gender forms the name pools lack: -ael/-elle, -el/-elle, -an/-anna, and a
# feminine ending on a name with none in the lists (Kevina, Mikhaila).
OTHER_GENDER_FORMS = [
    ("Michael", "Michelle"), ("Joel", "Joelle"), ("Noel", "Noelle"), ("Raphael", "Raphaëlle"),
    ("Julian", "Julianna"), ("Adrian", "Adrianna"), ("Ivan", "Ivanna"), ("Dean", "Deanna"),
    ("Kevin", "Kevina"), ("Mikhail", "Mikhaila"), ("Sergio", "Sergia"),
]  # fmt: skip
# A boy's and a girl's name that sound the same, that the name pools lack.
GENDERED_SOUND_ALIKES = [("Jesse", "Jessie"), ("Terry", "Terri"), ("Billy", "Billie")]
VIETNAMESE_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi"]
VIETNAMESE_GIVEN = [
    ("m", "Minh"), ("m", "Dũng"), ("m", "Hùng"), ("m", "Quang"), ("m", "Tuấn"), ("m", "Khoa"),
    ("f", "Hương"), ("f", "Linh"), ("f", "Thảo"), ("f", "Ngọc"), ("f", "Trang"), ("f", "Yến"),
]  # fmt: skip
CHINESE_FAMILY = ["Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]
CHINESE_GIVEN = [
    ("m", "Wei"), ("m", "Jun"), ("m", "Hao"), ("m", "Yi"), ("f", "Jing"), ("f", "Xiu"),
    ("f", "Mei"), ("f", "Lan"), ("m", "Qiang"), ("f", "Ying"),
]  # fmt: skip
# How twins and brothers and sisters are named (Generator.twin): unrelated names first.
RELATIVE_KINDS = [
    "twin", "twin_other_gender", "twin_el_elle", "twin_an_anna", "twin_gendered_sound_alike",
    "twin_shared_beginning",
]  # fmt: skip
PROVIDERS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "proton.me"]
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _surnames(family: str) -> list[str]:
    """The family names in a compound one: "de la Fuente Barrios" → de la Fuente, Barrios."""
    parts, particles = [], []
    for word in family.replace("-", " ").split():
        if word.lower() in ("de", "la", "del", "los", "las", "y"):
            particles.append(word)
            continue
        parts.append(" ".join([*particles, word]))
        particles = []
    return parts


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")


def _ascii(text: str) -> str:
    return "".join(c for c in _strip_accents(text).lower() if c in string.ascii_lowercase)


@cache
def _pools() -> dict:
    def weighted(names) -> tuple[list[str], list[float]]:
        if hasattr(names, "items"):
            items = list(names.items())
            return [n for n, _w in items], [w for _n, w in items]
        names = list(names)
        return names, [1.0] * len(names)

    cyr_m = [*RussianNames.first_names_male, *UkrainianNames.first_names_male]
    cyr_f = [*RussianNames.first_names_female, *UkrainianNames.first_names_female]
    cyr_last = list(RussianNames.last_names)[:300] + list(UkrainianNames.last_names)[:200]
    return {
        "us": (
            weighted(UsNames.first_names_male),
            weighted(UsNames.first_names_female),
            weighted(UsNames.last_names),
        ),
        "mx": (
            weighted(MexicanNames.first_names_male),
            weighted(MexicanNames.first_names_female),
            weighted(MexicanNames.last_names),
        ),
        "in": (
            weighted(IndianNames.first_names_male),
            weighted(IndianNames.first_names_female),
            weighted(IndianNames.last_names),
        ),
        "fr": (
            weighted(FrenchNames.first_names_male),
            weighted(FrenchNames.first_names_female),
            weighted(FrenchNames.last_names),
        ),
        "cyr": (weighted(cyr_m), weighted(cyr_f), weighted(cyr_last)),
    }


ORIGINS = [("us", 0.54), ("mx", 0.29), ("in", 0.05), ("fr", 0.03), ("cyr", 0.04),
           ("vi", 0.02), ("zh", 0.02), ("ar", 0.01)]  # fmt: skip


@cache
def _other_gender_pairs() -> list[tuple[str, str]]:
    """(masculine, feminine) forms of one name found in the pools, and the few they lack
    (OTHER_GENDER_FORMS): Mario / Maria, Daniel / Danielle, Julian / Juliana, Louis /
    Louise, Michael / Michelle, Brian / Brianna."""
    pairs = set(OTHER_GENDER_FORMS)
    for origin in ("us", "mx", "fr"):
        (males, _), (females, _), _last = _pools()[origin]
        female_set = {f.lower(): f for f in females}
        for m in males:
            low = m.lower()
            for form in (
                low[:-1] + "a" if low.endswith("o") else None,
                low[:-2] + "a" if low.endswith("us") else None,
                low[:-3] + "elle" if low.endswith("ael") else None,
                low + "na" if low.endswith("n") else None,
                low + "a",
                low + "e",
                low + "le",
                low + "ne",
                low + "la",
                low + "ine",
            ):
                if form and form in female_set:
                    pairs.add((m, female_set[form]))
    return sorted(pairs)


def _other_gender_pairs_ending(masculine: str, feminine: tuple[str, ...]) -> list[tuple[str, str]]:
    """The other-gender pairs whose forms end so: ("el", ("elle", "ele", "èle"))."""
    return [
        (m, f)
        for m, f in _other_gender_pairs()
        if _ascii(m).endswith(masculine) and f.lower().endswith(feminine)
    ]


@cache
def _gendered_sound_alikes() -> list[tuple[str, str]]:
    """(boy's, girl's) names of the pools that sound the same (Metaphone) and begin alike,
    with no feminine -a to tell them apart, each given to one gender only, and not a
    nickname of the other: Francis / Frances, Colin / Colleen, Stephen / Stephanie,
    Jean / Jeanne; and the few the pools lack (GENDERED_SOUND_ALIKES)."""
    pairs = set(GENDERED_SOUND_ALIKES)
    for origin in ("us", "mx", "fr"):
        (males, _), (females, _), _last = _pools()[origin]
        boys = {_ascii(m): m for m in males if " " not in m}
        girls = {_ascii(f): f for f in females if " " not in f}
        for x, boy in boys.items():
            for y, girl in girls.items():
                if x in girls or y in boys or x[:3] != y[:3] or y.endswith("a"):
                    continue
                if jellyfish.metaphone(x) != jellyfish.metaphone(y):
                    continue
                if y in _nickname_links().get(x, set()):
                    continue
                if spelling_key(x) != spelling_key(y) and nickname_keys(x) & nickname_keys(y):
                    continue  # short forms of one name (Jack, Jackie ← Jacqueline)
                pairs.add((boy, girl))
    return sorted(pairs)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


@cache
def _nickname_links() -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    pairs = [(a, b) for a, _rel, b in name_triplets()]
    for group in SPELLINGS:
        pairs += [(a.lower(), b.lower()) for a in group for b in group if a != b]
    for formal, short in NICKNAMES.items():
        pairs += [(formal.lower(), s.lower()) for s in short]
    for a, b in pairs:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    return links


def _related(a: str, b: str) -> bool:
    """Is one name a nickname or spelling of the other (in any nickname data, the
    matcher's included), or do both shorten to one nickname, or sound the same? Twins
    are not named so: such pairs are left out of the different-people cases."""
    links = _nickname_links()
    near_a = links.get(a, set()) | {a}
    near_b = links.get(b, set()) | {b}
    return (
        bool(near_a & near_b)
        or bool(nickname_keys(a) & nickname_keys(b))
        or jellyfish.metaphone(a) == jellyfish.metaphone(b)
    )


@cache
def _shared_beginnings() -> list[tuple[str, str, str, str]]:
    """(gender, a, gender, b): different given names of one gender that begin alike (Emily /
    Emma, Isaac / Isaiah, Mariana / Marisol), or a name and a longer name of the other
    gender that begins with it (José / Josefina)."""
    found = []
    for origin in ("us", "mx"):
        males, females = (
            sorted({n for n in _pools()[origin][i][0] if " " not in n}) for i in (0, 1)
        )
        for gender, names in (("m", males), ("f", females)):
            by_start: dict[str, list[str]] = {}
            for name in names:
                by_start.setdefault(_ascii(name)[:3], []).append(name)
            for group in by_start.values():
                for i, a in enumerate(group):
                    for b in group[i + 1 :]:
                        x, y = _ascii(a), _ascii(b)
                        if _related(x, y) or x.startswith(y) or y.startswith(x):
                            continue
                        if _edits(x, y) >= 3:
                            found.append((gender, a, gender, b))
        for male in males:
            for female in females:
                x, y = _ascii(male), _ascii(female)
                if _related(x, y) or len(y) < len(x) + 3:
                    continue
                if y.startswith(x) and len(x) >= 3:
                    found.append(("m", male, "f", female))
    return found


class Generator:
    """Seeded: the same seed gives the same people and cases."""

    def __init__(self, seed: int, *, schools: int = 330, first_born: date = date(2006, 9, 1)):
        self.rng = random.Random(seed)
        self.schools = schools
        self.first_born = first_born
        self.days = 365 * 6
        self._serial = 0

    # --- people ------------------------------------------------------------------------------

    def _pick(self, pool: tuple[list[str], list[float]]) -> str:
        names, weights = pool
        return self.rng.choices(names, weights)[0]

    def _origin(self) -> str:
        return self.rng.choices([o for o, _ in ORIGINS], [w for _, w in ORIGINS])[0]

    def name(self, gender: str, origin: str | None = None) -> tuple[str, str, str]:
        """(given, middle, family) of someone from `origin`."""
        origin = origin or self._origin()
        rng = self.rng
        if origin == "vi":
            given = rng.choice(
                [n for g, n in VIETNAMESE_GIVEN if g == gender]
                + list(
                    VietnameseNames.first_names_male
                    if gender == "m"
                    else VietnameseNames.first_names_female
                )
            )
            middle = rng.choice(["Văn" if gender == "m" else "Thị", *VietnameseNames.middle_names])
            return given, middle if rng.random() < 0.7 else "", rng.choice(VIETNAMESE_FAMILY)
        if origin == "zh":
            syllables = ChineseNames.first_romanized_names
            given = rng.choice(syllables) + (
                rng.choice(syllables).lower() if rng.random() < 0.7 else ""
            )
            return given, "", rng.choice(ChineseNames.last_romanized_names)
        if origin == "ar":
            spellings = rng.choice([s for g, s in ARABIC_GIVEN if g == gender])
            return spellings[0], "", rng.choice(ARABIC_FAMILY)[0]
        males, females, lasts = _pools()[origin]
        given = self._pick(males if gender == "m" else females)
        middle = self._pick(males if gender == "m" else females) if rng.random() < 0.5 else ""
        family = self._pick(lasts)
        if origin == "mx" and rng.random() < 0.3:
            family = f"{family} {self._pick(lasts)}"
        if origin == "cyr":
            given, family = (romanize(n, _ROMAN_A, initial_ye=True) for n in (given, family))
            middle = ""
        return given, middle, family

    def email(self, given: str, family: str) -> str:
        self._serial += 1
        style = self.rng.random()
        local = (
            f"{_ascii(given)}.{_ascii(family)}"
            if style < 0.4
            else f"{_ascii(given)[:1]}{_ascii(family)}{self.rng.randrange(10, 99)}"
            if style < 0.7
            else f"{_ascii(given)}{self.rng.randrange(100, 9999)}"
        )
        return f"{local}{self._serial}@{self.rng.choice(PROVIDERS)}"

    def phone(self) -> str:
        if self.rng.random() < 0.35:
            return ""
        area = self.rng.choice(["206", "253", "360", "425", "509", "564"])
        return f"{area}-{self.rng.randrange(200, 999)}-{self.rng.randrange(0, 9999):04d}"

    def birth_date(self) -> date:
        return self.first_born + timedelta(days=self.rng.randrange(self.days))

    def person(self, *, gender: str | None = None, origin: str | None = None, **fixed) -> Person:
        gender = gender or self.rng.choice("mf")
        given, middle, family = self.name(gender, origin)
        values = {
            "first": given,
            "middle": middle,
            "last": family,
            "birth_date": self.birth_date(),
            "phone": self.phone(),
            "school": self.rng.randrange(1, self.schools + 1),
            "gender": gender,
        }
        values.update(fixed)
        values["email"] = fixed.get("email") or self.email(values["first"], values["last"])
        return Person(**values)

    def population(
        self, count: int, *, twins: float = 0.015, siblings: float = 0.04
    ) -> Iterator[Person]:
        """`count` students; about `twins` of them with a twin of their own, and about
        `siblings` with a brother or sister born a few years apart. Most of the two have
        unrelated given names; some have two forms of one name, names that sound the
        same, or names that share a beginning (RELATIVE_KINDS)."""
        made = 0
        while made < count:
            person = self.person()
            relative = None
            if made + 1 < count:
                draw = self.rng.random()
                if draw < twins / 2:
                    person, relative = self.twin(person, self._relative_kind())
                elif draw < (twins + siblings) / 2:
                    person, relative = self.sibling(person, self._relative_kind())
            yield person
            made += 1
            if relative:
                yield relative
                made += 1

    def _relative_kind(self) -> str:
        """Mostly unrelated names; the other kinds of twin in a fifth of the families."""
        return "twin" if self.rng.random() < 0.8 else self.rng.choice(RELATIVE_KINDS[1:])

    # --- the same student written another way --------------------------------------------------

    def _typo(self, word: str) -> str:
        rng = self.rng
        letters = [i for i, c in enumerate(word) if c.isalpha()]
        if len(letters) < 4:
            return word
        i = rng.choice(letters[1:])
        kind = rng.random()
        if kind < 0.3 and i + 1 < len(word):  # two neighbours swapped
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind < 0.55:  # a letter dropped
            return word[:i] + word[i + 1 :]
        if kind < 0.75:  # a letter doubled
            return word[:i] + word[i] + word[i:]
        row = next((r for r in KEYBOARD if word[i].lower() in r), None)
        if row is None:
            return word[:i] + word[i + 1 :]
        j = row.index(word[i].lower())
        near = row[j - 1] if j > 0 and (j + 1 >= len(row) or rng.random() < 0.5) else row[j + 1]
        return word[:i] + (near.upper() if word[i].isupper() else near) + word[i + 1 :]

    def _spelled_otherwise(self, name: str) -> str | None:
        for group in SPELLINGS:
            if name in group:
                return self.rng.choice([n for n in group if n != name])
        for _gender, group in ARABIC_GIVEN:
            if name in group:
                return self.rng.choice([n for n in group if n != name])
        return None

    def _accents(self, person: Person) -> Person:
        """Accents, hyphens, apostrophes and spacing written otherwise."""
        rng = self.rng

        def vary(text: str) -> str:
            if not text:
                return text
            choice = rng.random()
            if any(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", text)):
                return _strip_accents(text)
            if " " in text:
                return text.replace(" ", "-" if choice < 0.6 else "")
            if "-" in text:
                return text.replace("-", " " if choice < 0.6 else "")
            if "'" in text:
                return text.replace("'", "" if choice < 0.5 else "\u2019")
            if choice < 0.5:
                return text.upper()
            accented = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "n": "ñ"}
            spots = [i for i, c in enumerate(text) if c in accented]
            if spots:
                i = rng.choice(spots)
                return text[:i] + accented[text[i]] + text[i + 1 :]
            return text.lower()

        return replace(person, first=vary(person.first), last=vary(person.last))

    def variant(self, person: Person, kind: str) -> Person | None:
        """The same student, written another way (None when `kind` does not apply)."""
        rng = self.rng
        if kind == "nickname":
            short = NICKNAMES.get(person.first)
            return replace(person, first=rng.choice(short)) if short else None
        if kind == "spelling":
            other = self._spelled_otherwise(person.first)
            return replace(person, first=other) if other else None
        if kind == "transliteration":
            return self._transliterated(person)
        if kind == "cross_language":
            for _gender, spanish, english in CROSS_LANGUAGE:
                if person.first in (spanish, english):
                    return replace(person, first=english if person.first == spanish else spanish)
            return None
        if kind == "order":
            return replace(person, first=person.last, last=person.first)
        if kind == "accents":
            changed = self._accents(person)
            return changed if changed != person else None
        if kind == "typo_given":
            return replace(person, first=self._typo(person.first))
        if kind == "typo_family":
            return replace(person, last=self._typo(person.last))
        if kind == "one_family_name":
            parts = _surnames(person.last)
            return replace(person, last=rng.choice(parts)) if len(parts) > 1 else None
        if kind == "middle_as_given":
            if not person.middle:
                return None
            return replace(person, first=person.middle, middle="")
        if kind == "nickname_and_accents":
            short = NICKNAMES.get(person.first)
            return self._accents(replace(person, first=rng.choice(short))) if short else None
        raise ValueError(kind)

    def _transliterated(self, person: Person) -> Person | None:
        """The same Russian or Ukrainian name in the other romanization, or an Arabic
        name in another common spelling."""
        for _gender, group in ARABIC_GIVEN:
            if person.first in group:
                return replace(
                    person, first=self.rng.choice([n for n in group if n != person.first])
                )
        return None

    def same_person_kinds(self) -> list[str]:
        return [
            "nickname", "spelling", "transliteration", "order", "accents", "typo_given",
            "typo_family", "one_family_name", "middle_as_given", "nickname_and_accents",
            "cross_language",
        ]  # fmt: skip

    def _subject_for(self, kind: str) -> Person:
        """Someone a `kind` variant applies to."""
        rng = self.rng
        for _attempt in range(200):
            if kind in ("nickname", "nickname_and_accents"):
                first = rng.choice(list(NICKNAMES))
                person = self.person(first=first)
            elif kind == "spelling":
                group = rng.choice(SPELLINGS)
                person = self.person(first=rng.choice(group))
            elif kind == "transliteration":
                if rng.random() < 0.5:
                    return self._cyrillic_subject()
                gender, group = rng.choice(ARABIC_GIVEN)
                family = rng.choice(ARABIC_FAMILY)
                person = self.person(gender=gender, first=group[0], last=family[0])
            elif kind == "cross_language":
                gender, spanish, english = rng.choice(CROSS_LANGUAGE)
                first = spanish if rng.random() < 0.5 else english
                person = self.person(gender=gender, origin="mx", first=first)
            elif kind == "order":
                person = self.person(origin=rng.choice(["vi", "zh", "us", "mx", "in"]))
            elif kind == "accents":
                person = self.person(origin=rng.choice(["mx", "mx", "vi", "fr", "us"]))
                if rng.random() < 0.25:
                    person = replace(person, last=rng.choice(["O'Brien", "D'Angelo", "O'Neil"]))
            elif kind == "one_family_name":
                person = self.person(origin="mx")
                if " " not in person.last:
                    person = replace(person, last=f"{person.last} {self.name('m', 'mx')[2]}")
            else:
                person = self.person()
            if self.variant(replace(person), kind) not in (None, person):
                return person
        raise RuntimeError(kind)

    def _cyrillic_subject(self) -> Person:
        (males, _), (females, _), (lasts, _) = _pools()["cyr"]
        gender = self.rng.choice("mf")
        given = self.rng.choice(males if gender == "m" else females)
        family = self.rng.choice(lasts)
        person = self.person(
            gender=gender,
            first=romanize(given, _ROMAN_A, initial_ye=True),
            last=romanize(family, _ROMAN_A, initial_ye=True),
            middle="",
        )
        other = replace(
            person,
            first=romanize(given, _ROMAN_B, initial_ye=False),
            last=romanize(family, _ROMAN_B, initial_ye=False),
        )
        if other == person:
            return self._cyrillic_subject()
        self._pending_variant = other
        return person

    def same_person(self, kind: str) -> Case:
        """One student signing up twice: the second time written as `kind` says, with a
        new email address, and a phone and school that may have changed."""
        rng = self.rng
        self._pending_variant = None
        existing = self._subject_for(kind)
        new = self._pending_variant or self.variant(existing, kind)
        if new == existing:
            new = replace(new, first=self._typo(new.first))
        email = (
            existing.email.split("@")[0].rstrip(string.digits) + "@" + rng.choice(PROVIDERS)
            if rng.random() < 0.15
            else self.email(new.first, new.last)
        )
        new = replace(
            new,
            email=email,
            phone=existing.phone if rng.random() < 0.5 else self.phone(),
            school=existing.school if rng.random() < 0.6 else rng.randrange(1, self.schools + 1),
        )
        return Case(existing=existing, new=new, same=True, kind=kind)

    # --- different people born the same day ------------------------------------------------------

    def twin(self, person: Person, kind: str = "twin") -> tuple[Person, Person]:
        """`person` and a brother or sister born the same day: the same family name and
        (mostly) school, often the same phone, a given name of their own. For the kind
        "twin_other_gender" the two have a name's two forms (Mario / Maria), for
        "twin_el_elle" and "twin_an_anna" the forms with those endings (Daniel / Danielle,
        Brian / Brianna), for "twin_gendered_sound_alike" a boy's and a girl's name that
        sound the same (Francis / Frances), for "twin_shared_beginning" two names that
        begin alike (Emily / Emma)."""
        rng = self.rng
        first, gender = None, rng.choice("mf")
        gendered_pairs = {
            "twin_other_gender": _other_gender_pairs,
            "twin_el_elle": lambda: _other_gender_pairs_ending("el", ("elle", "ele", "èle")),
            "twin_an_anna": lambda: _other_gender_pairs_ending("an", ("anna", "ana")),
            "twin_gendered_sound_alike": _gendered_sound_alikes,
        }
        if kind in gendered_pairs:
            masculine, feminine = rng.choice(gendered_pairs[kind]())
            pair = [(masculine, "m"), (feminine, "f")]
            rng.shuffle(pair)
            (mine, my_gender), (first, gender) = pair
            person = replace(person, first=mine, gender=my_gender)
        elif kind == "twin_shared_beginning":
            my_gender, mine, gender, first = rng.choice(_shared_beginnings())
            person = replace(person, first=mine, gender=my_gender)
        while first is None or (kind == "twin" and _related(_ascii(first), _ascii(person.first))):
            first = self.name(gender)[0]
        middle = self.name(gender)[1]
        if middle and _related(_ascii(middle), _ascii(person.first)):
            middle = ""
        if person.middle and _related(_ascii(person.middle), _ascii(first)):
            person = replace(person, middle="")
        sibling = self.person(
            gender=gender,
            first=first,
            middle=middle,
            last=person.last,
            birth_date=person.birth_date,
            school=person.school if rng.random() < 0.9 else rng.randrange(1, self.schools + 1),
            phone=person.phone if rng.random() < 0.6 else self.phone(),
        )
        return person, sibling

    def sibling(self, person: Person, kind: str = "twin") -> tuple[Person, Person]:
        """`person` and a brother or sister born one to three years before or after, named
        as `kind` says (twin): the same family name, phone and school."""
        person, relative = self.twin(person, kind)
        apart = timedelta(days=self.rng.randrange(365, 3 * 365 + 1))
        born = person.birth_date + (apart if self.rng.random() < 0.5 else -apart)
        return person, replace(relative, birth_date=born, phone=person.phone, school=person.school)

    def different_people(self, kind: str) -> Case:
        existing = self.person()
        if kind.startswith("twin"):
            existing, new = self.twin(existing, kind)
        elif kind == "same_given_name":
            new = self.person(
                first=existing.first, gender=existing.gender, birth_date=existing.birth_date
            )
        elif kind == "same_family_name":
            new = self.person(last=existing.last, birth_date=existing.birth_date)
        else:
            raise ValueError(kind)
        return Case(existing=existing, new=new, same=False, kind=kind)

    def different_kinds(self) -> list[str]:
        return [*RELATIVE_KINDS, "same_given_name", "same_family_name"]

    def cases(self, *, same: int, different: int) -> list[Case]:
        """`same` pairs of one student and `different` pairs of two, all pairs sharing
        a birth date, the kinds in turn."""
        found = []
        kinds = self.same_person_kinds()
        for i in range(same):
            found.append(self.same_person(kinds[i % len(kinds)]))
        kinds = self.different_kinds()
        for i in range(different):
            found.append(self.different_people(kinds[i % len(kinds)]))
        return found


def mistyped_birth_date(rng: random.Random, person: Person) -> Person:
    """The same student with the birth date typed wrong: day and month swapped, or one
    digit changed."""
    born = person.birth_date
    for _attempt in range(20):
        if rng.random() < 0.35 and born.day <= 12 and born.day != born.month:
            return replace(person, birth_date=born.replace(month=born.day, day=born.month))
        text = list(born.isoformat())
        i = rng.choice([3, 5, 6, 8, 9])  # a year like 2078 is refused by the form
        text[i] = rng.choice([d for d in "0123456789" if d != text[i]])
        try:
            return replace(person, birth_date=date.fromisoformat("".join(text)))
        except ValueError:
            continue
    return person


def identity(person: Person) -> Identity:
    """A generated person as the duplicate checks see a student record."""
    return Identity(
        first_name=person.first,
        middle_name=person.middle,
        last_name=person.last,
        birth_date=person.birth_date,
        email=person.email,
        phone=person.phone,
        high_school_id=person.school,
    )


def population_with_duplicates(
    seed: int,
    *,
    students: int,
    duplicates: int,
    birth_date_typos: float,
    twins: float = 0.015,
    siblings: float = 0.04,
) -> tuple[list[tuple[int, Identity]], dict[tuple[int, int], str]]:
    """`students` records numbered from 1, among them `duplicates` students with a second
    record written another way (a share with the birth date typed wrong), twins, and
    brothers and sisters. Returns the records and the injected pairs, (second record,
    first) → kind."""
    generator = Generator(seed)
    people = list(generator.population(students - 2 * duplicates, twins=twins, siblings=siblings))
    kinds = generator.same_person_kinds()
    injected = {}
    for i in range(duplicates):
        case = generator.same_person(kinds[i % len(kinds)])
        new = case.new
        if generator.rng.random() < birth_date_typos:
            new = mistyped_birth_date(generator.rng, new)
        people += [case.existing, new]
        typed = "+birth_date" if new.birth_date != case.existing.birth_date else ""
        injected[(len(people), len(people) - 1)] = case.kind + typed
    return [(i, identity(p)) for i, p in enumerate(people, start=1)], injected
