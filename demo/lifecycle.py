"""Builds the enrollments with their status histories, re-enacting the enrollment lifecycle."""

# The rows bypass the enrollment services (a data loader writes in bulk), but every enrollment
# gets the status history the services would have written: from '' to registered, then each
# allowed step in order, changed by the right person (the student or a career specialist, the
# teacher, the college registrar) at strictly increasing times, so the last history row always
# matches the enrollment's status, and nothing is dated after "now".

from bisect import bisect_right
from datetime import date
from itertools import accumulate

from enrollment.models import (
    GRADED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
)
from organisations.grades import LETTER_POINTS, PERCENT_LETTER_FLOORS, GradeScale

from . import plan
from .constants import DAY, HOUR
from .context import DemoBuild
from .rows import Table
from .vocabulary import REMOVE_REASONS, WITHDRAW_REASONS

S = EnrollmentStatus

ENROLLMENT = Table(Enrollment)
HISTORY = Table(EnrollmentStatusChange, pk=False)

LETTER_WEIGHTS = {
    "A": 30,
    "A-": 16,
    "B+": 14,
    "B": 13,
    "B-": 8,
    "C+": 6,
    "C": 5,
    "C-": 2,
    "D+": 1,
    "D": 1,
    "D-": 0.5,
    "F": 3.5,
}
LETTERS = tuple(LETTER_WEIGHTS)
LETTER_CUM = tuple(accumulate(LETTER_WEIGHTS.values()))
# Percent grades drawn for each letter: its floor up to the next letter's floor.
_FLOORS = sorted(PERCENT_LETTER_FLOORS)
PERCENT_RANGE = {
    letter: (
        40 if letter == "F" else floor,
        (_FLOORS[i + 1][0] - 1) if i + 1 < len(_FLOORS) else 100,
    )
    for i, (floor, letter) in enumerate(_FLOORS)
}


def draw_grade(rng, scale: str) -> str:
    letter = LETTERS[bisect_right(LETTER_CUM, rng.random() * LETTER_CUM[-1])]
    if scale == GradeScale.LETTER:
        return letter
    if scale == GradeScale.POINTS:
        points = float(LETTER_POINTS[letter]) + rng.uniform(-0.1, 0.25)
        return f"{min(4.0, max(0.0, points)):.1f}"
    low, high = PERCENT_RANGE[letter]
    return str(rng.randint(low, high))


def lifecycle(
    b: DemoBuild, rng, sec: plan.Section, student_user: int, specialist: int, outcome=None
):
    """The status changes of one enrollment up to grading: [(ts, from, to, by, grade, why)].

    `outcome` forces a path for the hand-made demo student (registered, confirmed,
    withdrawn, attained, not_attained); otherwise it is drawn at random.
    """
    reg = rng.uniform(sec.reg_lo, max(sec.reg_lo, sec.reg_hi))
    by_staff = specialist and outcome is None and rng.random() < 0.04
    events = [
        (
            reg,
            "",
            S.REGISTERED,
            specialist if by_staff else student_user,
            "",
            "Registered at the counseling office" if by_staff else "",
        )
    ]
    teacher = sec.teacher_id
    confirm = reg + rng.uniform(0.2, 10) * DAY
    roll = rng.random() if outcome is None else 1.0
    if outcome == S.REGISTERED:
        return events
    if roll < 0.015:
        at = reg + rng.uniform(0.05, 0.9) * (confirm - reg)
        events.append(
            (at, S.REGISTERED, S.WITHDRAWN, student_user, "", rng.choice(WITHDRAW_REASONS))
        )
        return events
    if roll < 0.04:
        events.append((confirm, S.REGISTERED, S.REMOVED, teacher, "", rng.choice(REMOVE_REASONS)))
        return events
    if roll < 0.05:
        return events  # the teacher never confirmed this one
    events.append((confirm, S.REGISTERED, S.CONFIRMED, teacher, "", ""))
    if outcome == S.CONFIRMED:
        return events
    last_day = sec.term_end - DAY
    if roll < 0.095 or outcome == S.WITHDRAWN:
        at = confirm + rng.uniform(0.1, 1) * max(HOUR, last_day - confirm)
        events.append(
            (at, S.CONFIRMED, S.WITHDRAWN, student_user, "", rng.choice(WITHDRAW_REASONS))
        )
        return events
    if roll < 0.1:
        at = confirm + rng.uniform(0.1, 1) * max(HOUR, last_day - confirm)
        events.append((at, S.CONFIRMED, S.REMOVED, teacher, "", "Stopped attending"))
        return events
    if sec.grade_ts is None:
        return events
    v = sec.version
    grade_at = max(sec.grade_ts, confirm + HOUR) + rng.uniform(0, 2) * HOUR
    grade = draw_grade(rng, v.scale)
    if outcome in (S.ATTAINED, S.NOT_ATTAINED):
        while b.meets(v.scale, grade, v.scale, v.minimum) != (outcome == S.ATTAINED):
            grade = draw_grade(rng, v.scale)
    if outcome is None and rng.random() < 0.015:  # a corrected grade
        first = draw_grade(rng, v.scale)
        if first != grade:
            events.append((grade_at, S.CONFIRMED, S.GRADED, teacher, first, ""))
            grade_at += rng.uniform(0.1, 1) * HOUR
            events.append(
                (grade_at, S.GRADED, S.GRADED, teacher, grade, "Corrected a data-entry error")
            )
    if events[-1][2] != S.GRADED:
        events.append((grade_at, S.CONFIRMED, S.GRADED, teacher, grade, ""))
    if sec.complete_ts is None:
        return events
    done = max(sec.complete_ts, grade_at + 60) + rng.uniform(0, 120)
    met = b.meets(v.scale, grade, v.scale, v.minimum)
    events.append((done, S.GRADED, S.ATTAINED if met else S.NOT_ATTAINED, teacher, grade, ""))
    return events


def transcription_dates(b: DemoBuild, yi: int) -> list[date]:
    """The days registrars transcribe a year's credits in batches, up to today."""
    start = b.year_starts[yi]
    batches = [
        date(start + 1, 3, 2),
        date(start + 1, 4, 20),
        date(start + 1, 7, 10),
        date(start + 1, 8, 25),
        date(start + 1, 10, 20),
        date(start + 2, 1, 15),
        date(start + 2, 4, 15),
        date(start + 2, 10, 1),
    ]
    return [d for d in batches if d < b.today]


def enrollment_row(b: DemoBuild, eid, sid, sec: plan.Section, events, student_index) -> tuple:
    """The enrollment as its history leaves it."""
    last = events[-1]
    status = last[2]
    grade, graded_at, graded_by = "", None, None
    for at, _f, t, by, g, _why in events:
        if t == S.GRADED:
            grade, graded_at, graded_by = g, b.dt(at), by
    transcribed_on, college_sid = None, ""
    if status == S.TRANSCRIBED:
        transcribed_on = b.day_of(last[0])
        college = sec.version.college
        college_sid = f"9{(student_index * 7919 + college.id * 104_729) % 100_000_000:08d}"
    registered_by = events[0][3] if events[0][3] != b.st_user[student_index] else None
    return ENROLLMENT.row(
        id=eid,
        student_id=sid,
        section_id=sec.id,
        status=status,
        grade=grade,
        graded_at=graded_at,
        graded_by_id=graded_by,
        college_student_id=college_sid,
        transcribed_on=transcribed_on,
        registered_by_id=registered_by,
        created_at=b.dt(events[0][0]),
        status_changed_at=b.dt(last[0]),
    )


def history_rows(b: DemoBuild, eid: int, events) -> list[tuple]:
    """An enrollment's status changes (a grade only where the status carries one)."""
    return [
        HISTORY.row(
            enrollment_id=eid,
            from_status=f,
            to_status=t,
            grade=g if t in GRADED_STATUSES else "",
            changed_by_id=by,
            changed_at=b.dt(at),
            reason=why,
        )
        for at, f, t, by, g, why in events
    ]
