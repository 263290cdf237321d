"""Write given_names.txt: the given names known to be names, folded as
enrollment.identity.normalize folds them, one per line.

The names come from the person-name lists of Faker (MIT licence), for the languages
families in the state most often write: English, Spanish, French, Portuguese, Italian,
German, Dutch, Polish, Romanian, Vietnamese, Russian and Ukrainian (transliterated).
Run with the development dependencies installed:

    .venv/bin/python enrollment/data/build_given_names.py
"""

import importlib
import os
import sys
from pathlib import Path

LOCALES = [
    "en_US", "en_GB", "en_IE", "en_IN", "es_MX", "es_ES", "es_CO", "es_AR", "es_CL",
    "fr_FR", "fr_CA", "it_IT", "pt_BR", "pt_PT", "de_DE", "nl_NL", "pl_PL", "vi_VN",
    "ro_RO", "ru_RU", "uk_UA",
]  # fmt: skip


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
    import django

    django.setup()
    from enrollment.identity import normalize

    names = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in ("first_names_male", "first_names_female", "first_names"):
            listed = getattr(provider, attribute, None)
            if not isinstance(listed, (list, tuple, dict)):
                continue  # a property made of the others
            for name in listed:
                for word in normalize(name).split():
                    if len(word) > 1 and word.isalpha() and word.isascii():
                        names.add(word)
    target = Path(__file__).with_name("given_names.txt")
    target.write_text("\n".join(sorted(names)) + "\n")
    print(f"{len(names)} names written to {target}")


if __name__ == "__main__":
    main()
