"""The student's own pages: profile, enrollments, fees, credits, timeline and next steps
(the class list they register from: selectors/registration.py). A student only ever
reads their own records."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Prefetch,
    Q,
)
from django.urls import reverse
from django.utils.translation import get_language, gettext

from accounts.permissions import (
    NOTHING,
    Access,
    enrollment_scope,
    get_in_scope,
    student_scope,
)
from articulations.models import CollegeCourse
from organisations.models import AcademicYear, Consortium, ConsortiumPolicy
from organisations.selectors import academic_year_current
from sers.formatting import display_date, money

from ..identity import Comparison, Identity, compare, mask_email
from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    IdentityChange,
    StudentProfile,
)
from .visible import ATTAINED_STATUSES

S = EnrollmentStatus


# --- the student's own pages -------------------------------------------------------------------
# Every read below takes the student's own Access (or their profile, loaded through it),
# so a student only ever reads their own records. Each returns in a fixed number of queries.


def student_own_profile(*, access: Access) -> StudentProfile:
    """The signed-in student's profile (404 when the user has none)."""
    return get_in_scope(
        StudentProfile.objects.select_related("user", "high_school__district__consortium"),
        student_scope(Access(user_id=access.user_id, student_id=access.student_id)),
        pk=access.student_id,
    )


def student_own_enrollment(*, access: Access, enrollment_id: int) -> Enrollment:
    """One of the student's own enrollments; anyone else's is a 404."""
    own = Access(user_id=access.user_id, student_id=access.student_id)
    return get_in_scope(
        Enrollment.objects.select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__teacher",
            "section__high_school",
            "section__academic_year",
        ),
        enrollment_scope(own) if access.student_id else NOTHING,
        pk=enrollment_id,
    )


@dataclass(frozen=True)
class IdentityMatch:
    student: StudentProfile
    comparison: Comparison

    @property
    def kind(self) -> str:
        return self.comparison.kind

    @property
    def strong(self) -> bool:
        return self.comparison.strong

    @property
    def email_hint(self) -> str:
        return mask_email(self.student.user.email)


def identity_matches(
    *,
    first_name: str,
    middle_name: str,
    last_name: str,
    birth_date: date,
    email: str = "",
    phone: str = "",
    high_school_id: int | None = None,
    exclude_student_id: int | None = None,
) -> list[IdentityMatch]:
    """Students who may be this person (enrollment.identity), strongest first.

    The candidates were born the same day, or on the day with day and month swapped; one
    query (the birth-date index keeps them few). Merged records are left out: their
    student is the record they were merged into.
    """
    wanted = Identity(
        first_name=first_name,
        middle_name=middle_name,
        last_name=last_name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        high_school_id=high_school_id,
    )
    dates = {birth_date}
    if birth_date.day <= 12 and birth_date.day != birth_date.month:
        dates.add(birth_date.replace(month=birth_date.day, day=birth_date.month))
    candidates = StudentProfile.objects.filter(
        birth_date__in=dates, merged_into__isnull=True
    ).select_related("user")
    if exclude_student_id:
        candidates = candidates.exclude(pk=exclude_student_id)
    matches = []
    for candidate in candidates:
        comparison = compare(
            wanted,
            Identity(
                first_name=candidate.legal_first_name,
                middle_name=candidate.legal_middle_name,
                last_name=candidate.legal_last_name,
                birth_date=candidate.birth_date,
                email=candidate.user.email,
                phone=candidate.phone,
                high_school_id=candidate.high_school_id,
            ),
        )
        if comparison.warns:
            matches.append(IdentityMatch(student=candidate, comparison=comparison))
    return sorted(matches, key=lambda m: (-m.comparison.score, m.student.pk))


def consortium_contact(*, high_school_id: int | None) -> Consortium | None:
    """The consortium of a high school, for its contact details (None if unknown)."""
    if not high_school_id:
        return None
    return Consortium.objects.filter(districts__high_schools=high_school_id).first()


def school_email_domains(*, high_school_id: int, today: date | None = None) -> list[str]:
    """The school email domains the student's consortium lists for the current year."""
    year = academic_year_current(today=today)
    if year is None:
        return []
    policy = (
        ConsortiumPolicy.objects.filter(
            academic_year=year, consortium__districts__high_schools=high_school_id
        )
        .only("school_email_domains")
        .first()
    )
    return policy.school_email_domain_list if policy else []


def email_is_school_address(email: str, domains: list[str]) -> bool:
    domain = (email or "").rpartition("@")[2].strip().lower()
    return bool(domain) and any(domain == d or domain.endswith(f".{d}") for d in domains)


def student_has_attained_credit(*, student_id: int) -> bool:
    return Enrollment.objects.filter(student_id=student_id, status__in=ATTAINED_STATUSES).exists()


def student_year_enrollments(
    *, student: StudentProfile, year: AcademicYear | None
) -> list[Enrollment]:
    """The student's enrollments of one school year with class, course and history."""
    if year is None:
        return []
    return list(
        Enrollment.objects.filter(student=student, section__academic_year=year)
        .select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__articulation__consortium",
            "section__teacher",
            "section__high_school",
            "section__academic_year",
        )
        .prefetch_related(
            Prefetch(
                "section__articulation__college_courses", queryset=CollegeCourse.objects.all()
            ),
            Prefetch(
                "status_changes",
                queryset=EnrollmentStatusChange.objects.order_by("changed_at", "id"),
            ),
        )
        .order_by("section__articulation__high_school_course__title", "pk")
    )


def student_enrollments_by_ids(*, student: StudentProfile, ids: list[int]) -> list[Enrollment]:
    """Some of the student's own enrollments (others' ids are ignored)."""
    return list(
        Enrollment.objects.filter(student=student, pk__in=ids)
        .select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__teacher",
            "section__high_school",
            "section__academic_year",
        )
        .prefetch_related("section__articulation__college_courses")
        .order_by("section__articulation__high_school_course__title", "pk")
    )


@dataclass
class FeeLine:
    consortium: object
    fee: Fee | None
    policy: ConsortiumPolicy | None

    @property
    def payment_instructions(self) -> tuple[str, str]:
        """(text, language) of the consortium's fee instructions in the reader's language."""
        return self.consortium.payment_instructions_in(get_language())

    @property
    def amount(self) -> Decimal:
        if self.fee is not None:
            return self.fee.amount
        return self.policy.annual_fee if self.policy else Decimal(0)

    @property
    def settled(self) -> bool:
        return self.amount == 0 or (self.fee is not None and self.fee.is_settled)

    @property
    def state(self) -> str:
        if self.fee is not None and self.fee.status == Fee.Status.WAIVED:
            return Fee.Status.WAIVED
        if self.fee is not None and self.fee.status == Fee.Status.PAID:
            return Fee.Status.PAID
        if self.amount == 0:
            return "none"
        return Fee.Status.UNPAID


def student_fee_lines(*, student: StudentProfile, year: AcademicYear | None) -> list[FeeLine]:
    """The fee of each consortium the student has a fee with this year, with its policy."""
    if year is None:
        return []
    fees = list(
        Fee.objects.filter(student=student, academic_year=year)
        .select_related("consortium")
        .order_by("consortium__name")
    )
    policies = {
        p.consortium_id: p
        for p in ConsortiumPolicy.objects.filter(
            academic_year=year, consortium_id__in=[f.consortium_id for f in fees]
        )
    }
    return [
        FeeLine(consortium=f.consortium, fee=f, policy=policies.get(f.consortium_id)) for f in fees
    ]


def student_credits(*, student: StudentProfile) -> list[Enrollment]:
    """Every attained credit of the student, all years, newest year first."""
    return list(
        Enrollment.objects.filter(student=student, status__in=ATTAINED_STATUSES)
        .select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__high_school",
            "section__academic_year",
        )
        .prefetch_related(
            Prefetch("section__articulation__college_courses", queryset=CollegeCourse.objects.all())
        )
        .order_by("-section__academic_year__start_date", "pk")
    )


def student_identity_changes(*, student: StudentProfile, limit: int = 5) -> list[IdentityChange]:
    return list(
        IdentityChange.objects.filter(student=student).order_by("-created_at", "-id")[:limit]
    )


@dataclass
class TimelineStep:
    label: str
    state: str  # "done", "current", "todo" or "stopped"
    at: object = None


def enrollment_timeline(enrollment: Enrollment) -> list[TimelineStep]:
    """registered → confirmed → graded → attained/not attained → transcribed, from the
    enrollment's (prefetched) history; a withdrawal or removal ends the line."""
    reached: dict[str, object] = {}
    for change in enrollment.status_changes.all():
        reached[change.to_status] = change.changed_at
    status = enrollment.status
    if status in (S.ATTAINED, S.TRANSCRIBED):
        result_label, result_key = gettext("College credit attained"), S.ATTAINED
    elif status == S.NOT_ATTAINED:
        result_label, result_key = gettext("Grade below the minimum: no credit"), S.NOT_ATTAINED
    else:
        result_label, result_key = gettext("Credit decided"), S.ATTAINED
    line = [
        (gettext("Registered"), S.REGISTERED),
        (gettext("Confirmed by your teacher"), S.CONFIRMED),
        (gettext("Graded"), S.GRADED),
        (result_label, result_key),
        (gettext("On your college transcript"), S.TRANSCRIBED),
    ]
    position = {
        S.REGISTERED: 0,
        S.CONFIRMED: 1,
        S.GRADED: 2,
        S.ATTAINED: 3,
        S.NOT_ATTAINED: 3,
        S.TRANSCRIBED: 4,
    }
    steps: list[TimelineStep] = []
    if status in INACTIVE_STATUSES:
        last = max((position[s] for s in reached if s in position), default=0)
        for label, key in line[: last + 1]:
            steps.append(TimelineStep(label, "done", reached.get(key)))
        stopped = (
            gettext("Withdrawn") if status == S.WITHDRAWN else gettext("Removed by the teacher")
        )
        steps.append(TimelineStep(stopped, "stopped", reached.get(status)))
        return steps
    current = position[status]
    for index, (label, key) in enumerate(line):
        if status == S.NOT_ATTAINED and index == 4:
            break
        if index <= current:
            steps.append(TimelineStep(label, "done", reached.get(key)))
        elif index == current + 1:
            steps.append(TimelineStep(label, "current"))
        else:
            steps.append(TimelineStep(label, "todo"))
    return steps


@dataclass
class NextStep:
    text: str
    url: str = ""
    link_text: str = ""


def student_next_steps(
    *,
    student: StudentProfile,
    enrollments: list[Enrollment],
    fee_lines: list[FeeLine],
    credits: list[Enrollment],
    pending_change: IdentityChange | None,
) -> list[NextStep]:
    """What the student should do next, most urgent first (never empty)."""
    steps: list[NextStep] = []
    if not student.user.email_verified:
        steps.append(
            NextStep(
                gettext("Confirm your email address: open the link we emailed to you."),
                reverse("enrollment:verify_sent"),
                gettext("Send the link again"),
            )
        )
    active = [e for e in enrollments if e.is_active]
    if not active:
        steps.append(
            NextStep(
                gettext("Register for your CTE Dual Credit classes this school year."),
                reverse("enrollment:register"),
                gettext("Register for classes"),
            )
        )
    for line in fee_lines:
        if not line.settled:
            deadline = line.policy.payment_deadline if line.policy else None
            text = (
                gettext("Pay the %(amount)s fee to %(consortium)s by %(date)s.")
                % {
                    "amount": money(line.amount),
                    "consortium": line.consortium.name,
                    "date": display_date(deadline),
                }
                if deadline
                else gettext("Pay the %(amount)s fee to %(consortium)s.")
                % {"amount": money(line.amount), "consortium": line.consortium.name}
            )
            steps.append(NextStep(text, "#fees", gettext("How to pay")))
    if any(e.status == S.REGISTERED for e in active):
        steps.append(
            NextStep(
                gettext("Wait for your teacher to confirm you are in the class. Nothing to do.")
            )
        )
    if any(e.status == S.CONFIRMED for e in active):
        steps.append(
            NextStep(
                gettext("Finish your class with a good grade: your teacher enters it at the end.")
            )
        )
    if pending_change is not None:
        steps.append(
            NextStep(
                gettext("Consortium staff are checking your name or birth date change."),
                reverse("enrollment:profile"),
                gettext("See your profile"),
            )
        )
    if credits:
        steps.append(
            NextStep(
                gettext(
                    "Use your college credit: apply to the college and request your transcript."
                ),
                reverse("enrollment:credits"),
                gettext("My college credits"),
            )
        )
    if not steps:
        steps.append(
            NextStep(gettext("You are all set for now. Check back after your class ends."))
        )
    return steps


def student_own_identity_change(*, student: StudentProfile, change_id: int) -> IdentityChange:
    return get_in_scope(IdentityChange.objects.all(), Q(student=student), pk=change_id)


def student_email_hint(*, student_id: int) -> str:
    email = (
        StudentProfile.objects.filter(pk=student_id).values_list("user__email", flat=True).first()
    )
    return mask_email(email or "")


def student_fees_all_years(*, student: StudentProfile) -> list[Fee]:
    return list(Fee.objects.filter(student=student))


@dataclass
class CreditLine:
    enrollment: Enrollment
    college_courses: list
    credits: Decimal
    transcript: str  # "transcribed", "waiting" or "fee_due"

    @property
    def college(self):
        return self.enrollment.section.articulation.college


def credit_lines(credits: list[Enrollment], *, fees: list[Fee] | None = None) -> list[CreditLine]:
    """Attained credits with their college courses and where the transcript stands."""
    unsettled = {(f.consortium_id, f.academic_year_id) for f in (fees or []) if not f.is_settled}
    lines = []
    for enrollment in credits:
        section = enrollment.section
        courses = sorted(section.articulation.college_courses.all(), key=lambda c: c.code)
        if enrollment.status == S.TRANSCRIBED:
            transcript = "transcribed"
        elif (section.articulation.consortium_id, section.academic_year_id) in unsettled:
            transcript = "fee_due"
        else:
            transcript = "waiting"
        lines.append(
            CreditLine(
                enrollment=enrollment,
                college_courses=courses,
                credits=sum((c.credits for c in courses), Decimal(0)),
                transcript=transcript,
            )
        )
    return lines
