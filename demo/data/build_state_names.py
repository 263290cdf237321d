"""Write state_names.tsv: the names the state-size demo data draws from, at the
frequencies a state's students have them, so that name agreement means in the demo
data what it means in a real state (the statewide duplicate check weighs it by how
common each name is: bench/bench_identity.py --database).

From the person-name lists of Faker (MIT licence): the United States' given and family
names with their census frequencies, and Mexico's, India's and Vietnam's lists (no
frequencies there: each name equally likely). One line per name:

    heritage <tab> given|family <tab> name <tab> weight

A heritage's given names weigh half for the men's list and half for the women's.
Run with the development dependencies installed:

    .venv/bin/python demo/data/build_state_names.py
"""

import importlib
from pathlib import Path

HERITAGES = {"us": "en_US", "mx": "es_MX", "in": "en_IN", "vn": "vi_VN"}
OUT = Path(__file__).with_name("state_names.tsv")


def _weights(names) -> dict[str, float]:
    """A list's names with weights summing to 1 (its own frequencies when it has them)."""
    items = list(names.items()) if hasattr(names, "items") else [(n, 1.0) for n in names]
    total = sum(weight for _name, weight in items)
    found: dict[str, float] = {}
    for name, weight in items:
        found[name] = found.get(name, 0.0) + weight / total
    return found


def main() -> None:
    lines = []
    for heritage, locale in HERITAGES.items():
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        given: dict[str, float] = {}
        for names in (provider.first_names_male, provider.first_names_female):
            for name, weight in _weights(names).items():
                given[name] = given.get(name, 0.0) + weight / 2
        family = _weights(provider.last_names)
        for kind, table in (("given", given), ("family", family)):
            lines += [f"{heritage}\t{kind}\t{name}\t{weight:.8f}" for name, weight in table.items()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(lines)} names")


if __name__ == "__main__":
    main()
