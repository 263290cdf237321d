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
              (the `nicknames` dataset, plus the Spanish short forms and English forms
              it lacks): Bill and William, Bill and Will, Jorge and George; but not two
              formal names that share a nickname (Roberto and Alberto are both "Beto");
SPELLING      the same name spelled or transliterated another way (`spelling_key`:
              ph/f, ks/x, y/i, kh/h, doubled letters, final -iy/-ey...): Aleksandr and
              Alexandr, Natalya and Natalia, Sarah and Sara;
SOUNDS        the same sound (Metaphone of the spelling key): Stephen and Steven,
              Mohammed and Muhammad, Katherine and Kathryn;
TYPO          one typing slip apart (one letter added, dropped, changed, or two swapped),
              unless both are names in their own right (Dana and Dina are two people:
              the given names of data/given_names.txt, with the gender the lists
              mostly give each, and the nickname data);
OTHER_GENDER  a name and its other-gender form (Mario and Maria, Daniel and Danielle,
              Julian and Juliana, Michael and Michelle, Brian and Brianna), or two
              names the name lists give to a boy and to a girl that differ only in
              their endings (Francis and Frances, Jesse and Jessie): evidence of two
              people, however alike they look, unless one of the two is no name at all
              but a slip ("Laura" / "Laur"; but "Kevina" is Kevin's sister), or the
              lists give both one gender and the nickname data links them (Mary and
              María);
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

The code is in three parts: `names` (folding, keys, nicknames), `compare` (the weights and
the comparison of two records) and `features` (the statewide check's columns, and the
masked email hint).
"""

from .compare import (
    AGREEING,
    FAMILY_REASONS,
    GIVEN_REASONS,
    STRONG_SCORE,
    WARN_SCORE,
    Comparison,
    Identity,
    Level,
    birth_date_reason,
    compare,
    email_name,
    family_level,
    family_words,
    given_level,
    identities_match,
    is_likely_same_person,
    phone_digits,
    sounds_alike,
)
from .features import MASK, linkage_features, mask_email
from .names import (
    feminine_ending,
    first_vowel,
    known_name,
    masculine_bases,
    name_gender,
    nickname_keys,
    normalize,
    other_gender_forms,
    sound_key,
    spelling_key,
    typo_apart,
)

__all__ = [
    "AGREEING",
    "FAMILY_REASONS",
    "GIVEN_REASONS",
    "MASK",
    "STRONG_SCORE",
    "WARN_SCORE",
    "Comparison",
    "Identity",
    "Level",
    "birth_date_reason",
    "compare",
    "email_name",
    "family_level",
    "family_words",
    "feminine_ending",
    "first_vowel",
    "given_level",
    "identities_match",
    "is_likely_same_person",
    "known_name",
    "linkage_features",
    "masculine_bases",
    "mask_email",
    "name_gender",
    "nickname_keys",
    "normalize",
    "other_gender_forms",
    "phone_digits",
    "sound_key",
    "sounds_alike",
    "spelling_key",
    "typo_apart",
]
