"""The statewide duplicate check: probabilistic record linkage over every student.

Students move between schools, districts and consortia, and sign up again; sign-up only
compares people born on the same day. This check compares every student in the state
with the others that blocking rules put next to them (the same family-name sound and
nearly the same birth date, the same names with any birth date, the same email name, the
same phone and given-name sound), and scores each pair with a Fellegi-Sunter model in
Splink on DuckDB: for each field, the level of agreement (the same levels and keys as
sign-up, enrollment.identity) adds its match weight, log2(m / u), where m is how often
one student's two records agree that way and u how often two different students do.

- m probabilities are set from what registrars see in duplicate records, u
  probabilities from how often two different students agree so in state-size data
  (bench/bench_identity.py); both are fixed (M and U in the levels below), so a run
  needs no training and a pair's weight means the same in every run. Exact given and
  family names get Splink's term-frequency adjustment from the data itself: a common
  name counts for less, a rare one for more (up to one in 2,000).
- Phone, school and the other-gender level have weights near nothing or below:
  twins and brothers and sisters share a phone, a school, a family name and a birth
  date, so these fields must never add up to one person when the given names disagree.
- The prior is fixed (PRIOR): one student in a hundred with a second record.

A pair whose total weight reaches MATCH_WEIGHT_THRESHOLD is a candidate, with its
reasons in words (MatchReason) and its weight, for staff to review in the merge queue.
The threshold is chosen for a recall of 95% of duplicates, typed birth dates included,
with a precision staff can work through (bench/README.md).
"""

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from .identity import (
    FAMILY_REASONS,
    GIVEN_REASONS,
    Comparison,
    Identity,
    Level,
    linkage_features,
)
from .models import MatchReason

logger = logging.getLogger(__name__)

L = Level
R = MatchReason

MATCH_WEIGHT_THRESHOLD = -5.0
# The chance that two students picked at random are one: about one student in a hundred
# has a second record, among the 213,000 x 213,000 / 2 pairs of the state. Fixed, so
# that a pair's weight means the same in a small run as in the state.
PRIOR = 1e-7

COLUMNS = pa.schema(
    [
        ("unique_id", pa.int64()),
        ("given", pa.string()),
        ("given_whole_spell", pa.string()),
        ("given_whole_sound", pa.string()),
        ("given_nick", pa.list_(pa.string())),
        ("given_spell", pa.string()),
        ("given_sound", pa.string()),
        ("given_vowel", pa.string()),
        ("given_fem", pa.bool_()),
        ("given_bases", pa.list_(pa.string())),
        ("given_known", pa.bool_()),
        ("given_gender", pa.string()),
        ("given_others", pa.list_(pa.string())),
        ("middle", pa.string()),
        ("family", pa.string()),
        ("family_words", pa.list_(pa.string())),
        ("family_first", pa.string()),
        ("family_last", pa.string()),
        ("family_spell", pa.string()),
        ("family_sound", pa.string()),
        ("family_vowel", pa.string()),
        ("email_name", pa.string()),
        ("phone", pa.string()),
        ("high_school_id", pa.int64()),
        ("birth_date", pa.date32()),
        ("birth_text", pa.string()),
        ("birth_year", pa.int32()),
        ("birth_month", pa.int32()),
        ("birth_day", pa.int32()),
    ]
)


def features_table(records: Iterable[tuple[int, Identity]], *, batch: int = 20000) -> pa.Table:
    """The students as a pyarrow table of linkage features, built in batches."""
    names = COLUMNS.names
    batches = []
    columns: dict[str, list] = {name: [] for name in names}
    for student_id, identity in records:
        columns["unique_id"].append(student_id)
        for name, value in linkage_features(identity).items():
            columns[name].append(value)
        if len(columns["unique_id"]) >= batch:
            batches.append(pa.record_batch([columns[n] for n in names], schema=COLUMNS))
            columns = {name: [] for name in names}
    batches.append(pa.record_batch([columns[n] for n in names], schema=COLUMNS))
    return pa.Table.from_batches(batches, schema=COLUMNS)


# --- the model ----------------------------------------------------------------------------------


# Comparison levels: (level, SQL condition, m probability, u probability).
# The first level of each is the null level; the last is "anything else".
def _typo(c: str, shortest: int) -> str:
    """SQL: the two values of column `c` one typing slip apart (identity.typo_apart)."""
    return (
        f"damerau_levenshtein({c}_l, {c}_r) <= CASE WHEN least(length({c}_l), length({c}_r))"
        f" >= 9 AND left({c}_l, 1) = left({c}_r, 1) THEN 2 ELSE 1 END"
        f" AND least(length({c}_l), length({c}_r)) >= {shortest}"
        f" AND greatest(length({c}_l), length({c}_r)) >= 4"
    )


# identity._slip_not_name: a slip of a known name, not a name of its own.
_SLIP = (
    "(given_known_l <> given_known_r"
    " OR (given_known_l AND given_known_r AND abs(length(given_l) - length(given_r)) = 1"
    " AND least(length(given_l), length(given_r)) >= 4)"
    " OR (NOT given_known_l AND NOT given_known_r AND least(length(given_l), length(given_r)) >= 4"
    " AND (length(given_l) <> length(given_r) OR length(given_l) > 5"
    " OR given_vowel_l = given_vowel_r)))"
)
# identity.other_gender_forms: not two forms of one name when the lists give both one
# gender and the nickname data links them (Mary / María); and an unknown name is a slip of
# a known one unless it is a known masculine name with a feminine ending (Kevin / Kevina).
_SAME_GENDER_NICKNAMES = (
    "coalesce(given_gender_l = given_gender_r AND list_has_any(given_nick_l, given_nick_r), false)"
)
_FEMININE_OF_KNOWN = (
    "coalesce((given_known_l AND given_gender_l = 'm' AND list_contains(given_bases_r, given_l))"
    " OR (given_known_r AND given_gender_r = 'm' AND list_contains(given_bases_l, given_r)), false)"
)
GIVEN_LEVELS = [
    (None, "given_l IS NULL OR given_r IS NULL", None, None),
    (L.SAME, "given_l = given_r", 0.70, 0.003),
    (
        L.OTHER_GENDER,
        "(list_contains(given_bases_l, given_r) OR list_contains(given_bases_r, given_l)"
        " OR (given_fem_l <> given_fem_r AND (given_spell_l = given_spell_r"
        " OR damerau_levenshtein(given_l, given_r) <= 1"
        " OR (given_sound_l = given_sound_r AND abs(length(given_l) - length(given_r)) <= 1))))"
        f" AND NOT {_SAME_GENDER_NICKNAMES}"
        f" AND NOT (given_known_l <> given_known_r AND {_typo('given', 4)}"
        f" AND NOT {_FEMININE_OF_KNOWN})",
        0.0005,
        0.02,
    ),
    (
        L.SPELLING,
        "given_spell_l = given_spell_r OR given_whole_spell_l = given_whole_spell_r",
        0.05,
        0.0005,
    ),
    (L.NICKNAME, "list_has_any(given_nick_l, given_nick_r)", 0.08, 0.0015),
    (
        L.SOUNDS,
        "given_sound_l = given_sound_r AND length(given_sound_l) >= 2"
        " AND given_vowel_l = given_vowel_r",
        0.05,
        0.0008,
    ),
    (
        L.TYPO,
        f"({_typo('given', 3)} AND {_SLIP}) OR ({_typo('given_whole_spell', 6)})",
        0.05,
        0.0005,
    ),
    (
        L.MIDDLE,
        "list_contains(given_others_l, given_r) OR list_contains(given_others_r, given_l)",
        0.04,
        0.002,
    ),
    (
        "swapped",
        "given_whole_spell_l = family_spell_r AND family_spell_l = given_whole_spell_r",
        0.02,
        0.0002,
    ),
    (L.DIFFERENT, "ELSE", 0.01, 0.99),
]
FAMILY_LEVELS = [
    (None, "family_l IS NULL OR family_r IS NULL", None, None),
    (L.SAME, "family_l = family_r", 0.85, 0.0012),
    (
        L.COMPOUND,
        "list_has_all(family_words_l, family_words_r)"
        " OR list_has_all(family_words_r, family_words_l)",
        0.04,
        0.0002,
    ),
    (L.SPELLING, "family_spell_l = family_spell_r", 0.02, 0.0001),
    (
        L.SOUNDS,
        "family_sound_l = family_sound_r AND length(family_sound_l) >= 2"
        " AND family_vowel_l = family_vowel_r",
        0.02,
        0.0003,
    ),
    (L.TYPO, _typo("family", 3), 0.03, 0.0003),
    # The other half of a swap: nearly certain once the given name is found swapped.
    (
        "swapped",
        "given_whole_spell_l = family_spell_r AND family_spell_l = given_whole_spell_r",
        0.30,
        0.0002,
    ),
    (L.DIFFERENT, "ELSE", 0.03, 0.99),
]
BIRTH_DATE_LEVELS = [
    (None, "birth_date_l IS NULL OR birth_date_r IS NULL", None, None),
    (R.BIRTH_DATE_SAME, "birth_date_l = birth_date_r", 0.90, 0.0005),
    (
        R.BIRTH_DATE_SWAPPED,
        "birth_year_l = birth_year_r AND birth_month_l = birth_day_r"
        " AND birth_day_l = birth_month_r",
        0.04,
        0.00015,
    ),
    (R.BIRTH_DATE_TYPO, "damerau_levenshtein(birth_text_l, birth_text_r) <= 1", 0.08, 0.009),
    (R.BIRTH_DATE_DIFFERENT, "ELSE", 0.02, 0.99),
]
EMAIL_LEVELS = [
    (None, "email_name_l IS NULL OR email_name_r IS NULL", None, None),
    (R.EMAIL_NAME, "email_name_l = email_name_r", 0.15, 0.0001),
    ("", "ELSE", 0.85, 0.9999),
]
# Fixed: twins share a phone and a school (see the module's docstring).
PHONE_LEVELS = [
    (None, "phone_l IS NULL OR phone_r IS NULL", None, None),
    (R.PHONE_SAME, "phone_l = phone_r", 0.30, 0.10),
    ("", "ELSE", 0.70, 0.90),
]
SCHOOL_LEVELS = [
    (None, "high_school_id_l IS NULL OR high_school_id_r IS NULL", None, None),
    (R.SCHOOL_SAME, "high_school_id_l = high_school_id_r", 0.60, 0.45),
    ("", "ELSE", 0.40, 0.55),
]
MIDDLE_LEVELS = [
    (None, "middle_l IS NULL OR middle_r IS NULL", None, None),
    (R.MIDDLE_SAME, "middle_l = middle_r", 0.80, 0.01),
    (R.MIDDLE_DIFFERENT, "ELSE", 0.20, 0.99),
]
COMPARISONS = {
    "given": (GIVEN_LEVELS, "given"),
    "family": (FAMILY_LEVELS, "family"),
    "birth_date": (BIRTH_DATE_LEVELS, None),
    "email_name": (EMAIL_LEVELS, None),
    "phone": (PHONE_LEVELS, None),
    "high_school": (SCHOOL_LEVELS, None),
    "middle": (MIDDLE_LEVELS, None),
}

BLOCKING_RULES = [
    # Nearly the same birth date (one part typed wrong, or day and month swapped) and a
    # family name that sounds the same.
    "l.family_sound = r.family_sound AND l.birth_year = r.birth_year"
    " AND l.birth_month = r.birth_month",
    "l.family_sound = r.family_sound AND l.birth_year = r.birth_year AND l.birth_day = r.birth_day",
    "l.family_sound = r.family_sound AND l.birth_month = r.birth_month"
    " AND l.birth_day = r.birth_day",
    "l.family_sound = r.family_sound AND l.birth_year = r.birth_year"
    " AND l.birth_month = r.birth_day AND l.birth_day = r.birth_month",
    # The same birth date: the given name sounds the same, or the family name begins with
    # the same letter, or the names are in the other order.
    "l.birth_date = r.birth_date AND l.given_sound = r.given_sound",
    "l.birth_date = r.birth_date AND left(l.family, 1) = left(r.family, 1)",
    # The names in the other order, whatever the birth date.
    "l.given_whole_sound = r.family_sound AND l.family_sound = r.given_whole_sound",
    # The same given name and a family name in common, whatever the birth date.
    "l.given = r.given AND l.family_first = r.family_first",
    "l.given = r.given AND l.family_last = r.family_last",
    "l.given = r.given AND l.family_first = r.family_last",
    # The same email name; the same phone and a given name that sounds the same.
    "l.email_name = r.email_name",
    "l.phone = r.phone AND l.given_sound = r.given_sound",
]


# Below this many students, how often a name occurs says little about how common it is:
# exact names keep their fixed weight.
TERM_FREQUENCY_MIN_STUDENTS = 10_000


def _comparison(name: str, levels: list, tf_column: str | None) -> dict:
    comparison_levels = []
    for level, condition, m, u in levels:
        if level is None:
            comparison_levels.append(
                {"sql_condition": condition, "label_for_charts": "null", "is_null_level": True}
            )
            continue
        spec = {
            "sql_condition": condition,
            "label_for_charts": level or "else",
            "m_probability": m,
            "u_probability": u,
            "fix_m_probability": True,
            "fix_u_probability": True,
        }
        if tf_column and level == L.SAME:
            # A rare name counts for more, up to the weight of one in 2,000 students:
            # twins share even the rarest family name.
            spec["tf_adjustment_column"] = tf_column
            spec["tf_adjustment_weight"] = 1.0
            spec["tf_minimum_u_value"] = 0.0005
        comparison_levels.append(spec)
    return {"output_column_name": name, "comparison_levels": comparison_levels}


def settings(*, students: int) -> dict:
    """The Splink settings: the model, fixed (m and u above; for a state's worth of
    students, the frequencies of exact names from the data)."""
    use_frequencies = students >= TERM_FREQUENCY_MIN_STUDENTS
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": PRIOR,
        "blocking_rules_to_generate_predictions": BLOCKING_RULES,
        "comparisons": [
            _comparison(name, levels, tf if use_frequencies else None)
            for name, (levels, tf) in COMPARISONS.items()
        ],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
    }


@dataclass(frozen=True)
class CandidatePair:
    """Two students who may be one: the newer record first."""

    student_id: int
    existing_student_id: int
    weight: float
    reasons: tuple[str, ...]
    kind: str


def _level_names(levels: list) -> dict[int, str]:
    """Splink's gamma value of each level (the else level is 0, nulls -1)."""
    named = [level for level, *_rest in levels if level is not None]
    return {len(named) - 1 - index: level for index, level in enumerate(named)}


_GAMMAS = {name: _level_names(levels) for name, (levels, _tf) in COMPARISONS.items()}


def explain(gammas: dict[str, int], weight: float) -> tuple[tuple[str, ...], str]:
    """The reasons (MatchReason) and kind (MatchKind) of a scored pair."""
    levels = {name: _GAMMAS[name].get(gamma) for name, gamma in gammas.items()}
    given, family = levels["given"], levels["family"]
    swapped = given == "swapped" or family == "swapped"
    reasons = []
    if swapped:
        reasons.append(R.NAMES_SWAPPED)
    given = L.SAME if given == "swapped" else given
    family = L.SAME if family == "swapped" else family
    reasons += [GIVEN_REASONS[given]] if given in GIVEN_REASONS else []
    reasons += [FAMILY_REASONS[family]] if family in FAMILY_REASONS else []
    for name in ("middle", "birth_date", "email_name", "phone", "high_school"):
        if levels[name]:
            reasons.append(levels[name])
    comparison = Comparison(
        score=weight,
        reasons=tuple(reasons),
        given=given or L.MISSING,
        family=family or L.MISSING,
        swapped=swapped,
        birth_date=levels["birth_date"] or "",
    )
    return comparison.reasons, comparison.kind


def find_duplicates(
    table: pa.Table, *, threshold: float = MATCH_WEIGHT_THRESHOLD
) -> list[CandidatePair]:
    """Score the blocked pairs of `table` (features_table) and return those whose match
    weight reaches `threshold`, strongest first."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    if table.num_rows < 2:
        return []
    db_api = DuckDBAPI()
    frame = db_api.register(table, table_name="students")
    linker = Linker(
        frame, SettingsCreator(**settings(students=table.num_rows)), log_level=logging.WARNING
    )
    predictions = linker.inference.predict(threshold_match_weight=threshold, warning_mode="never")
    gamma_columns = [f"gamma_{name}" for name in COMPARISONS]
    relation = predictions.as_duckdbpyrelation()
    rows = relation.select(
        ", ".join(["unique_id_l", "unique_id_r", "match_weight", *gamma_columns])
    ).fetchall()
    pairs = []
    for left, right, weight, *gammas in rows:
        if weight is None or math.isnan(weight):
            continue
        reasons, kind = explain(dict(zip(COMPARISONS, gammas, strict=True)), weight)
        pairs.append(
            CandidatePair(
                student_id=max(left, right),
                existing_student_id=min(left, right),
                weight=round(weight, 2),
                reasons=reasons,
                kind=kind,
            )
        )
    pairs.sort(key=lambda p: (-p.weight, p.existing_student_id, p.student_id))
    logger.info("statewide linkage: students=%s candidates=%s", table.num_rows, len(pairs))
    return pairs
