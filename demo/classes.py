"""Builds each year's classes (sections): sized to demand, with their term's calendar."""

from collections import Counter, defaultdict
from datetime import date, timedelta

from enrollment.models import Section

from . import plan
from .constants import DAY
from .context import DemoBuild
from .rows import Table

SECTION = Table(Section)


def section_times(b: DemoBuild, rng, school: plan.School, yi: int, term: str):
    """A class's registration window, term end, and when it was graded and completed
    (timestamps; None when that has not happened, a few stragglers every year)."""
    start = b.year_starts[yi]
    policy = school.consortium.policies[yi]
    term_start = date(start + 1, 1, 28) if term == "spring" else date(start, 9, 3)
    term_end = date(start + 1, 1, 24) if term == "fall" else date(start + 1, 6, 12)
    reg_lo = b.ts(policy.opens, 7)
    reg_hi = min(b.ts(policy.closes, 22), b.ts(term_end - timedelta(days=10), 22))
    if yi == b.current:
        reg_hi = min(reg_hi, b.now_ts - 600)
    if reg_hi <= reg_lo:
        reg_lo = min(b.ts(term_start, 7), reg_hi - DAY)
    end_ts = b.ts(term_end, 15)
    grade_ts = end_ts + rng.uniform(0, 9) * DAY
    complete_ts = grade_ts + rng.uniform(0.05, 4) * DAY
    if yi != b.current or rng.random() < 0.5:  # a few stragglers every year
        roll = rng.random()
        if roll < 0.02:
            grade_ts = complete_ts = None  # never graded
        elif roll < 0.045:
            complete_ts = None  # grades entered, class never marked complete
    if grade_ts is not None and grade_ts > b.now_ts:
        grade_ts = complete_ts = None
    if complete_ts is not None and complete_ts > b.now_ts:
        complete_ts = None
    return reg_lo, reg_hi, end_ts, grade_ts, complete_ts


def build_sections(b: DemoBuild, yi: int, choices) -> dict[int, list[plan.Section]]:
    """Classes for the demand `choices` ((school, version), students), about 27 students
    each; returns each student's classes."""
    rng = b.rng(f"sections:{yi}")
    by_student: dict[int, list[plan.Section]] = defaultdict(list)
    made: list[plan.Section] = []
    for (school, v), students in choices:
        n = len(students)
        count = max(1, round(n / 27))
        while n / count > 34:
            count += 1
        teachers = school.teachers[v.lineage.index]
        term = school.terms[v.lineage.index]
        rng.shuffle(students)
        for j in range(count):
            teacher = teachers[j % len(teachers)]
            times = section_times(b, rng, school, yi, term)
            sec = plan.Section(b.ids.take(Section), school, v, teacher, yi, term, *times)
            made.append(sec)
            b.sections[(school.id, yi)].append(sec)
            for i in students[j::count]:
                by_student[i].append(sec)
    if yi < b.current:
        # Every past year has at least one class graded but never completed, and one never
        # graded at all (the stale records staff chase), away from the demo teacher.
        others = [s for s in made if s.teacher_id != b.demo_teacher_id and s.complete_ts]
        if others and not any(s.grade_ts and not s.complete_ts for s in made):
            others.pop(0).complete_ts = None
        if len(others) > 1 and not any(s.grade_ts is None for s in made):
            sec = others.pop()
            sec.grade_ts = sec.complete_ts = None
    if yi == b.current:
        # The teacher whose account is not active yet: a class nobody could join so far.
        uid, lineage = b.inactive_teacher
        v = lineage.offered(yi)
        reg_lo, reg_hi, end_ts, _, _ = section_times(b, rng, b.main_school, yi, "year")
        made.append(
            plan.Section(b.ids.take(Section), b.main_school, v, uid, yi, "year", reg_lo,
                         reg_hi, end_ts, None, None)
        )  # fmt: skip
    b.writer.write(SECTION, _section_rows(b, rng, yi, made))
    return by_student


def _section_rows(b: DemoBuild, rng, yi: int, made: list[plan.Section]) -> list[tuple]:
    rows = []
    seen: Counter[int] = Counter()
    for sec in made:
        seen[sec.teacher_id] += 1
        created = sec.reg_lo - rng.uniform(5, 25) * DAY
        done = sec.complete_ts is not None
        rows.append(
            SECTION.row(
                id=sec.id,
                articulation_id=sec.version.id,
                teacher_id=sec.teacher_id,
                high_school_id=sec.school.id,
                academic_year_id=b.year_ids[yi],
                term=sec.term,
                section_code=f"P{seen[sec.teacher_id]}",
                completed_at=b.dt(sec.complete_ts) if done else None,
                completed_by_id=sec.teacher_id if done else None,
                created_at=b.dt(created),
            )
        )
    return rows
