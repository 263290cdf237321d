"""Builds one academic year: its students' accounts, classes, enrollments and fees."""

from datetime import timedelta
from itertools import batched

from enrollment.models import Enrollment

from .classes import build_sections
from .constants import CHUNK_STUDENTS, DAY, HOUR
from .context import DemoBuild
from .fees import FEE, fee_row
from .lifecycle import (
    ENROLLMENT,
    HISTORY,
    S,
    enrollment_row,
    history_rows,
    lifecycle,
    transcription_dates,
)
from .people import USER
from .rows import Table, loading
from .students import PROFILE, pick_classes, pick_participants


def build_year(b: DemoBuild, yi: int) -> None:
    """Year index `yi`: who takes part, the classes they pick, then in chunks of students
    their accounts (when new), enrollments with histories, and fees."""
    code = b.year_code(yi)
    with b.phase(f"{code}: students and class demand"):
        participants, new = pick_participants(b, yi)
        choices = pick_classes(b, yi, participants)
    with b.phase(f"{code}: classes"):
        by_student = build_sections(b, yi, choices)
    # One transaction per chunk of students keeps PostgreSQL's queue of deferred
    # foreign-key checks (and memory) small; an interrupted build is cleaned up next run.
    with b.phase(f"{code}: enrollments, histories and fees", atomic=False):
        rng = b.rng(f"enrollments:{yi}")
        for chunk in batched(participants, CHUNK_STUDENTS):
            batch = enrollment_rows(b, rng, yi, chunk, by_student, new)
            with loading():
                for table, rows in batch:
                    b.writer.write(table, rows)
    # Only this year's students can continue next year.
    keep = set(participants)
    b.taken = {i: s for i, s in b.taken.items() if i in keep}
    b.last_participants = participants


def enrollment_rows(b: DemoBuild, rng, yi, chunk, by_student, new) -> list[tuple[Table, list]]:
    """The rows of one chunk of students: accounts of new students, their enrollments
    with histories, and their fees, as (table, rows) to write in one transaction."""
    age = b.current - yi
    p_transcribe = 0.5 if age == 0 else 0.8 if age == 1 else 0.97
    batches = transcription_dates(b, yi)
    users, profiles, enrollments, histories, fees = [], [], [], [], []
    now_ts = b.now_ts
    for i in chunk:
        school = b.st_school[i]
        c = school.consortium
        policy = c.policies[yi]
        sid, uid = b.st_id[i], b.st_user[i]
        specialist = school.district.specialist_id
        plans = [(sec, lifecycle(b, rng, sec, uid, specialist)) for sec in by_student.get(i, ())]
        if plans:
            first_reg = min(events[0][0] for _, events in plans)
        else:  # signed up, found no class with room
            first_reg = min(b.ts(policy.opens, 12), now_ts - DAY)
        if i in new:
            sers, first, middle, last_name, born, phone, gender, race, email, verified = new[i]
            joined = first_reg - rng.uniform(0.2, 20) * HOUR
            users.append(
                USER.row(
                    id=uid,
                    password=b.password,
                    last_login=None,
                    is_superuser=False,
                    email=email,
                    first_name=first,
                    last_name=last_name,
                    is_active=True,
                    is_staff=False,
                    date_joined=b.dt(joined),
                    email_verified_at=b.dt(joined + 300) if verified else None,
                )
            )
            profiles.append(
                PROFILE.row(
                    id=sid,
                    user_id=uid,
                    sers_id=sers,
                    legal_first_name=first,
                    legal_middle_name=middle,
                    legal_last_name=last_name,
                    birth_date=born,
                    phone=phone,
                    high_school_id=school.id,
                    graduation_year=b.st_grad[i],
                    gender=gender,
                    race_ethnicity=race,
                    created_at=b.dt(joined + 60),
                    updated_at=b.dt(joined + 60),
                )
            )
        if not plans:
            continue
        # The fee: one per student per consortium per year.
        fee, settled_on = fee_row(b, rng, c, policy, sid, yi, first_reg)
        fees.append(fee)
        for sec, events in plans:
            last = events[-1]
            if last[2] == S.ATTAINED and settled_on is not None and rng.random() < p_transcribe:
                ready = max(b.day_of(last[0]), settled_on) + timedelta(days=1)
                day = next((d for d in batches if d >= ready), None)
                if day is not None:
                    at = max(b.ts(day, 9) + rng.uniform(0, 7) * HOUR, last[0] + 60)
                    registrar = sec.version.college.registrar_id
                    events.append((at, S.ATTAINED, S.TRANSCRIBED, registrar, last[4], ""))
            if age == 0 or events[-1][0] > now_ts:
                events = [e for e in events if e[0] <= now_ts]
                if not events:
                    continue
            eid = b.ids.take(Enrollment)
            enrollments.append(enrollment_row(b, eid, sid, sec, events, i))
            histories += history_rows(b, eid, events)
    return [
        (USER, users),
        (PROFILE, profiles),
        (ENROLLMENT, enrollments),
        (HISTORY, histories),
        (FEE, fees),
    ]
