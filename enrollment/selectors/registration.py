"""The class list a student registers from: the schools whose classes they may take,
the offer of one school (each class with why it cannot be registered, if so) and the
fees a registration will add."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
)
from django.utils.translation import gettext

from articulations.models import Articulation, CollegeCourse
from organisations.models import AcademicYear, ConsortiumPolicy, HighSchool

from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Fee,
    Section,
    StudentProfile,
)
from ..rules import registration_refusal

S = EnrollmentStatus


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
            "articulation__consortium",
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
