"""Builds the courses and articulation agreements in every status, and who teaches them."""

from datetime import date
from decimal import Decimal

from articulations.models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
)
from organisations.models import CareerCluster

from . import plan
from .catalog import REGULAR_TEMPLATES, TRADE_TEMPLATES
from .constants import DAY
from .context import DemoBuild
from .rows import Table, ThroughTable

A = Articulation.Status

HIGH_SCHOOL_COURSE = Table(HighSchoolCourse)
COLLEGE_COURSE = Table(CollegeCourse)
ARTICULATION = Table(Articulation)
ARTICULATION_SCHOOLS = ThroughTable(Articulation, "high_schools")
ARTICULATION_COURSES = ThroughTable(Articulation, "college_courses")
ARTICULATION_YEARS = ThroughTable(Articulation, "valid_years")
ARTICULATION_CHANGE = Table(ArticulationStatusChange, pk=False)

# The agreements of each consortium that are not simply active, in this order.
KINDS = ["revision", "expired", "pending", "draft", "submitted", "approved"]


def build_articulations(b: DemoBuild) -> None:
    """Per consortium: its high school and college courses, agreements in every status (one
    revised, one expired, one with a pending new version), and the schools teaching them.
    The status histories wait in `b.articulation_changes` until the people exist."""
    rng = b.rng("articulations")
    clusters = dict(
        CareerCluster.objects.filter(framework=CareerCluster.Framework.NATIONAL_16).values_list(
            "code", "id"
        )
    )
    big = b.n_students >= 5000
    hs_course_rows, college_course_rows, art_rows, change_rows = [], [], [], []
    m2m_schools, m2m_courses, m2m_years = [], [], []
    b.lineages = []
    first_start = b.year_starts[0]
    all_years = set(range(b.n_years))
    past_years = all_years - {b.current}
    for c in b.consortia:
        regular = list(REGULAR_TEMPLATES)
        rng.shuffle(regular)
        trade = list(TRADE_TEMPLATES)
        rng.shuffle(trade)
        n_regular = min(len(regular), 14 + len(c.schools) // 2 if big else 10)
        n_trade = min(len(trade), 6 if big else 3)
        lineup = [
            (t, KINDS[i] if i < len(KINDS) else "active") for i, t in enumerate(regular[:n_regular])
        ]
        lineup += [(t, "active") for t in trade[:n_trade]]
        policy = c.policies[b.current]
        for li, (template, kind) in enumerate(lineup):
            college = c.colleges[0] if kind != "active" else c.colleges[li % len(c.colleges)]
            lineage = plan.Lineage(
                len(b.lineages), template, kind, college, rng.choice((1, 2, 2, 3, 3, 4))
            )
            b.lineages.append(lineage)
            c.lineages.append(lineage)
            hs_id = b.ids.take(HighSchoolCourse)
            local = f"CTE{rng.randint(100, 899)}"
            hs_course_rows.append(
                HIGH_SCHOOL_COURSE.row(
                    id=hs_id,
                    consortium_id=c.id,
                    title=template.title,
                    local_code=local,
                    cip_code=template.cip,
                )
            )
            for prefix, number, title, credits in template.courses:
                if (prefix, number) not in college.course_ids:
                    cc_id = b.ids.take(CollegeCourse)
                    college.course_ids[(prefix, number)] = cc_id
                    college_course_rows.append(
                        COLLEGE_COURSE.row(
                            id=cc_id,
                            college_id=college.id,
                            prefix=prefix,
                            number=number,
                            title=title,
                            credits=Decimal(credits),
                        )
                    )
            course_ids = [college.course_ids[(p, n)] for p, n, *_ in template.courses]
            # Versions: (version, status, valid year indexes)
            start_yi = 0 if kind != "active" or rng.random() < 0.85 else 1
            if kind == "revision":
                versions = [(1, A.RETIRED, past_years), (2, A.ACTIVE, {b.current})]
            elif kind == "expired":
                versions = [(1, A.EXPIRED, past_years)]
            elif kind == "pending":
                versions = [(1, A.ACTIVE, all_years), (2, A.SUBMITTED, {b.current})]
            elif kind in ("draft", "submitted", "approved"):
                versions = [(1, kind, {b.current})]
            else:
                versions = [(1, A.ACTIVE, set(range(start_yi, b.n_years)))]
            number = f"{c.spec.code}-{first_start + start_yi}-{li + 1:03d}"
            previous = None
            for version, status, years in versions:
                vid = b.ids.take(Articulation)
                minimum = policy.minimum
                if version == 1 and kind == "active" and rng.random() < 0.15:
                    minimum = {"letter": "C", "points": "2.0", "percent": "75"}[policy.scale]
                competencies = template.competencies
                if version == 2:
                    competencies += "\nMeet current industry safety and software standards"
                v = plan.Version(
                    vid, lineage, version, status, set(years), policy.scale, minimum, college
                )
                lineage.versions.append(v)
                created, history = _articulation_history(b, rng, c, v)
                art_rows.append(
                    ARTICULATION.row(
                        id=vid,
                        consortium_id=c.id,
                        college_id=college.id,
                        agreement_number=number,
                        version=version,
                        previous_version_id=previous,
                        high_school_course_id=hs_id,
                        cluster_id=clusters[template.cluster],
                        minimum_grade_scale=policy.scale,
                        minimum_grade=minimum,
                        competencies=competencies,
                        status=status,
                        created_at=b.dt(created),
                        updated_at=b.dt(history[-1][3]),
                    )
                )
                change_rows += [(vid, f, t, by, b.dt(at), note) for f, t, by, at, note in history]
                m2m_courses += [(vid, cc) for cc in course_ids]
                m2m_years += [(vid, b.year_ids[y]) for y in sorted(years)]
                previous = vid
        _assign_schools(b, rng, c)
        for lineage in c.lineages:
            for v in lineage.versions:
                m2m_schools += [(v.id, s.id) for s in lineage.schools]
    w = b.writer
    w.write(HIGH_SCHOOL_COURSE, hs_course_rows)
    w.write(COLLEGE_COURSE, college_course_rows)
    w.write(ARTICULATION, art_rows)
    w.write(ARTICULATION_SCHOOLS, ARTICULATION_SCHOOLS.pairs(m2m_schools))
    w.write(ARTICULATION_COURSES, ARTICULATION_COURSES.pairs(m2m_courses))
    w.write(ARTICULATION_YEARS, ARTICULATION_YEARS.pairs(m2m_years))
    b.articulation_changes = change_rows  # written once the people exist


def articulation_change_rows(b: DemoBuild, who: dict[tuple, int]) -> list[tuple]:
    """The agreements' status histories, now that `who` names the people who made them."""
    return [
        ARTICULATION_CHANGE.row(
            articulation_id=a,
            from_status=f,
            to_status=t,
            changed_by_id=who[by],
            changed_at=at,
            note=note,
        )
        for a, f, t, by, at, note in b.articulation_changes
    ]


def _articulation_history(b: DemoBuild, rng, c: plan.Consortium, v: plan.Version):
    """Status changes of one agreement version, as (from, to, by, ts, note)."""
    first = min(v.years)
    start = b.ts(date(b.year_starts[first], 7, 1))
    in_progress = v.status in (A.DRAFT, A.SUBMITTED, A.APPROVED)
    if in_progress:
        at = b.now_ts - rng.uniform(70, 90) * DAY
    else:
        at = start - rng.uniform(120, 200) * DAY
    admin, approver = ("admin", c.index), ("approver", v.college.index, c.index)
    steps = [("", A.DRAFT, admin, "")]
    order = [A.SUBMITTED, A.APPROVED, A.ACTIVE]
    target = {A.EXPIRED: A.ACTIVE, A.RETIRED: A.ACTIVE}.get(v.status, v.status)
    for status in order[: order.index(target) + 1] if target != A.DRAFT else []:
        by = approver if status == A.APPROVED else admin
        note = (
            "Signed by the college dean and the district CTE director"
            if (status == A.APPROVED)
            else ""
        )
        steps.append((steps[-1][1], status, by, note))
    history = []
    for from_status, to_status, by, note in steps:
        history.append([from_status, to_status, by, at, note])
        at += rng.uniform(3, 12) * DAY if in_progress else rng.uniform(5, 25) * DAY
    if v.status in (A.EXPIRED, A.RETIRED):
        last = max(v.years)
        end = b.ts(date(b.year_starts[last] + 1, 6, 30), 17)
        note = "Replaced by version 2" if v.status == A.RETIRED else "Not renewed"
        history.append([A.ACTIVE, v.status, admin, end, note])
    created = history[0][3]
    return created, [tuple(h) for h in history]


def _assign_schools(b: DemoBuild, rng, c: plan.Consortium) -> None:
    """Which schools teach which agreements, and the term they use."""
    taught = [lin for lin in c.lineages if lin.kind in ("revision", "expired", "pending", "active")]
    regular = [lin for lin in taught if not lin.template.trade]
    trades = [lin for lin in taught if lin.template.trade]
    total_weight = sum(s.weight for s in b.schools)
    for si, school in enumerate(c.schools):
        expected = b.n_students * 2.6 * school.weight / total_weight
        m = max(5, min(len(regular), round(expected / 55)))
        must = [lin for lin in regular if lin.kind != "active"] if si == 0 else []
        rest = [lin for lin in regular if lin not in must]
        chosen = must + rng.sample(rest, min(len(rest), max(0, m - len(must))))
        share = 0.15 if c.skills_centers else 0.5
        chosen += [lin for lin in trades if rng.random() < share]
        school.lineages = chosen
    for sc in c.skills_centers:
        sc.lineages = list(trades) or regular[:2]
    for lin in taught:
        if not any(lin in s.lineages for s in c.schools + c.skills_centers):
            rng.choice(c.schools).lineages.append(lin)
    for school in c.schools + c.skills_centers:
        for lin in school.lineages:
            lin.schools.append(school)
            roll = rng.random()
            is_sc = school.kind == "skills_center"
            school.terms[lin.index] = (
                "year" if is_sc or roll < 0.7 else "fall" if roll < 0.85 else "spring"
            )
    for lin in c.lineages:
        if lin.kind in ("draft", "submitted", "approved"):
            lin.schools = rng.sample(c.schools, min(len(c.schools), rng.randint(1, 3)))
