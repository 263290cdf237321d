"""Builds the hand-made demo student (student@demo) with a credit in every stage."""

from datetime import date, timedelta

from enrollment.models import Enrollment

from . import plan
from .constants import DAY, DEMO_DOMAIN, HOUR
from .context import DemoBuild
from .fees import FEE, demo_student_fee_row
from .lifecycle import ENROLLMENT, HISTORY, S, enrollment_row, history_rows, lifecycle
from .people import USER, user_row
from .students import PROFILE, add_student, unused_sers_id


def build_demo_student(b: DemoBuild) -> None:
    """student@demo: last year a transcribed, an eligible attained and a not-attained
    credit; this year registered, confirmed and withdrawn classes (and more when the
    calendar allows)."""
    rng = b.rng("demo-student")
    school = b.main_school
    c = school.consortium
    start = b.year_starts[b.current]
    grad_year = start + 2  # a junior
    born = date(grad_year - 19, 9, 1) + timedelta(days=rng.randrange(365))
    sers = unused_sers_id(b, rng)
    i = add_student(b, school, grad_year)
    sid, uid = b.st_id[i], b.st_user[i]
    plans = _plans(b, rng, school, uid)

    enrollments, histories, fees = [], [], []
    first_reg = min(events[0][0] for _, _, events in plans)
    fee_paid: dict[int, date] = {}
    for yi in {yi for yi, _, _ in plans}:
        policy = c.policies[yi]
        regs = [events[0][0] for y, _, events in plans if y == yi]
        day = b.day_of(min(regs)) + timedelta(days=4)
        paid = None
        if yi != b.current and policy.fee != 0:
            paid = fee_paid[yi] = min(day, policy.payment_deadline)
        fees.append(demo_student_fee_row(b, c, sid, yi, paid, b.dt(min(regs))))
    transcribed_one = False
    for yi, sec, events in plans:
        last = events[-1]
        if last[2] == S.ATTAINED and not transcribed_one and yi in fee_paid:
            transcribed_one = True
            day = min(
                b.today - timedelta(days=1),
                max(b.day_of(last[0]), fee_paid[yi]) + timedelta(days=14),
            )
            at = min(max(b.ts(day, 10), last[0] + 60), b.now_ts - 60)
            events.append(
                (at, S.ATTAINED, S.TRANSCRIBED, sec.version.college.registrar_id, last[4], "")
            )
        eid = b.ids.take(Enrollment)
        enrollments.append(enrollment_row(b, eid, sid, sec, events, i))
        histories += history_rows(b, eid, events)

    joined = first_reg - 2 * DAY
    email = b.email("student", DEMO_DOMAIN)
    profile = PROFILE.row(
        id=sid,
        user_id=uid,
        sers_id=sers,
        legal_first_name="Riley",
        legal_middle_name="Jordan",
        legal_last_name="Okafor-Lund",
        birth_date=born,
        phone="360-555-0142",
        high_school_id=school.id,
        graduation_year=grad_year,
        gender="nonbinary",
        race_ethnicity="multiracial",
        created_at=b.dt(joined),
        updated_at=b.dt(joined),
    )
    w = b.writer
    w.write(USER, [user_row(b, uid, email, "Riley", "Okafor-Lund", joined)])
    w.write(PROFILE, [profile])
    w.write(ENROLLMENT, enrollments)
    w.write(HISTORY, histories)
    w.write(FEE, fees)


def _plans(b: DemoBuild, rng, school: plan.School, uid: int):
    """The demo student's classes and their histories: [(year index, class, events)]."""
    college0 = school.consortium.colleges[0]

    def pick(yi, want_done: bool, avoid: set[int]):
        found = [
            s
            for s in b.sections[(school.id, yi)]
            if s.version.lineage.index not in avoid
            and s.teacher_id != b.inactive_teacher[0]
            and (s.complete_ts is not None) == want_done
        ]
        found.sort(key=lambda s: (s.version.college is not college0, s.id))
        return found

    plans = []
    taken: set[int] = set()
    previous = b.current - 1
    done_last_year = pick(previous, True, taken)
    for outcome in (S.ATTAINED, S.ATTAINED, S.NOT_ATTAINED):
        sec = next((s for s in done_last_year if s.version.lineage.index not in taken), None)
        if sec is None:
            continue
        taken.add(sec.version.lineage.index)
        plans.append((previous, sec, lifecycle(b, rng, sec, uid, 0, outcome)))
    open_now = pick(b.current, False, taken) or pick(b.current, True, taken)
    for outcome in (S.REGISTERED, S.CONFIRMED, S.WITHDRAWN):
        sec = next((s for s in open_now if s.version.lineage.index not in taken), None)
        if sec is None:
            continue
        taken.add(sec.version.lineage.index)
        # Recent, readable dates: within the last few weeks, never before the window.
        days = {S.REGISTERED: 3, S.CONFIRMED: 20, S.WITHDRAWN: 26}[outcome]
        lo = max(sec.reg_lo, b.now_ts - days * DAY)
        tight = plan.Section(
            sec.id,
            sec.school,
            sec.version,
            sec.teacher_id,
            sec.year_index,
            sec.term,
            lo,
            max(lo, min(sec.reg_hi, lo + DAY)),
            min(sec.term_end, b.now_ts - HOUR),
            None,
            None,
        )
        events = lifecycle(b, rng, tight, uid, 0, outcome)
        plans.append((b.current, sec, [e for e in events if e[0] <= b.now_ts]))
    return plans
