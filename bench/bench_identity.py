"""The statewide duplicate check at state size: time, precision and recall.

Generates a statewide population of students (tests/identity/generator.py: realistic
names by frequency, about 1.5% twins), injects known duplicates (a second record of a
student written another way: nickname, spelling, transliteration, order, accents,
typing slips, one of two family names, the middle name; some with a birth date typed
wrong, most with a new email, phone or school), and runs the linkage model
(enrollment.linkage) over all of them. Reports the time of each step, and the precision
and recall of the candidate pairs against the injected duplicates at the threshold.

    .venv/bin/python bench/bench_identity.py                     # 213,000 students
    .venv/bin/python bench/bench_identity.py --students 20000 --duplicates 400
    .venv/bin/python bench/bench_identity.py --database          # the service on DATABASE_URL

With --database it runs the service itself (enrollment.services.duplicates) on the
students in DATABASE_URL (e.g. state-size data from build_state_data.py): the time to
read them, score them and queue the new pairs. Synthetic data only; prints counts, never
a name.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")


def build(students: int, duplicates: int, seed: int, birth_date_typos: float):
    """(records, injected pairs as (new id, existing id), kind of each pair)."""
    from tests.identity.generator import population_with_duplicates

    records, kind_of = population_with_duplicates(
        seed, students=students, duplicates=duplicates, birth_date_typos=birth_date_typos
    )
    return records, set(kind_of), kind_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=213_000)
    parser.add_argument("--duplicates", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--birth-date-typos", type=float, default=0.15)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--database", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import django

    django.setup()
    from enrollment import linkage

    result: dict = {"students": args.students}
    if args.database:
        from enrollment.services import duplicates

        started = time.perf_counter()
        summary = duplicates.duplicate_check()
        result.update(summary.as_dict(), seconds=round(time.perf_counter() - started, 1))
        print(json.dumps(result, indent=2))
        return

    started = time.perf_counter()
    records, injected, kind_of = build(
        args.students, args.duplicates, args.seed, args.birth_date_typos
    )
    generated = time.perf_counter()
    table = linkage.features_table(records)
    featured = time.perf_counter()
    threshold = linkage.MATCH_WEIGHT_THRESHOLD if args.threshold is None else args.threshold
    pairs = linkage.find_duplicates(table, threshold=min(threshold, -10.0))
    scored = time.perf_counter()

    sweep = {}
    for t in (-40, -8, -6, -5, -4, -3, -2, 0, 2, 4):
        at = {(p.student_id, p.existing_student_id) for p in pairs if p.weight >= t}
        hits = len(at & injected)
        sweep[t] = (round(hits / max(len(at), 1), 3), round(hits / len(injected), 3), len(at))
    pairs = [p for p in pairs if p.weight >= threshold]
    found = {(p.student_id, p.existing_student_id) for p in pairs}
    true_positive = found & injected
    missed_kinds = Counter(kind_of[p] for p in injected - found)
    result.update(
        duplicates=len(injected),
        threshold=threshold,
        candidates=len(found),
        true_positives=len(true_positive),
        precision=round(len(true_positive) / max(len(found), 1), 4),
        recall=round(len(true_positive) / max(len(injected), 1), 4),
        seconds_generate=round(generated - started, 1),
        seconds_features=round(featured - generated, 1),
        seconds_linkage=round(scored - featured, 1),
        missed_by_kind=dict(sorted(missed_kinds.items())),
        sweep_precision_recall_pairs=sweep,
        weights=sorted(
            round(p.weight, 1) for p in pairs if (p.student_id, p.existing_student_id) in injected
        )[:10],
        false_positive_weights=sorted(
            (
                round(p.weight, 1)
                for p in pairs
                if (p.student_id, p.existing_student_id) not in injected
            ),
            reverse=True,
        )[:10],
    )
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
