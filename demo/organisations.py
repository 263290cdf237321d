"""Builds the academic years, consortia, colleges, districts, schools and yearly policies."""

from datetime import date, timedelta
from decimal import Decimal

from organisations.models import (
    AcademicYear,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)

from . import plan
from .catalog import CONSORTIA, DEFAULT_WAIVERS, ConsortiumSpec
from .constants import EMAIL_SUFFIX
from .context import DemoBuild
from .rows import Table, ThroughTable
from .vocabulary import AREA_CODES, month_day, slug

CONSORTIUM = Table(Consortium)
COLLEGE = Table(College)
DISTRICT = Table(District)
HIGH_SCHOOL = Table(HighSchool)
SERVED_DISTRICTS = ThroughTable(HighSchool, "served_districts")
POLICY = Table(ConsortiumPolicy, pk=False)


def build_years(b: DemoBuild) -> None:
    """The academic years, created when missing (other data may use them too)."""
    b.year_ids = []
    for start in b.year_starts:
        year, _ = AcademicYear.objects.get_or_create(
            code=AcademicYear.code_for_start(start),
            defaults={"start_date": date(start, 7, 1), "end_date": date(start + 1, 6, 30)},
        )
        b.year_ids.append(year.pk)


def policy_for_year(b: DemoBuild, spec: ConsortiumSpec, yi: int, main: bool) -> plan.Policy:
    """A consortium's calendar, fee and grading rules in one year (year index `yi`)."""
    start = b.year_starts[yi]
    age = b.current - yi
    opens, closes = month_day(start, spec.opens), month_day(start, spec.closes)
    payment, grading = month_day(start, spec.payment), month_day(start, spec.grading)
    first_day, last_day = date(start, 7, 1), date(start + 1, 6, 30)
    if age == 0:
        # Registration must be usable today: open the window early if it has not opened
        # yet, and keep the main consortium's window open for another month at least.
        if b.today < opens:
            opens = max(first_day, b.today - timedelta(days=spec.early_days))
        if main:
            opens = max(first_day, min(opens, b.today - timedelta(days=30)))
            closes = max(closes, min(last_day, b.today + timedelta(days=30)))
            payment = min(last_day, max(payment, closes + timedelta(days=5)))
            grading = min(last_day, max(grading, closes + timedelta(days=10)))
    fee = Decimal(spec.fee - 5 if spec.fee >= 40 and age >= 1 else spec.fee)
    minimum = spec.older_minimum if spec.older_minimum and age >= 2 else spec.minimum
    waivers = spec.waivers or DEFAULT_WAIVERS
    return plan.Policy(
        opens, closes, payment, grading, fee, spec.scale, minimum, waivers.splitlines()
    )


def _payment_instructions(spec: ConsortiumSpec) -> str:
    if not spec.fee:
        return "There is no fee for CTE Dual Credit in this consortium."
    return (
        f"Pay the annual CTE Dual Credit fee online through the "
        f"{spec.colleges[0][0]} cashier's web page, or in person at the cashier's "
        f"office with your SERS ID. The fee is per school year, not per class. If "
        f"paying is a hardship, ask your school counselor about a fee waiver."
    )


def _payment_instructions_es(spec: ConsortiumSpec) -> str:
    if not spec.fee:
        return "En este consorcio no hay cuota para CTE Dual Credit."
    return (
        f"Paga la cuota anual de CTE Dual Credit en línea, en la página de la caja de "
        f"{spec.colleges[0][0]}, o en persona en la oficina de la caja con tu SERS ID. "
        f"La cuota es por año escolar, no por clase. Si pagarla es difícil para ti, "
        f"pregunta a tu consejero/a escolar por una exención de la cuota."
    )


def build_organisations(b: DemoBuild) -> None:
    """Consortia (more of them for bigger builds), their colleges, districts, high schools,
    skills centers and the districts they serve, and a policy per consortium and year."""
    rng = b.rng("organisations")
    n = b.n_students
    n_consortia = min(len(CONSORTIA), max(4, round(n / 5200)))
    n_schools = max(3 * n_consortia, round(n / 190))
    weights = [1.6] + [rng.uniform(0.7, 1.3) for _ in range(n_consortia - 1)]
    per = [max(2, round(n_schools * w / sum(weights))) for w in weights]
    consortium_rows, college_rows, district_rows, school_rows = [], [], [], []
    policy_rows, served_pairs = [], []
    b.consortia = []
    b.schools = []
    updated = b.dt(b.ts(date(b.year_starts[0], 5, 1)))
    district_code = 10_000 + rng.randrange(1000)
    school_code = 3_000 + rng.randrange(1000)
    for ci, spec in enumerate(CONSORTIA[:n_consortia]):
        c = plan.Consortium(ci, spec, b.ids.take(Consortium))
        b.consortia.append(c)
        domain = spec.slug + EMAIL_SUFFIX
        consortium_rows.append(
            CONSORTIUM.row(
                id=c.id,
                name=spec.name,
                slug=spec.slug,
                contact_name="CTE Dual Credit coordinator",
                contact_email=f"dualcredit@{domain}",
                contact_phone=f"{AREA_CODES[ci % len(AREA_CODES)]}-555-01{ci:02d}",
                website=f"https://{domain}/",
                payment_instructions=_payment_instructions(spec),
                payment_instructions_es=_payment_instructions_es(spec),
                show_teacher_names_publicly=ci % 2 == 0,
            )
        )
        for name, code in spec.colleges:
            college = plan.College(
                len(c.colleges),
                b.ids.take(College),
                name,
                code,
                f"{code.lower()}.edu{EMAIL_SUFFIX}",
            )
            c.colleges.append(college)
            college_rows.append(
                COLLEGE.row(
                    id=college.id,
                    consortium_id=c.id,
                    name=name,
                    code=code,
                    registrar_email=f"registrar@{college.domain}",
                    website=f"https://{college.domain}/",
                )
            )
        n_here = per[ci]
        n_districts = max(3 if ci == 0 else 2, round(n_here / 1.6))
        n_here = max(n_here, n_districts)
        for _ in range(n_districts):
            place = b.place()
            district_code += rng.randint(3, 40)
            d = plan.District(
                b.ids.take(District),
                f"{place} School District",
                str(district_code),
                f"{slug(place)}.k12{EMAIL_SUFFIX}",
            )
            c.districts.append(d)
            district_rows.append(
                DISTRICT.row(id=d.id, consortium_id=c.id, name=d.name, code=d.code)
            )
        for si in range(n_here):
            d = c.districts[si] if si < n_districts else rng.choice(c.districts)
            place = d.name.removesuffix(" School District") if si < n_districts else None
            place = place or b.place()
            school_code += rng.randint(2, 30)
            weight = rng.uniform(0.6, 1.4)
            if ci == 0 and si == 0:
                weight = 3.0  # the main demo school: big enough for full rosters
            school = plan.School(
                b.ids.take(HighSchool), f"{place} High School", "high_school", c, d, weight
            )
            c.schools.append(school)
            b.schools.append(school)
            school_rows.append(
                HIGH_SCHOOL.row(
                    id=school.id,
                    district_id=d.id,
                    name=school.name,
                    code=str(school_code),
                    kind=school.kind,
                    city=place,
                )
            )
        # A skills center for consortia with three or more districts (always the first).
        if ci == 0 or n_districts >= 3:
            school_code += rng.randint(2, 30)
            host = c.districts[0]
            region = spec.name.split(" ")[0] + " " + spec.name.split(" ")[1]
            sc = plan.School(
                b.ids.take(HighSchool), f"{region} Skills Center", "skills_center", c, host
            )
            c.skills_centers.append(sc)
            school_rows.append(
                HIGH_SCHOOL.row(
                    id=sc.id,
                    district_id=host.id,
                    name=sc.name,
                    code=str(school_code),
                    kind=sc.kind,
                    city=host.name.removesuffix(" School District"),
                )
            )
            k = len(c.districts) if len(c.districts) <= 4 else rng.randint(3, 6)
            served = c.districts[:k]
            served_pairs += [(sc.id, d.id) for d in served]
            for d in served:
                b.served.setdefault(d.id, []).append(sc)
        domains = "\n".join(sorted({d.domain for d in c.districts}))
        for yi in range(b.n_years):
            p = policy_for_year(b, spec, yi, main=ci == 0)
            c.policies[yi] = p
            policy_rows.append(
                POLICY.row(
                    consortium_id=c.id,
                    academic_year_id=b.year_ids[yi],
                    registration_opens=p.opens,
                    registration_closes=p.closes,
                    payment_deadline=p.payment_deadline,
                    grading_deadline=p.grading_deadline,
                    annual_fee=p.fee,
                    waiver_reasons="\n".join(p.waivers),
                    grade_scale=p.scale,
                    default_minimum_grade=p.minimum,
                    school_email_domains=domains,
                    payment_url="",
                    updated_at=updated,
                )
            )
    w = b.writer
    w.write(CONSORTIUM, consortium_rows)
    w.write(COLLEGE, college_rows)
    w.write(DISTRICT, district_rows)
    w.write(HIGH_SCHOOL, school_rows)
    w.write(SERVED_DISTRICTS, SERVED_DISTRICTS.pairs(served_pairs))
    w.write(POLICY, policy_rows)
