"""The demo logins for every role, as printed after a build, and the registration window."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from accounts.models import User
from enrollment.models import StudentProfile
from organisations.models import ConsortiumPolicy

from .catalog import CONSORTIA
from .constants import DEMO_DOMAIN, DEMO_PASSWORD


@dataclass
class DemoLogin:
    email: str
    role: str
    scope: str
    password: str = DEMO_PASSWORD


def demo_logins() -> list[DemoLogin]:
    """The demo accounts for every role, as they are in the database."""
    order = [
        "student",
        "teacher",
        "specialist",
        "registrar",
        "approver",
        "consortium",
        "state",
        "admin",
    ]
    emails = [f"{name}@{DEMO_DOMAIN}" for name in order]
    users = {
        u.email: u
        for u in User.objects.filter(email__in=emails).prefetch_related(
            "memberships__consortium",
            "memberships__college",
            "memberships__district",
            "memberships__high_school",
        )
    }
    profiles = {
        p.user_id: p
        for p in StudentProfile.objects.filter(user__email__in=emails).select_related("high_school")
    }
    logins = []
    for email in emails:
        user = users.get(email)
        if user is None:
            continue
        if user.is_superuser:
            logins.append(DemoLogin(email, "Django superuser", "everything (/admin/)"))
            continue
        if user.pk in profiles:
            p = profiles[user.pk]
            logins.append(
                DemoLogin(email, "Student", f"self: SERS ID {p.sers_id}, {p.high_school.name}")
            )
        for m in user.memberships.all():
            scope = m.scope
            logins.append(
                DemoLogin(
                    email, m.get_role_display(), str(scope) if scope is not None else "statewide"
                )
            )
    return logins


def format_logins(logins: Iterable[DemoLogin]) -> str:
    rows = [("email", "password", "role", "scope")]
    rows += [(x.email, x.password, x.role, x.scope) for x in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main_consortium_window() -> tuple[str, date, date] | None:
    """The main demo consortium's registration window this year (printed for the demo)."""
    policy = (
        ConsortiumPolicy.objects.filter(consortium__slug=CONSORTIA[0].slug)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date")
        .first()
    )
    if policy is None:
        return None
    return policy.consortium.name, policy.registration_opens, policy.registration_closes
