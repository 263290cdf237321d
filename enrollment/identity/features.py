"""The statewide check's view of a record (enrollment.linkage), and the masked email
hint a student is shown."""

from functools import lru_cache

from .compare import Identity, _first_word, email_name, family_words, phone_digits
from .names import (
    _PARTICLES,
    feminine_ending,
    first_vowel,
    known_name,
    masculine_bases,
    name_gender,
    nickname_keys,
    normalize,
    sound_key,
    spelling_key,
)

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
        "given_gender": name_gender(given) or None,
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
