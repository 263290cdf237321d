"""Picks each year's students (new ones get a synthetic identity) and the classes they want."""

from bisect import bisect_right
from datetime import date, timedelta
from itertools import accumulate

from accounts.models import User
from enrollment.models import StudentProfile

from . import plan
from .constants import EMAIL_SUFFIX
from .context import DemoBuild
from .rows import Table
from .vocabulary import (
    AREA_CODES,
    GENDERS,
    K_CUM,
    K_VALUES,
    RACES,
    Weighted,
    ascii_lower,
    sers_id_from,
)

PROFILE = Table(StudentProfile)


def build_pools(b: DemoBuild) -> None:
    """Per school and year, the classes on offer, each repeated by its popularity: at the
    school itself (`pool`) and at the skills centers serving its district (`sc_pool`)."""
    for school in b.schools:
        for yi in range(b.n_years):
            school.pool[yi] = [
                (school, v)
                for lin in school.lineages
                if (v := lin.offered(yi))
                for _ in range(lin.weight)
            ]
            school.sc_pool[yi] = [
                (sc, v)
                for sc in b.served.get(school.district.id, [])
                for lin in sc.lineages
                if (v := lin.offered(yi))
                for _ in range(lin.weight)
            ]


def unused_sers_id(b: DemoBuild, rng) -> str:
    sers = sers_id_from(rng)
    while sers in b.used_sers:
        sers = sers_id_from(rng)
    b.used_sers.add(sers)
    return sers


def pick_participants(b: DemoBuild, yi: int) -> tuple[list[int], dict[int, tuple]]:
    """This year's students (by number): some of last year's who go on, then new ones, whose
    identities come back as student number -> (sers id, first, middle, last, born, phone,
    gender, race, email, email verified)."""
    rng = b.rng(f"students:{yi}")
    start = b.year_starts[yi]
    continuing = []
    if yi > 0:
        go_on = {9: 0.45, 10: 0.55, 11: 0.6}
        for i in b.last_participants:
            grade = 12 - (b.st_grad[i] - (start + 1)) - 1  # last year's grade
            if grade < 12 and rng.random() < go_on.get(grade, 0.5):
                continuing.append(i)
    n_new = max(0, b.n_students - len(continuing))
    cum = list(accumulate(s.weight for s in b.schools))
    grades = Weighted(
        ((9, 0.10), (10, 0.25), (11, 0.45), (12, 0.20))
        if yi
        else ((9, 0.08), (10, 0.22), (11, 0.35), (12, 0.35))
    )
    new: dict[int, tuple] = {}
    for _ in range(n_new):
        i = len(b.st_id)
        school = b.schools[bisect_right(cum, rng.random() * cum[-1])]
        grade = grades(rng)
        grad_year = start + 1 + (12 - grade)
        # Born between Sep 1 and Aug 31, 18 to 19 years before graduating (a few off by one).
        shift = 0 if rng.random() < 0.97 else rng.choice((-1, 1))
        born = date(grad_year - 19 + shift, 9, 1) + timedelta(days=rng.randrange(365))
        first, last = b.person(rng)
        middle = b.given_name(rng) if rng.random() < 0.55 else ""
        if rng.random() < 0.06:
            last = f"{last}-{b.family_name(rng)}"
        sers = unused_sers_id(b, rng)
        phone = (
            f"{rng.choice(AREA_CODES)}-555-01{rng.randrange(100):02d}" if rng.random() < 0.4 else ""
        )
        gender = GENDERS(rng) if rng.random() < 0.7 else ""
        race = RACES(rng) if rng.random() < 0.6 else ""
        provider = ("mail", "inbox", "post")[i % 3]
        email = f"{ascii_lower(first)}.{ascii_lower(last)}{i}@{provider}{EMAIL_SUFFIX}"
        verified = rng.random() < 0.93
        add_student(b, school, grad_year)
        new[i] = (sers, first, middle, last, born, phone, gender, race, email, verified)
    return continuing + list(new), new


def add_student(b: DemoBuild, school: plan.School, grad_year: int) -> int:
    """A new student number, with its profile and account ids handed out."""
    i = len(b.st_id)
    b.st_id.append(b.ids.take(StudentProfile))
    b.st_user.append(b.ids.take(User))
    b.st_school.append(school)
    b.st_grad.append(grad_year)
    return i


def pick_classes(b: DemoBuild, yi: int, participants: list[int]):
    """Each student's classes this year, grouped by (school, agreement version)."""
    rng = b.rng(f"classes:{yi}")
    demand: dict[tuple[int, int], list[int]] = {}
    where: dict[tuple[int, int], tuple[plan.School, plan.Version]] = {}
    for i in participants:
        school = b.st_school[i]
        pool, sc_pool = school.pool[yi], school.sc_pool[yi]
        taken = b.taken.setdefault(i, set())
        k = K_VALUES[bisect_right(K_CUM, rng.random() * K_CUM[-1])]
        picks: list[tuple[plan.School, plan.Version]] = []
        seen = set()
        if sc_pool and rng.random() < 0.22:
            for _ in range(10):
                sc, v = rng.choice(sc_pool)
                if v.lineage.index not in taken:
                    picks.append((sc, v))
                    seen.add(v.lineage.index)
                    break
        tries = 0
        while len(picks) < k and pool and tries < 40:
            tries += 1
            where_, v = rng.choice(pool)
            index = v.lineage.index
            if index in taken or index in seen:
                continue
            seen.add(index)
            picks.append((where_, v))
        for where_, v in picks:
            key = (where_.id, v.id)
            if key not in demand:
                demand[key] = []
                where[key] = (where_, v)
            demand[key].append(i)
        taken |= seen
    return [(where[key], students) for key, students in demand.items()]
