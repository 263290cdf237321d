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
    .venv/bin/python bench/bench_identity.py --database --inject 0   # time only, no writes

With --database it runs the service itself (enrollment.services.duplicates) on the
students in DATABASE_URL (e.g. state-size data from build_state_data.py), as production
does. With --inject N (default 2,000) it first writes, in bulk, a second record of N
students drawn at random from the database (seeded), each written another way by the
generator (one kind after another, each on a student it applies to) with its own
account (an email at @injected.bench.example, often a new phone or school), after
removing the rows of an earlier run and EMPTYING THE WHOLE PossibleDuplicate QUEUE (a
bench database only). Then it runs the check and reports recall (injected pairs queued /
N), precision over every queued pair and over the pairs with an injected record, the
pairs between two of the database's own students (different people by construction:
the demo data draws names from a short list), the misses by kind, and the time of each
step; at the end it removes the injected students, their accounts and every pair they
are part of (unless --keep). Synthetic data only; prints counts, never a name.
"""

import argparse
import json
import os
import string
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")

# The accounts of the injected second records: how the bench finds and removes them.
INJECTED_DOMAIN = "injected.bench.example"
# Thresholds above the run's, whose precision and recall the queued scores give.
SWEEP = (-5, -4, -3, -2, 0, 2, 4)


def build(students: int, duplicates: int, seed: int, birth_date_typos: float):
    """(records, injected pairs as (new id, existing id), kind of each pair)."""
    from tests.identity.generator import population_with_duplicates

    records, kind_of = population_with_duplicates(
        seed, students=students, duplicates=duplicates, birth_date_typos=birth_date_typos
    )
    return records, set(kind_of), kind_of


@contextmanager
def step(name: str, times: dict):
    """Time a step (wall and this process's CPU, all its threads), and say so."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    times[name] = {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
    }
    print(f"{name}: {times[name]['wall_s']} s wall, {times[name]['cpu_s']} s CPU", file=sys.stderr)


def remove_injected() -> dict:
    """Delete the injected students, their accounts and every pair they are part of."""
    from django.db import transaction
    from django.db.models import Q

    from accounts.models import User
    from enrollment.models import PossibleDuplicate, StudentProfile

    users = User.objects.filter(email__endswith="@" + INJECTED_DOMAIN)
    profiles = StudentProfile.objects.filter(user__in=users)
    with transaction.atomic():
        pairs = PossibleDuplicate.objects.filter(
            Q(student__in=profiles) | Q(existing_student__in=profiles)
        ).delete()[0]
        students = profiles.delete()[0]
        accounts = users.delete()[0]
    return {"pairs": pairs, "students": students, "accounts": accounts}


def _gender(value: str, rng) -> str:
    return {"male": "m", "female": "f"}.get(value) or rng.choice("mf")


def inject(count: int, seed: int, birth_date_typos: float) -> dict[tuple[int, int], str]:
    """Write a second record of `count` students of the database, each written another way
    (the generator's kinds in turn, each on a student drawn at random among those it
    applies to) with a new account, as tests.identity.generator.Generator.same_person
    does: a new email (sometimes the old one's name at another provider), the phone kept
    half the time, the school 60%, and a share of birth dates typed wrong. Returns the
    injected pairs, (new id, original id) -> kind ("+birth_date" when typed wrong)."""
    from dataclasses import replace

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import User
    from enrollment.models import StudentProfile
    from enrollment.services import duplicates
    from enrollment.services.signup import luhn_check_digit
    from organisations.models import HighSchool
    from tests.identity.generator import Generator, Person, mistyped_birth_date

    rows = list(
        StudentProfile.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list(*duplicates.STUDENT_FIELDS, "graduation_year", "gender")
    )
    schools = list(HighSchool.objects.order_by("pk").values_list("pk", flat=True))
    used_sers = set(StudentProfile.objects.values_list("sers_id", flat=True))
    generator = Generator(seed)
    rng = generator.rng
    kinds = generator.same_person_kinds()
    chosen: set[int] = set()
    planned = []  # (original row, new Person, kind)
    for i in range(count):
        found = None
        for offset in range(len(kinds)):  # the next kind when none applies here
            kind = kinds[(i + offset) % len(kinds)]
            for _attempt in range(5000):
                row = rows[rng.randrange(len(rows))]
                if row[0] in chosen:
                    continue
                _pk, first, middle, last, born, email, phone, school, _grad, gender = row
                person = Person(
                    first=first,
                    middle=middle,
                    last=last,
                    birth_date=born,
                    email=email,
                    phone=phone,
                    school=school,
                    gender=_gender(gender, rng),
                )
                new = generator.variant(person, kind)
                if new is not None and (new.first, new.middle, new.last) != (first, middle, last):
                    found = (row, person, new, kind)
                    break
            if found:
                break
        if not found:
            raise RuntimeError("no student in the database that a variant applies to")
        row, person, new, kind = found
        chosen.add(row[0])
        local = (
            person.email.split("@")[0].rstrip(string.digits)
            if rng.random() < 0.15
            else generator.email(new.first, new.last).split("@")[0]
        )
        new = replace(
            new,
            # "+n" keeps the address unique; the email name the check compares drops it.
            email=f"{local}+{i}@{INJECTED_DOMAIN}".lower(),
            phone=person.phone if rng.random() < 0.5 else generator.phone(),
            school=person.school if rng.random() < 0.6 else rng.choice(schools),
        )
        if rng.random() < birth_date_typos:
            new = mistyped_birth_date(rng, new)
        typed = "+birth_date" if new.birth_date != person.birth_date else ""
        planned.append((row, new, kind + typed))

    def sers_id() -> str:
        while True:
            body = f"{rng.randrange(10_000_000, 100_000_000):08d}"
            sers = body + luhn_check_digit(body)
            if sers not in used_sers:
                used_sers.add(sers)
                return sers

    password = make_password(None)  # unusable: bench accounts never sign in
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(email=new.email, first_name=new.first, last_name=new.last, password=password)
                for _row, new, _kind in planned
            ],
            batch_size=1000,
        )
        profiles = StudentProfile.objects.bulk_create(
            [
                StudentProfile(
                    user=user,
                    sers_id=sers_id(),
                    legal_first_name=new.first,
                    legal_middle_name=new.middle,
                    legal_last_name=new.last,
                    birth_date=new.birth_date,
                    phone=new.phone,
                    high_school_id=new.school,
                    graduation_year=row[8],
                    gender=row[9],
                )
                for user, (row, new, _kind) in zip(users, planned, strict=True)
            ],
            batch_size=1000,
        )
    return {
        (profile.pk, row[0]): kind
        for profile, (row, _new, kind) in zip(profiles, planned, strict=True)
    }


def evaluate(
    queued: list[tuple[int, int, float]],
    kind_of: dict[tuple[int, int], str],
    threshold: float,
) -> dict:
    """Recall and precision of the queued pairs (student, existing student, score)
    against the injected pairs."""
    injected = {frozenset(pair): kind for pair, kind in kind_of.items()}
    original_of = dict(kind_of.keys())  # new id -> original id
    injected_ids = set(original_of)
    queued_sets = {frozenset((a, b)) for a, b, _score in queued}

    def counts(at: float) -> dict:
        pairs = [frozenset((a, b)) for a, b, score in queued if score >= at]
        hits = sum(1 for p in pairs if p in injected)
        with_injected = sum(1 for p in pairs if p & injected_ids)
        return {
            "pairs": len(pairs),
            "injected_pairs_found": hits,
            "recall": round(hits / max(len(injected), 1), 4),
            "precision_all_pairs": round(hits / max(len(pairs), 1), 4),
            "precision_pairs_with_an_injected_record": round(hits / max(with_injected, 1), 4),
        }

    at_threshold = counts(threshold)
    # The queue's other pairs: an injected record with a student other than its original
    # (often the original's look-alike: same names and birth date, queued with the
    # original too), and two of the database's own students.
    injected_with_other = lookalike = own = 0
    for pair in queued_sets - set(injected):
        records = set(pair) & injected_ids
        if not records:
            own += 1
            continue
        injected_with_other += 1
        if any(frozenset((original_of[r], *(pair - {r}))) in queued_sets for r in records):
            lookalike += 1
    found = {p for p in injected if p in queued_sets}
    return {
        **at_threshold,
        "pairs_injected_record_with_another_student": injected_with_other,
        "of_which_the_other_is_queued_with_the_original_too": lookalike,
        "pairs_between_two_students_of_the_database": own,
        "injected_by_kind": dict(sorted(Counter(injected.values()).items())),
        "missed_by_kind": dict(
            sorted(Counter(kind for p, kind in injected.items() if p not in found).items())
        ),
        "sweep": {t: counts(t) for t in SWEEP if t >= threshold},
    }


def database_run(args) -> dict:
    """The service on DATABASE_URL, with --inject known duplicates (see the docstring)."""
    from unittest import mock

    from django.db import connection

    from enrollment import linkage
    from enrollment.models import PossibleDuplicate
    from enrollment.services import duplicates

    threshold = linkage.MATCH_WEIGHT_THRESHOLD if args.threshold is None else args.threshold
    result: dict = {
        "database": connection.settings_dict["NAME"],
        "threshold": threshold,
        "inject": args.inject,
        "seed": args.seed,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    times: dict = {}
    kind_of: dict = {}
    if args.inject:
        with step("remove an earlier run's rows, empty the queue", times):
            result["removed_earlier"] = remove_injected()
            result["removed_earlier"]["queue"] = PossibleDuplicate.objects.all().delete()[0]
        with step(f"inject {args.inject} second records (bulk_create)", times):
            kind_of = inject(args.inject, args.seed, args.birth_date_typos)

    def timed(name, function):
        def run(*a, **kw):
            with step(name, times):
                return function(*a, **kw)

        return run

    # The service exactly as production runs it; only its two steps are timed.
    with (
        mock.patch.object(
            linkage, "features_table", timed("  read students, features", linkage.features_table)
        ),
        mock.patch.object(
            linkage, "find_duplicates", timed("  block and score", linkage.find_duplicates)
        ),
        step("duplicate_check()", times),
    ):
        summary = duplicates.duplicate_check(threshold=threshold)
    result.update(summary.as_dict())
    if summary.candidates > summary.new_pairs:
        result["note"] = (
            f"{summary.candidates - summary.new_pairs} candidates not queued "
            f"(MAX_NEW_PAIRS = {duplicates.MAX_NEW_PAIRS} or queued before)"
        )
    if args.inject:
        queued = list(
            PossibleDuplicate.objects.values_list("student_id", "existing_student_id", "score")
        )
        result.update(evaluate(queued, kind_of, threshold))
        if not args.keep:
            with step("remove the injected rows", times):
                result["removed"] = remove_injected()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["times"] = times
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=213_000)
    parser.add_argument("--duplicates", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--birth-date-typos", type=float, default=0.15)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument(
        "--database",
        action="store_true",
        help="run the service (duplicate_check) on the students in DATABASE_URL. With "
        "--inject above 0 it writes to that database and EMPTIES ITS WHOLE "
        "PossibleDuplicate QUEUE first: a bench database only",
    )
    parser.add_argument(
        "--inject",
        type=int,
        default=2_000,
        help="with --database: second records of this many students to write and look for "
        "(default 2,000; 0: only run the check, writing nothing but its pairs)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --database: keep the injected students, accounts and pairs",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import django

    django.setup()
    from enrollment import linkage

    if args.database:
        result = database_run(args)
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return

    result: dict = {"students": args.students}

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
