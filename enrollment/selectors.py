"""Reads of students, classes and enrollments — always scoped to the user asking."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.http import Http404
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext

from accounts.permissions import (
    NOTHING,
    Access,
    Capability,
    enrollment_scope,
    get_in_scope,
    section_scope,
    student_scope,
)
from articulations.models import Articulation, CollegeCourse
from organisations.models import AcademicYear, ConsortiumPolicy, HighSchool
from organisations.selectors import academic_year_current

from .identity import Identity, identities_match, mask_email
from .models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    IdentityChange,
    MatchKind,
    Section,
    StudentProfile,
)

S = EnrollmentStatus
ATTEMPTED_STATUSES = (
    S.REGISTERED,
    S.CONFIRMED,
    S.GRADED,
    S.ATTAINED,
    S.NOT_ATTAINED,
    S.TRANSCRIBED,
)
ATTAINED_STATUSES = (S.ATTAINED, S.TRANSCRIBED)


def enrollments_visible(*, access: Access) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(enrollment_scope(access))


def students_visible(*, access: Access) -> QuerySet[StudentProfile]:
    return StudentProfile.objects.filter(student_scope(access))


def sections_visible(*, access: Access) -> QuerySet[Section]:
    return Section.objects.filter(section_scope(access))


def fee_settled_q() -> Q:
    """Enrollments whose student's fee for that consortium and year is paid, waived or $0."""
    settled_fee = Fee.objects.filter(
        student_id=OuterRef("student_id"),
        consortium_id=OuterRef("section__articulation__consortium_id"),
        academic_year_id=OuterRef("section__academic_year_id"),
    ).filter(Q(status__in=[Fee.Status.PAID, Fee.Status.WAIVED]) | Q(amount=0))
    no_fee_charged = ConsortiumPolicy.objects.filter(
        consortium_id=OuterRef("section__articulation__consortium_id"),
        academic_year_id=OuterRef("section__academic_year_id"),
        annual_fee=0,
    )
    return Q(Exists(settled_fee)) | Q(Exists(no_fee_charged))


def eligible_for_transcription_q() -> Q:
    """Attained, fee paid or waived, and a complete profile (verified email)."""
    return (
        Q(status=S.ATTAINED) & Q(student__user__email_verified_at__isnull=False) & fee_settled_q()
    )


def status_counts(queryset: QuerySet[Enrollment]) -> dict[str, int]:
    """Enrollments per status (every status present, zero when none)."""
    counts = dict.fromkeys(S.values, 0)
    for row in queryset.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def credit_totals(queryset: QuerySet[Enrollment]) -> dict[str, Decimal]:
    """College credits attempted and attained, in two queries whatever the size."""
    per_articulation: Counter[tuple[int, str]] = Counter()
    for row in (
        queryset.order_by().values("section__articulation_id", "status").annotate(n=Count("pk"))
    ):
        per_articulation[(row["section__articulation_id"], row["status"])] += row["n"]
    articulation_ids = {key[0] for key in per_articulation}
    credits = dict(
        Articulation.objects.filter(pk__in=articulation_ids)
        .annotate(total=Sum("college_courses__credits"))
        .values_list("pk", "total")
    )
    attempted = attained = Decimal(0)
    for (articulation_id, status), n in per_articulation.items():
        value = (credits.get(articulation_id) or Decimal(0)) * n
        if status in ATTEMPTED_STATUSES:
            attempted += value
        if status in ATTAINED_STATUSES:
            attained += value
    return {"attempted": attempted, "attained": attained}


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
    kind: str

    @property
    def email_hint(self) -> str:
        return mask_email(self.student.user.email)


def identity_matches(
    *,
    first_name: str,
    middle_name: str,
    last_name: str,
    birth_date: date,
    exclude_student_id: int | None = None,
) -> list[IdentityMatch]:
    """Students born on `birth_date` whose legal name matches (enrollment.identity), strongest
    first. One query: the birth-date index keeps the candidates few."""
    wanted = Identity(first_name=first_name, middle_name=middle_name, last_name=last_name)
    candidates = StudentProfile.objects.filter(birth_date=birth_date).select_related("user")
    if exclude_student_id:
        candidates = candidates.exclude(pk=exclude_student_id)
    matches = []
    for candidate in candidates:
        kind = identities_match(
            wanted,
            Identity(
                first_name=candidate.legal_first_name,
                middle_name=candidate.legal_middle_name,
                last_name=candidate.legal_last_name,
            ),
        )
        if kind is not None:
            matches.append(IdentityMatch(student=candidate, kind=kind))
    strength = {MatchKind.SAME: 0, MatchKind.VARIANT: 1, MatchKind.CLOSE: 2}
    return sorted(matches, key=lambda m: (strength[m.kind], m.student.pk))


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


def registration_schools(
    *, student: StudentProfile, year: AcademicYear | None
) -> list[tuple[str, list[HighSchool]]]:
    """Schools to register at, grouped: the student's own, skills centers serving their
    district, then every other school with classes this year."""
    offering = HighSchool.objects.none()
    if year is not None:
        offering = HighSchool.objects.filter(
            Exists(
                Section.objects.filter(
                    high_school=OuterRef("pk"),
                    academic_year=year,
                    articulation__status=Articulation.Status.ACTIVE,
                )
            )
        )
    schools = (
        HighSchool.objects.filter(Q(pk=student.high_school_id) | Q(pk__in=offering.values("pk")))
        .annotate(
            serves_student=Exists(
                HighSchool.served_districts.through.objects.filter(
                    highschool_id=OuterRef("pk"), district_id=student.high_school.district_id
                )
            )
        )
        .select_related("district")
        .order_by("name")
    )
    own, centers, others = [], [], []
    for school in schools:
        if school.pk == student.high_school_id:
            own.append(school)
        elif school.is_skills_center and school.serves_student:
            centers.append(school)
        else:
            others.append(school)
    groups = [
        (gettext("Your high school"), own),
        (gettext("Skills centers serving your district"), centers),
        (gettext("Other schools"), others),
    ]
    return [(label, items) for label, items in groups if items]


@dataclass
class SectionChoice:
    section: Section
    registered: bool = False
    refusal: str = ""


@dataclass
class CourseOffer:
    articulation: Articulation
    college_courses: list
    credits: Decimal
    choices: list[SectionChoice] = field(default_factory=list)

    @property
    def registered(self) -> bool:
        return any(c.registered for c in self.choices)


def section_schools_and_courses(*, section_ids: list[int]) -> list[tuple[int, int]]:
    """(school id, agreement id) of each of these classes that exists. Nothing private:
    any student may see any class offered."""
    return list(
        Section.objects.filter(pk__in=section_ids).values_list("high_school_id", "articulation_id")
    )


def registration_offer(
    *,
    student: StudentProfile,
    high_school: HighSchool,
    year: AcademicYear | None,
    today: date,
) -> list[CourseOffer]:
    """This year's classes of active agreements at a school, grouped by course, each class
    marked with whether the student holds it and, if it cannot be registered, why.

    Five queries whatever the number of classes or of the student's past enrollments.
    """
    from .services import registration_refusal

    if year is None:
        return []
    sections = list(
        Section.objects.filter(
            high_school=high_school,
            academic_year=year,
            articulation__status=Articulation.Status.ACTIVE,
            articulation__valid_years=year,
        )
        .select_related(
            "articulation__high_school_course",
            "articulation__college",
            "teacher",
            "academic_year",
        )
        .prefetch_related(
            Prefetch("articulation__college_courses", queryset=CollegeCourse.objects.order_by())
        )
        .order_by("articulation__high_school_course__title", "teacher__last_name", "section_code")
    )
    consortium_ids = {s.articulation.consortium_id for s in sections}
    policies = {
        p.consortium_id: p
        for p in ConsortiumPolicy.objects.filter(
            consortium_id__in=consortium_ids, academic_year=year
        )
    }
    held = set(
        Enrollment.objects.filter(student=student, section__academic_year=year)
        .exclude(status__in=INACTIVE_STATUSES)
        .values_list("section_id", flat=True)
    )
    offers: dict[int, CourseOffer] = {}
    email_verified = student.user.email_verified
    for section in sections:
        articulation = section.articulation
        offer = offers.get(articulation.pk)
        if offer is None:
            courses = sorted(articulation.college_courses.all(), key=lambda c: c.code)
            offer = offers[articulation.pk] = CourseOffer(
                articulation=articulation,
                college_courses=courses,
                credits=sum((c.credits for c in courses), Decimal(0)),
            )
        refusal = registration_refusal(
            section=section,
            email_verified=email_verified,
            current_year=year,
            policy=policies.get(articulation.consortium_id),
            valid_for_year=True,  # filtered above
            today=today,
        )
        offer.choices.append(
            SectionChoice(
                section=section,
                registered=section.pk in held,
                refusal=refusal[1] if refusal else "",
            )
        )
    return list(offers.values())


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
                    "amount": f"${line.amount}",
                    "consortium": line.consortium.name,
                    "date": formats.date_format(deadline),
                }
                if deadline
                else gettext("Pay the %(amount)s fee to %(consortium)s.")
                % {"amount": f"${line.amount}", "consortium": line.consortium.name}
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


@dataclass
class FeePreview:
    consortium: object
    amount: Decimal
    already: bool  # the student already has this year's fee with the consortium


def registration_fee_preview(
    *, student: StudentProfile, sections: list[Section]
) -> list[FeePreview]:
    """The yearly fee each consortium of these classes charges (one per consortium)."""
    keys = {(s.articulation.consortium_id, s.academic_year_id) for s in sections}
    if not keys:
        return []
    consortium_ids = {k[0] for k in keys}
    year_ids = {k[1] for k in keys}
    policies = {
        (p.consortium_id, p.academic_year_id): p
        for p in ConsortiumPolicy.objects.filter(
            consortium_id__in=consortium_ids, academic_year_id__in=year_ids
        ).select_related("consortium")
    }
    existing = set(
        Fee.objects.filter(
            student=student, consortium_id__in=consortium_ids, academic_year_id__in=year_ids
        ).values_list("consortium_id", "academic_year_id")
    )
    return [
        FeePreview(consortium=policy.consortium, amount=policy.annual_fee, already=key in existing)
        for key, policy in sorted(policies.items(), key=lambda item: item[1].consortium.name)
        if key in keys
    ]


# =============================================================================================
# Staff pages. Each read takes the user's Access and stays inside their scope; each runs
# in a fixed number of queries whatever the size of the roster, queue or list.
# =============================================================================================

ENROLLMENT_DISPLAY = (
    "student__user",
    "section__articulation__high_school_course",
    "section__articulation__college",
    "section__teacher",
    "section__high_school",
    "section__academic_year",
)
ACTIVE_ORDER = Case(
    When(status__in=INACTIVE_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField()
)


def teacher_sections(*, access: Access) -> QuerySet[Section]:
    """The classes the user teaches (none unless they hold the teacher role)."""
    if not access.can(Capability.MANAGE_ROSTER):
        return Section.objects.none()
    return Section.objects.filter(teacher_id=access.user_id)


def teacher_classes(*, access: Access, year: AcademicYear | None) -> list[Section]:
    """The teacher's classes of a school year, each with its roster counts by status.
    One query."""
    if year is None:
        return []
    counts = {
        f"n_{status}": Count("enrollments", filter=Q(enrollments__status=status))
        for status in S.values
    }
    return list(
        teacher_sections(access=access)
        .filter(academic_year=year)
        .select_related(
            "articulation__high_school_course",
            "articulation__college",
            "high_school",
            "academic_year",
        )
        .annotate(**counts)
        .order_by("articulation__high_school_course__title", "high_school__name", "section_code")
    )


def teacher_section(*, access: Access, section_id: int) -> Section:
    """One of the teacher's own classes; anyone else's is a 404."""
    return get_in_scope(
        Section.objects.select_related(
            "articulation__high_school_course",
            "articulation__college",
            "articulation__consortium",
            "high_school",
            "academic_year",
            "teacher",
        ),
        Q(pk__in=teacher_sections(access=access).values("pk")),
        pk=section_id,
    )


def teacher_section_id(*, access: Access, section_id: int) -> int:
    """The id of one of the teacher's own classes, checked in one light query (a page
    served from the cache needs no more); anyone else's is a 404."""
    if not teacher_sections(access=access).filter(pk=section_id).exists():
        raise Http404
    return section_id


def section_roster(*, section: Section) -> list[Enrollment]:
    """Every enrollment of a class, students still in it first, by last name. One query."""
    return list(
        Enrollment.objects.filter(section=section)
        .select_related("student__user", "student__high_school")
        .order_by(ACTIVE_ORDER, "student__legal_last_name", "student__legal_first_name", "pk")
    )


def teacher_enrollment(*, access: Access, enrollment_id: int) -> Enrollment:
    return get_in_scope(
        Enrollment.objects.select_related(
            "student", "section__articulation__high_school_course", "section__high_school"
        ),
        Q(section__in=teacher_sections(access=access)),
        pk=enrollment_id,
    )


def teacher_section_requests(*, access: Access) -> list:
    from .models import SectionRequest

    return list(
        SectionRequest.objects.filter(teacher_id=access.user_id)
        .select_related(
            "articulation__high_school_course", "high_school", "academic_year", "decided_by"
        )
        .order_by("-created_at", "-id")[:50]
    )


def requestable_articulations(*, access: Access, year: AcademicYear | None) -> QuerySet:
    """Active agreements the teacher is qualified for at one of their schools."""
    if year is None or not access.teacher_high_school_ids:
        return Articulation.objects.none()
    return (
        Articulation.objects.filter(
            status=Articulation.Status.ACTIVE,
            qualifications__teacher_id=access.user_id,
            high_schools__in=access.teacher_high_school_ids,
            valid_years__start_date__gte=year.start_date,
        )
        .select_related("high_school_course", "college")
        .distinct()
        .order_by("high_school_course__title", "agreement_number")
    )


# --- enrollment and student records for staff ---------------------------------------------------


def staff_enrollment(*, access: Access, enrollment_id: int) -> Enrollment:
    """An enrollment in the user's scope with its full history (who, what, when, why)."""
    return get_in_scope(
        Enrollment.objects.select_related(
            *ENROLLMENT_DISPLAY, "section__articulation__consortium", "registered_by"
        ).prefetch_related(
            Prefetch(
                "status_changes",
                queryset=EnrollmentStatusChange.objects.select_related("changed_by").order_by(
                    "changed_at", "id"
                ),
            ),
            Prefetch(
                "section__articulation__college_courses", queryset=CollegeCourse.objects.all()
            ),
        ),
        enrollment_scope(access),
        pk=enrollment_id,
    )


LOOKUP_LIMIT = 50


# Letters staff may type without the accent the legal name has ("lopez" finds "López").
ACCENT_CLASSES = {
    "a": "aáàâäãå",
    "c": "cç",
    "e": "eéèêë",
    "i": "iíìîï",
    "n": "nñ",
    "o": "oóòôöõ",
    "u": "uúùûü",
    "y": "yýÿ",
}


def accent_insensitive_pattern(word: str) -> str:
    """A regular expression (used case-insensitively) matching `word` with or without
    accents, on SQLite and PostgreSQL alike."""
    from .identity import normalize

    plain = normalize(word).replace(" ", "") or word.lower()
    # Apostrophes, hyphens, periods and spaces may sit between letters: "obrien" finds
    # "O'Brien", "anamaria" finds "Ana-María".
    return "[-'\u2019. ]?".join(
        f"[{ACCENT_CLASSES[c]}]" if c in ACCENT_CLASSES else re.escape(c) for c in plain
    )


def student_lookup(
    *,
    access: Access,
    sers_id: str = "",
    name: str = "",
    birth_date: date | None = None,
    email: str = "",
) -> list[StudentProfile]:
    """Students in the user's scope matching every criterion given (at most LOOKUP_LIMIT).

    A name matches when each of its words is in the legal first, middle or last name.
    """
    queryset = students_visible(access=access)
    if sers_id:
        queryset = queryset.filter(sers_id=sers_id)
    for word in name.split():
        pattern = accent_insensitive_pattern(word)
        queryset = queryset.filter(
            Q(legal_first_name__iregex=pattern)
            | Q(legal_middle_name__iregex=pattern)
            | Q(legal_last_name__iregex=pattern)
        )
    if birth_date:
        queryset = queryset.filter(birth_date=birth_date)
    if email:
        queryset = queryset.filter(user__email__iexact=email.strip())
    return list(
        queryset.select_related("user", "high_school", "merged_into").order_by(
            "legal_last_name", "legal_first_name", "pk"
        )[:LOOKUP_LIMIT]
    )


def staff_student(*, access: Access, student_id: int) -> StudentProfile:
    return get_in_scope(
        StudentProfile.objects.select_related(
            "user", "high_school__district", "merged_into", "merge_as_merged__merged_by"
        ),
        student_scope(access),
        pk=student_id,
    )


def staff_student_enrollments(*, access: Access, student: StudentProfile) -> list[Enrollment]:
    """The student's enrollments the user may see, newest year first."""
    return list(
        enrollments_visible(access=access)
        .filter(student=student)
        .select_related(*ENROLLMENT_DISPLAY)
        .order_by("-section__academic_year__start_date", ACTIVE_ORDER, "pk")
    )


def staff_student_fees(*, student: StudentProfile) -> list[Fee]:
    """The fees of a student the user may see (their fee status goes with the record)."""
    return list(
        Fee.objects.filter(student=student)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date", "consortium__name")
    )


def student_merges(*, student: StudentProfile) -> list:
    """Merges this record took part in, as survivor or as the merged record."""
    from .models import StudentMerge

    return list(
        StudentMerge.objects.filter(Q(survivor=student) | Q(merged=student))
        .select_related("survivor", "merged", "merged_by")
        .order_by("-merged_at")
    )


# --- registrars ---------------------------------------------------------------------------------


def registrar_enrollments(*, access: Access) -> QuerySet[Enrollment]:
    """Enrollments in classes of the registrar's colleges."""
    if not access.can(Capability.TRANSCRIBE):
        return Enrollment.objects.none()
    # Through the colleges' section ids, not a join on the articulation: the planner then
    # walks those classes' enrollments by index instead of hashing every enrollment of a
    # status across the state.
    return Enrollment.objects.filter(
        section_id__in=Section.objects.filter(
            articulation__college_id__in=access.registrar_college_ids
        ).values("pk")
    )


QUEUE_VIEWS = ("ready", "waiting", "transcribed")


def registrar_queue(*, access: Access, view: str) -> QuerySet[Enrollment]:
    """ready: eligible for transcription; waiting: still on the way (with what blocks
    them, see transcription_blockers); transcribed: marked transcribed."""
    base = registrar_enrollments(access=access)
    if view == "ready":
        queryset = base.filter(eligible_for_transcription_q())
    elif view == "waiting":
        # Same rows as "registered, confirmed or graded, or attained but not eligible"
        # (eligible implies attained); one status list lets an index find them.
        queryset = base.filter(
            Q(status__in=(S.REGISTERED, S.CONFIRMED, S.GRADED, S.ATTAINED))
            & ~eligible_for_transcription_q()
        ).annotate(fee_settled=ExpressionWrapper(fee_settled_q(), output_field=BooleanField()))
    else:
        queryset = base.filter(status=S.TRANSCRIBED)
    # The class's details come in a second query: joined here they pushed the query past
    # PostgreSQL's join_collapse_limit (8), and the planner then hashed every enrollment of
    # the status across the state instead of walking the colleges' classes.
    sections = Section.objects.select_related(
        *(f.removeprefix("section__") for f in ENROLLMENT_DISPLAY if f.startswith("section__"))
    ).prefetch_related(
        Prefetch("articulation__college_courses", queryset=CollegeCourse.objects.all())
    )
    return queryset.select_related(
        *(f for f in ENROLLMENT_DISPLAY if not f.startswith("section__"))
    ).prefetch_related(Prefetch("section", queryset=sections))


def transcription_blockers(enrollment: Enrollment) -> list[str]:
    """Why a registrar cannot transcribe this enrollment yet (needs `fee_settled`)."""
    blockers = []
    if enrollment.status in (S.REGISTERED, S.CONFIRMED):
        blockers.append(gettext("Missing grade"))
    elif enrollment.status == S.GRADED:
        blockers.append(gettext("Class not marked complete"))
    if not getattr(enrollment, "fee_settled", True):
        blockers.append(gettext("Fee unpaid"))
    if not enrollment.student.user.email_verified:
        blockers.append(gettext("Email not verified (profile incomplete)"))
    return blockers


def known_college_student_ids(*, enrollments: list[Enrollment]) -> dict[tuple[int, int], str]:
    """The college student id each student already has at each college, for pre-filling.
    One query."""
    students = {e.student_id for e in enrollments}
    colleges = {e.section.articulation.college_id for e in enrollments}
    if not students:
        return {}
    known = {}
    for student_id, college_id, college_student_id in (
        Enrollment.objects.filter(
            student_id__in=students,
            section__articulation__college_id__in=colleges,
        )
        .exclude(college_student_id="")
        .order_by("status_changed_at")
        .values_list("student_id", "section__articulation__college_id", "college_student_id")
    ):
        known[(student_id, college_id)] = college_student_id
    return known


# --- consortium admins --------------------------------------------------------------------------


def consortium_fees(*, access: Access) -> QuerySet[Fee]:
    if not access.can(Capability.RECORD_PAYMENTS):
        return Fee.objects.none()
    return Fee.objects.filter(consortium_id__in=access.consortium_ids).select_related(
        "student__high_school", "consortium", "academic_year"
    )


def unpaid_by_school(*, access: Access, year: AcademicYear | None) -> list[dict]:
    """Unpaid fees of a school year per high school (of the student). One query."""
    if year is None:
        return []
    return list(
        consortium_fees(access=access)
        .filter(academic_year=year, status=Fee.Status.UNPAID, amount__gt=0)
        .order_by()
        .values("student__high_school_id", "student__high_school__name")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("student__high_school__name")
    )


def fee_for_admin(*, access: Access, fee_id: int) -> Fee:
    from .models import FeeChange

    return get_in_scope(
        consortium_fees(access=access)
        .select_related("student__user", "recorded_by")
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=FeeChange.objects.select_related("changed_by").order_by(
                    "changed_at", "id"
                ),
            )
        ),
        Q(),
        pk=fee_id,
    )


def duplicate_queue(*, access: Access) -> QuerySet:
    """Open pairs of likely duplicates among the consortium's students."""
    from .models import PossibleDuplicate

    if not access.can(Capability.MERGE_STUDENTS):
        return PossibleDuplicate.objects.none()
    ids = access.consortium_ids
    return (
        PossibleDuplicate.objects.filter(
            status=PossibleDuplicate.Status.OPEN,
            student__merged_into__isnull=True,
            existing_student__merged_into__isnull=True,
        )
        .filter(
            Q(student__high_school__district__consortium_id__in=ids)
            | Q(existing_student__high_school__district__consortium_id__in=ids)
        )
        .select_related(
            "student__user",
            "student__high_school",
            "existing_student__user",
            "existing_student__high_school",
        )
        .order_by("-created_at", "-id")
    )


def merge_side(*, access: Access, student_id: int) -> StudentProfile:
    """One of the two records on the merge page, with what would move. 404 outside scope."""
    student = get_in_scope(
        StudentProfile.objects.select_related("user", "high_school", "merged_into"),
        student_scope(access),
        pk=student_id,
    )
    student.merge_enrollments = list(
        Enrollment.objects.filter(student=student)
        .select_related(
            "section__articulation__high_school_course",
            "section__academic_year",
            "section__high_school",
        )
        .order_by("-section__academic_year__start_date", "pk")
    )
    student.merge_fees = list(
        Fee.objects.filter(student=student)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date")
    )
    return student


def pending_section_requests(*, access: Access) -> QuerySet:
    from .models import SectionRequest

    if not access.can(Capability.MANAGE_TEACHERS):
        return SectionRequest.objects.none()
    return (
        SectionRequest.objects.filter(articulation__consortium_id__in=access.consortium_ids)
        .select_related(
            "teacher",
            "articulation__high_school_course",
            "articulation__college",
            "high_school",
            "academic_year",
            "decided_by",
        )
        .order_by(
            Case(
                When(status="pending", then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            "-created_at",
        )
    )


def consortium_work_counts(*, access: Access, year: AcademicYear | None) -> dict[str, int]:
    """The numbers on the consortium work page. Three queries."""
    from .models import SectionRequest

    unpaid = (
        consortium_fees(access=access)
        .filter(academic_year=year, status=Fee.Status.UNPAID, amount__gt=0)
        .count()
        if year
        else 0
    )
    return {
        "unpaid": unpaid,
        "duplicates": duplicate_queue(access=access).count(),
        "requests": pending_section_requests(access=access)
        .filter(status=SectionRequest.Status.PENDING)
        .count(),
    }


def late_registration_sections(
    *, access: Access, student: StudentProfile, year: AcademicYear | None
) -> list[Section]:
    """This year's classes staff may register the student for: the student's school, the
    skills centers serving their district, and (consortium admins) any class of their
    consortium."""
    if year is None:
        return []
    schools = Q(high_school_id=student.high_school_id) | Q(
        high_school__served_districts=student.high_school.district_id
    )
    if access.consortium_ids:
        schools |= Q(articulation__consortium_id__in=access.consortium_ids)
    return list(
        Section.objects.filter(
            schools,
            academic_year=year,
            articulation__status=Articulation.Status.ACTIVE,
        )
        .select_related("articulation__high_school_course", "high_school", "teacher")
        .distinct()
        .order_by("high_school__name", "articulation__high_school_course__title", "section_code")
    )
