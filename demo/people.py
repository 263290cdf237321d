"""Builds the staff and teacher accounts with their roles and qualifications, and the admin."""

from datetime import date

from accounts.models import Role, RoleMembership, User
from articulations.models import TeacherQualification

from .articulations import ARTICULATION_CHANGE, articulation_change_rows
from .constants import DAY, DEMO_DOMAIN, EMAIL_SUFFIX
from .context import DemoBuild
from .rows import Table
from .vocabulary import ascii_lower

USER = Table(User)
MEMBERSHIP = Table(RoleMembership, pk=False)
QUALIFICATION = Table(TeacherQualification, pk=False)


def user_row(b: DemoBuild, uid, email, first, last, joined, *, active=True, staff=False, su=False):
    """A demo account joined at timestamp `joined`, its email verified ten minutes later."""
    return USER.row(
        id=uid,
        password=b.password,
        last_login=None,
        is_superuser=su,
        email=email,
        first_name=first,
        last_name=last,
        is_active=active,
        is_staff=staff or su,
        date_joined=b.dt(joined),
        email_verified_at=b.dt(joined + 600) if active else None,
    )


def membership_row(b: DemoBuild, uid, role, scope: dict[str, int | None], joined) -> tuple:
    """A role in a scope ({"consortium": id}, {"college": id}, ... or {} for statewide)."""
    return MEMBERSHIP.row(
        user_id=uid,
        role=role,
        consortium_id=scope.get("consortium"),
        college_id=scope.get("college"),
        district_id=scope.get("district"),
        high_school_id=scope.get("high_school"),
        created_at=b.dt(joined),
    )


def build_staff(b: DemoBuild) -> None:
    """Consortium admins, college registrars and approvers, career specialists and state
    staff (a demo login for each role), then the agreements' histories that name them."""
    rng = b.rng("staff")
    users, memberships = [], []
    joined = b.ts(date(b.year_starts[0] - 1, 8, 15), 9)

    def add(role, scope, *, domain="", demo=""):
        """A staff account: the demo login `demo@demo...`, else first.last@domain."""
        uid = b.ids.take(User)
        first, last = b.person(rng)
        if demo:
            email = b.email(demo, DEMO_DOMAIN)
        else:
            email = b.email(f"{ascii_lower(first)}.{ascii_lower(last)}", domain)
        users.append(user_row(b, uid, email, first, last, joined + rng.uniform(0, 60) * DAY))
        memberships.append(membership_row(b, uid, role, scope, joined + 70 * DAY))
        return uid

    for c in b.consortia:
        main = c is b.main
        c.admin_id = add(
            Role.CONSORTIUM_ADMIN,
            {"consortium": c.id},
            domain=c.spec.slug + EMAIL_SUFFIX,
            demo="consortium" if main else "",
        )
        for college in c.colleges:
            demo = main and college.index == 0
            college.registrar_id = add(
                Role.REGISTRAR,
                {"college": college.id},
                domain=college.domain,
                demo="registrar" if demo else "",
            )
            college.approver_id = add(
                Role.COLLEGE_APPROVER,
                {"college": college.id},
                domain=college.domain,
                demo="approver" if demo else "",
            )
        for di, d in enumerate(c.districts):
            d.specialist_id = add(
                Role.CAREER_SPECIALIST,
                {"district": d.id},
                domain=d.domain,
                demo="specialist" if main and di == 0 else "",
            )
        # One career specialist working for a single high school.
        school = c.schools[-1]
        add(Role.CAREER_SPECIALIST, {"high_school": school.id}, domain=school.district.domain)
    add(Role.STATE_STAFF, {}, demo="state")
    for _ in range(2):
        add(Role.STATE_STAFF, {}, domain="ospi" + EMAIL_SUFFIX)
    b.writer.write(USER, users)
    b.writer.write(MEMBERSHIP, memberships)
    # Agreement histories name the consortium admin and the college approver.
    who = {}
    for c in b.consortia:
        who[("admin", c.index)] = c.admin_id
        for college in c.colleges:
            who[("approver", college.index, c.index)] = college.approver_id
    b.writer.write(ARTICULATION_CHANGE, articulation_change_rows(b, who))


def build_teachers(b: DemoBuild) -> None:
    """Teachers for every school (the demo teacher at the main school), each qualified for
    the agreements taught there, and a new teacher whose account is not active yet."""
    rng = b.rng("teachers")
    users, memberships, quals = [], [], set()
    joined_base = b.ts(date(b.year_starts[0] - 1, 8, 20), 8)
    for c in b.consortia:
        for school in c.schools + c.skills_centers:
            lineages = school.lineages
            count = max(1, round(len(lineages) * 0.6))
            for ti in range(count):
                uid = b.ids.take(User)
                first, last = b.person(rng)
                if school is b.main_school and ti == 0:
                    email = b.email("teacher", DEMO_DOMAIN)
                    b.demo_teacher_id = uid
                else:
                    email = b.email(
                        f"{ascii_lower(first)}.{ascii_lower(last)}", school.district.domain
                    )
                joined = joined_base + rng.uniform(0, 300) * DAY
                users.append(user_row(b, uid, email, first, last, joined))
                memberships.append(
                    membership_row(b, uid, Role.TEACHER, {"high_school": school.id}, joined + DAY)
                )
                school.teacher_ids.append(uid)
            for j, lin in enumerate(lineages):
                teachers = [school.teacher_ids[j % count]]
                if count > 1 and rng.random() < 0.25:
                    teachers.append(school.teacher_ids[(j + 1) % count])
                school.teachers[lin.index] = teachers
                for v in lin.versions:
                    quals.update((v.id, t) for t in teachers)
        for lin in c.lineages:  # agreements still in the works name a teacher too
            if lin.kind in ("draft", "submitted", "approved"):
                for school in lin.schools:
                    quals.add((lin.versions[0].id, school.teacher_ids[0]))
    # A new teacher whose account is not active yet, already given a class this year.
    school = b.main_school
    uid = b.ids.take(User)
    first, last = b.person(rng)
    email = b.email(f"{ascii_lower(first)}.{ascii_lower(last)}", school.district.domain)
    joined = b.now_ts - 12 * DAY
    users.append(user_row(b, uid, email, first, last, joined, active=False))
    memberships.append(membership_row(b, uid, Role.TEACHER, {"high_school": school.id}, joined))
    lineage = next(lin for lin in school.lineages if lin.offered(b.current))
    quals.add((lineage.offered(b.current).id, uid))
    b.inactive_teacher = (uid, lineage)
    b.writer.write(USER, users)
    b.writer.write(MEMBERSHIP, memberships)
    added = b.dt(joined_base + 30 * DAY)
    b.writer.write(
        QUALIFICATION,
        [
            QUALIFICATION.row(articulation_id=a, teacher_id=t, added_at=added)
            for a, t in sorted(quals)
        ],
    )


def build_admin(b: DemoBuild) -> None:
    """The superuser, written last: its presence marks a finished build."""
    uid = b.ids.take(User)
    joined = b.ts(date(b.year_starts[0] - 1, 8, 1), 9)
    email = b.email("admin", DEMO_DOMAIN)
    b.writer.write(USER, [user_row(b, uid, email, "Site", "Administrator", joined, su=True)])
