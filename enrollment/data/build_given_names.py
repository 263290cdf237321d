"""Write given_names.txt: the given names known to be names, folded as
enrollment.identity.normalize folds them, one per line, each followed by "m" or "f" when
the name lists give it mostly to men or to women.

The names come from the person-name lists of Faker (MIT licence), for the languages
families in the state most often write: English, Spanish, French, Portuguese, Italian,
German, Dutch, Polish, Romanian, Vietnamese, Russian and Ukrainian (transliterated).
Run with the development dependencies installed:

    .venv/bin/python enrollment/data/build_given_names.py

A name's gender is the one that at least twice as many of the lists give it (a list
giving it to both counts for both), from the first word of the male and female lists:
"Francis" is a man's name in four lists and a woman's in one (Chile), so masculine;
"Jamie" and "Toni" are in about as many of each, so neither. The first word only: "María
José" is a woman's name, and José a man's.
"""

import importlib
import os
import sys
from collections import Counter
from pathlib import Path

LOCALES = [
    "en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "es_MX", "es_ES", "es_CO", "es_AR", "es_CL",
    "fr_FR", "fr_CA", "it_IT", "pt_BR", "pt_PT", "de_DE", "nl_NL", "pl_PL", "vi_VN",
    "ro_RO", "ru_RU", "uk_UA",
]  # fmt: skip
GENDERED_LISTS = {"first_names_male": "m", "first_names_female": "f"}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
    import django

    django.setup()
    from enrollment.identity import normalize

    names = set()
    lists_giving: dict[str, Counter] = {}  # name → how many lists give it to "m" and "f"
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in ("first_names_male", "first_names_female", "first_names"):
            listed = getattr(provider, attribute, None)
            if not isinstance(listed, (list, tuple, dict)):
                continue  # a property made of the others
            firsts = set()
            for name in listed:
                words = [
                    w for w in normalize(name).split() if len(w) > 1 and w.isalpha() and w.isascii()
                ]
                names.update(words)
                if words:
                    firsts.add(words[0])
            if attribute in GENDERED_LISTS:
                for first in firsts:
                    lists_giving.setdefault(first, Counter())[GENDERED_LISTS[attribute]] += 1

    def gender(name: str) -> str:
        given = lists_giving.get(name, Counter())
        for mine, other in (("m", "f"), ("f", "m")):
            if given[mine] and given[mine] >= 2 * given[other]:
                return mine
        return ""

    target = Path(__file__).with_name("given_names.txt")
    target.write_text("".join(f"{name} {gender(name)}".rstrip() + "\n" for name in sorted(names)))
    print(f"{len(names)} names written to {target}")


if __name__ == "__main__":
    main()
