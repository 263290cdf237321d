"""Pure rules that reads and writes share: why a class cannot be registered, when
grading closes, which statuses may be withdrawn or graded, how long a transcription
may be undone, and which enrollments are eligible for transcription."""

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import AccountState
from articulations.models import Articulation
from organisations.models import AcademicYear, ConsortiumPolicy
from organisations.selectors import policy_for

from .models import (
    Enrollment,
    EnrollmentStatus,
    Fee,
    Section,
)

S = EnrollmentStatus


S = EnrollmentStatus


def registration_refusal(
    *,
    section: Section,
    email_verified: bool,
    current_year: AcademicYear | None,
    policy: ConsortiumPolicy | None,
    valid_for_year: bool,
    today: date,
) -> tuple[str, str] | None:
    """The first rule that stops a registration in this class, as (code, message).

    Pure: the caller loads what it needs, so the class list and the service agree.
    """
    year = section.academic_year
    if not email_verified:
        return "email_unverified", _(
            "Confirm your email address first: open the link we emailed to you."
        )
    if current_year is None or section.academic_year_id != current_year.pk:
        return "wrong_year", _(
            "This class is in the %(year)s school year. You can register only for classes "
            "of the current school year."
        ) % {"year": year.code}
    articulation = section.articulation
    if articulation.status != Articulation.Status.ACTIVE:
        return "articulation_inactive", _(
            "The college credit agreement for this class is not active, so it cannot be registered."
        )
    if not valid_for_year:
        return "articulation_not_valid", _(
            "The college credit agreement for this class does not cover the %(year)s school year."
        ) % {"year": year.code}
    if not section.teacher.is_active:
        return "teacher_inactive", teacher_inactive_message(section)
    if policy is None:
        return "window_closed", _(
            "Registration for %(year)s has not been opened for this class yet."
        ) % {"year": year.code}
    if today < policy.registration_opens:
        return "window_not_open", _("Registration for this class opens on %(date)s.") % {
            "date": formats.date_format(policy.registration_opens)
        }
    if today > policy.registration_closes:
        return "window_closed", _("Registration for this class closed on %(date)s.") % {
            "date": formats.date_format(policy.registration_closes)
        }
    return None


def teacher_inactive_message(section: Section) -> str:
    """Why a class with an inactive teacher takes no registrations, in the words of the
    account's state (accounts.models.AccountState), and whom the student can contact:
    the consortium, which manages its teachers' accounts. Needs the section's teacher and
    its agreement's consortium loaded."""
    consortium = section.articulation.consortium
    if AccountState.of(section.teacher) == AccountState.INVITED:
        problem = _(
            "This class cannot take registrations yet: its teacher is invited to SERS but "
            "has not activated their account."
        )
    else:
        problem = _("This class takes no registrations: its teacher's SERS account is deactivated.")
    if consortium.contact_text:
        contact = _("%(consortium)s can help: %(contact)s.") % {
            "consortium": consortium.name,
            "contact": consortium.contact_text,
        }
    else:
        contact = _(
            "%(consortium)s manages its teachers' accounts: ask your school's career "
            "specialist or counselor to contact them."
        ) % {"consortium": consortium.name}
    return f"{problem} {contact}"


# The refusals a late-registration override sets aside.
WINDOW_REFUSALS = frozenset({"window_closed", "window_not_open"})


# A registration can be withdrawn until the teacher grades it.
WITHDRAWABLE_STATUSES = (EnrollmentStatus.REGISTERED, EnrollmentStatus.CONFIRMED)


def grading_deadline(section: Section) -> date | None:
    policy = policy_for(
        consortium_id=section.articulation.consortium_id,
        academic_year_id=section.academic_year_id,
    )
    return policy.grading_deadline if policy else None


def grading_closed_reason(section: Section, *, today: date | None = None) -> str:
    """Why the teacher can no longer change grades in this class ("" while they can)."""
    if section.completed_at:
        return _("This class is marked complete. To change a grade now, ask your consortium admin.")
    deadline = grading_deadline(section)
    if deadline and local_today(today) > deadline:
        return _(
            "The grading deadline (%(date)s) has passed. To change a grade now, ask your "
            "consortium admin."
        ) % {"date": formats.date_format(deadline)}
    return ""


GRADABLE_STATUSES = (S.REGISTERED, S.CONFIRMED, S.GRADED)


# --- registrars: transcription ----------------------------------------------------------------

# How long a registrar may undo a transcription (a mistake noticed soon after posting).
TRANSCRIPTION_UNDO_DAYS = 30


def transcription_undo_until(enrollment: Enrollment) -> date:
    return timezone.localdate(enrollment.status_changed_at) + timedelta(
        days=TRANSCRIPTION_UNDO_DAYS
    )


def local_today(today: date | None) -> date:
    return today or timezone.localdate()


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
