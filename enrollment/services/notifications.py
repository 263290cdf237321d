"""Notifications to students, the credit-eligible sweep and the deadline reminders."""

import logging
from datetime import date, timedelta

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from accounts.models import SentEmail
from accounts.services import email_send_once
from enrollment.rules import eligible_for_transcription_q
from organisations.models import AcademicYear, ConsortiumPolicy
from organisations.selectors import academic_year_current

from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Fee,
    Section,
    StudentProfile,
)
from ..rules import GRADABLE_STATUSES, local_today

logger = logging.getLogger(__name__)


S = EnrollmentStatus


# --- notifications to students -----------------------------------------------------------------

# event → (is the enrollment still in the state the email announces?, templates)
NOTIFICATION_TEMPLATES = {
    "grade_posted": "enrollment/emails/notify_grade_posted",
    "credit_eligible": "enrollment/emails/notify_credit_eligible",
    "transcribed": "enrollment/emails/notify_transcribed",
}


def student_notify(*, event: str, enrollment_id: int) -> bool:
    """Email the student about their enrollment, once per enrollment and event.

    Checks again that what the email says is still true (a grade posted, credit
    eligible for transcription, on the transcript); otherwise sends nothing.
    """

    if event not in NOTIFICATION_TEMPLATES:
        raise ValueError(f"unknown notification {event!r}")
    queryset = Enrollment.objects.filter(pk=enrollment_id, student__user__is_active=True)
    if event == "grade_posted":
        queryset = queryset.filter(status__in=(S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED))
    elif event == "credit_eligible":
        queryset = queryset.filter(eligible_for_transcription_q())
    else:
        queryset = queryset.filter(status=S.TRANSCRIBED)
    enrollment = (
        queryset.select_related(
            "student__user",
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__academic_year",
        )
        .prefetch_related("section__articulation__college_courses")
        .first()
    )
    if enrollment is None:
        return False
    profile = enrollment.student
    template = NOTIFICATION_TEMPLATES[event]
    return email_send_once(
        user=profile.user,
        kind=f"notify_{event}",
        dedupe_key=f"{event}:{enrollment.pk}",
        subject_template=f"{template}_subject.txt",
        body_template=f"{template}_body.txt",
        context={"profile": profile, "enrollment": enrollment},
        language=profile.language,
    )


def credit_eligible_sweep(*, today: date | None = None) -> int:
    """Tell students whose credit became eligible some other way (an email confirmed late,
    a $0 policy) — each once. For the current and the previous school year."""

    year = academic_year_current(today=local_today(today))
    if year is None:
        return 0
    years = AcademicYear.objects.filter(start_date__lte=year.start_date).order_by("-start_date")[:2]
    ids = list(
        Enrollment.objects.filter(eligible_for_transcription_q(), section__academic_year__in=years)
        .annotate(
            key=Concat(Value("credit_eligible:"), Cast("pk", CharField()), output_field=CharField())
        )
        .filter(~Exists(SentEmail.objects.filter(dedupe_key=OuterRef("key"))))
        .values_list("pk", flat=True)
    )
    sent = sum(student_notify(event="credit_eligible", enrollment_id=pk) for pk in ids)
    return sent


# How many days before each deadline the reminders go out.
REMINDER_DAYS_BEFORE = 7


def deadline_reminders_send(*, today: date | None = None) -> dict[str, int]:
    """Reminders before each consortium's deadlines, sent once each (a re-run sends nothing
    new; a moved deadline is a new reminder):

    - registration closing: students of the consortium's schools still in high school
      with no class of the consortium this year;
    - payment: students with an unpaid fee and a class this year;
    - grading: teachers with a class not yet complete.
    """

    today = local_today(today)
    horizon = today + timedelta(days=REMINDER_DAYS_BEFORE)
    sent = {"registration": 0, "payment": 0, "grading": 0}
    policies = ConsortiumPolicy.objects.select_related("consortium", "academic_year")
    already = set()

    def once(user, kind, key, template, context, language=None):
        if key in already:
            return
        if email_send_once(
            user=user,
            kind=kind,
            dedupe_key=key,
            subject_template=f"{template}_subject.txt",
            body_template=f"{template}_body.txt",
            context=context,
            language=language,
        ):
            sent[kind.removeprefix("reminder_")] += 1

    def claimed(prefix: str) -> None:
        already.update(
            SentEmail.objects.filter(dedupe_key__startswith=prefix).values_list(
                "dedupe_key", flat=True
            )
        )

    for policy in policies.filter(
        registration_closes__gte=today,
        registration_closes__lte=horizon,
        registration_opens__lte=today,
    ):
        prefix = f"reminder:registration:{policy.pk}:{policy.registration_closes}:"
        claimed(prefix)
        registered = Enrollment.objects.filter(
            section__academic_year=policy.academic_year,
            section__articulation__consortium=policy.consortium,
        ).exclude(status__in=INACTIVE_STATUSES)
        students = (
            StudentProfile.objects.filter(
                high_school__district__consortium=policy.consortium,
                merged_into__isnull=True,
                user__is_active=True,
                graduation_year__gte=policy.academic_year.end_date.year,
            )
            .exclude(pk__in=registered.values("student_id"))
            .select_related("user")
        )
        for student in students.iterator(chunk_size=500):
            once(
                student.user,
                "reminder_registration",
                f"{prefix}{student.pk}",
                "enrollment/emails/notify_registration_reminder",
                {"profile": student, "policy": policy},
                student.language,
            )
    for policy in policies.filter(payment_deadline__gte=today, payment_deadline__lte=horizon):
        prefix = f"reminder:payment:{policy.pk}:{policy.payment_deadline}:"
        claimed(prefix)
        fees = (
            Fee.objects.filter(
                consortium=policy.consortium,
                academic_year=policy.academic_year,
                status=Fee.Status.UNPAID,
                amount__gt=0,
                student__merged_into__isnull=True,
                student__user__is_active=True,
                student__enrollments__section__academic_year=policy.academic_year,
                student__enrollments__section__articulation__consortium=policy.consortium,
            )
            .exclude(student__enrollments__status__in=INACTIVE_STATUSES)
            .distinct()
            .select_related("student__user", "consortium")
        )
        for fee in fees.iterator(chunk_size=500):
            once(
                fee.student.user,
                "reminder_payment",
                f"{prefix}{fee.pk}",
                "enrollment/emails/notify_payment_reminder",
                {"profile": fee.student, "policy": policy, "fee": fee},
                fee.student.language,
            )
    for policy in policies.filter(grading_deadline__gte=today, grading_deadline__lte=horizon):
        prefix = f"reminder:grading:{policy.pk}:{policy.grading_deadline}:"
        claimed(prefix)
        sections = (
            Section.objects.filter(
                academic_year=policy.academic_year,
                articulation__consortium=policy.consortium,
                completed_at__isnull=True,
                teacher__is_active=True,
                enrollments__status__in=GRADABLE_STATUSES,
            )
            .distinct()
            .select_related("teacher", "articulation__high_school_course", "high_school")
            .order_by("teacher_id", "pk")
        )
        by_teacher: dict[int, list[Section]] = {}
        for section in sections:
            by_teacher.setdefault(section.teacher_id, []).append(section)
        for sections_of_teacher in by_teacher.values():
            teacher = sections_of_teacher[0].teacher
            once(
                teacher,
                "reminder_grading",
                f"{prefix}{teacher.pk}",
                "enrollment/emails/staff_grading_reminder",
                {"policy": policy, "sections": sections_of_teacher},
            )
    logger.info("deadline reminders: %s", sent)
    return sent
