"""Class registration by students: register, register several, withdraw, and the
confirmation email."""

import hashlib
import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import email_send_once
from organisations.selectors import academic_year_current, policy_for
from sers import metrics

from .. import tasks
from ..models import (
    INACTIVE_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Fee,
    Section,
    StudentProfile,
)
from ..rules import WINDOW_REFUSALS, WITHDRAWABLE_STATUSES, registration_refusal
from .transitions import (
    TransitionNotAllowed,
    change_log_record,
    enrollment_change_status,
    enrollment_record_created,
)

logger = logging.getLogger(__name__)


# --- class registration ----------------------------------------------------------------------


class RegistrationRefused(ValidationError):
    """A rule stops this registration; the message says which one, in plain words."""


class RegistrationBatchRefused(ValidationError):
    """Some classes of a batch were refused, so none was registered.

    `problems` maps each refused section id to its message.
    """

    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        super().__init__(
            _("Nothing was registered: fix or untick the classes marked below, then try again."),
            code="batch_refused",
        )


def enrollment_register(
    *,
    student: StudentProfile,
    section: Section,
    actor,
    on_behalf: bool = False,
    today: date | None = None,
    override_reason: str = "",
) -> Enrollment:
    """Register a student for a class, at the initial status, with its first history row.

    Rules: a verified email, the current school year only, an active agreement valid
    for the year, an active teacher account, inside the consortium's registration
    window, and not already registered for the class or another class of the same
    course (the database's one-active-enrollment constraint backs the last one). Also
    creates the student's fee for that consortium and year if missing.

    `override_reason` (a consortium admin's late registration; the caller checks the
    actor may override) sets the registration window aside, and only the window; the
    history row is marked as an override with the reason. Inside the window nothing is
    set aside: the registration is an ordinary one and the reason is kept as a note.
    """
    override_reason = override_reason.strip()
    today = today or timezone.localdate()
    with transaction.atomic():
        section = Section.objects.select_related(
            "articulation__consortium", "teacher", "academic_year"
        ).get(pk=section.pk)
        articulation = section.articulation
        policy = policy_for(
            consortium_id=articulation.consortium_id, academic_year_id=section.academic_year_id
        )
        refusal = registration_refusal(
            section=section,
            email_verified=User.objects.filter(
                pk=student.user_id, email_verified_at__isnull=False
            ).exists(),
            current_year=academic_year_current(today=today),
            policy=policy,
            valid_for_year=articulation.valid_years.filter(pk=section.academic_year_id).exists(),
            today=today,
        )
        # The override sets the window aside only when the window refuses: a registration
        # inside the window is an ordinary one, whatever reason was given.
        window_set_aside = bool(
            refusal and override_reason and refusal[0] in WINDOW_REFUSALS and policy is not None
        )
        late = window_set_aside and refusal[0] == "window_closed"
        if window_set_aside:
            refusal = None
        if refusal:
            raise RegistrationRefused(refusal[1], code=refusal[0])
        # One read decides both refusals, so a registration committed by a concurrent
        # request between two reads cannot be worded as "another teacher".
        registered_section_ids = set(
            Enrollment.objects.filter(
                student=student,
                section__articulation=articulation,
                section__academic_year=section.academic_year_id,
            )
            .exclude(status__in=INACTIVE_STATUSES)
            .values_list("section_id", flat=True)
        )
        if section.pk in registered_section_ids:
            raise RegistrationRefused(
                _("You are already registered for this class."), code="duplicate"
            )
        if registered_section_ids:
            raise RegistrationRefused(
                _(
                    "You are already registered for this course with another teacher. "
                    "Withdraw from that class first."
                ),
                code="duplicate_course",
            )
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    student=student,
                    section=section,
                    status=EnrollmentStatus.REGISTERED,
                    registered_by=actor if on_behalf else None,
                )
        except IntegrityError:
            # Another request registered the same class a moment ago.
            raise RegistrationRefused(
                _("You are already registered for this class."), code="duplicate"
            ) from None
        reason = _("Registered by staff for the student.") if on_behalf else ""
        if late:
            reason = _("Late registration after the window: %(reason)s") % {
                "reason": override_reason
            }
        elif window_set_aside:
            reason = _("Registration before the window opened: %(reason)s") % {
                "reason": override_reason
            }
        elif override_reason and on_behalf:
            reason = _("Registered by staff for the student, inside the window: %(reason)s") % {
                "reason": override_reason
            }
        enrollment_record_created(
            enrollment=enrollment, actor=actor, reason=reason, override=window_set_aside
        )
        change_log_record(actor=actor, what="registration", student_ids=[student.pk])
        Fee.objects.get_or_create(
            student=student,
            consortium_id=articulation.consortium_id,
            academic_year_id=section.academic_year_id,
            defaults={"amount": policy.annual_fee},
        )
        # Counted once committed: a batch refused as a whole (enrollment_register_many)
        # or rolled back registers nothing.
        transaction.on_commit(
            metrics.REGISTRATIONS.labels(by="staff" if on_behalf else "student").inc
        )
    logger.info("registered: enrollment_id=%s student_id=%s", enrollment.pk, student.pk)
    return enrollment


def enrollment_register_many(
    *,
    student: StudentProfile,
    section_ids: list[int],
    actor,
    today: date | None = None,
) -> list[Enrollment]:
    """Register several classes at once: all of them, or none (RegistrationBatchRefused).

    One confirmation email for the whole batch goes out after commit.
    """
    section_ids = list(dict.fromkeys(int(pk) for pk in section_ids))
    if not section_ids:
        raise ValidationError(_("Tick at least one class."), code="empty")
    problems: dict[int, str] = {}
    enrollments: list[Enrollment] = []
    with transaction.atomic():
        sections = Section.objects.in_bulk(section_ids)
        for section_id in section_ids:
            section = sections.get(section_id)
            if section is None:
                problems[section_id] = _("This class is no longer offered.")
                continue
            try:
                enrollments.append(
                    enrollment_register(student=student, section=section, actor=actor, today=today)
                )
            except ValidationError as error:
                problems[section_id] = " ".join(error.messages)
        if problems:
            raise RegistrationBatchRefused(problems)
        tasks.send_registration_confirmation.delay_on_commit(
            student.pk, [e.pk for e in enrollments]
        )
    return enrollments


def enrollment_withdraw(*, enrollment_id: int, actor, reason: str = "") -> Enrollment:
    """Withdraw a registration, allowed until the teacher has graded it."""
    status = Enrollment.objects.filter(pk=enrollment_id).values_list("status", flat=True).first()
    refused = _("Your teacher has already graded this class, so it can no longer be withdrawn.")
    if status in (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.REMOVED):
        raise ValidationError(_("This registration is no longer active."), code="inactive")
    if status not in WITHDRAWABLE_STATUSES:
        raise ValidationError(refused, code="graded")
    try:
        with transaction.atomic():
            enrollment = enrollment_change_status(
                enrollment_id=enrollment_id,
                to_status=EnrollmentStatus.WITHDRAWN,
                actor=actor,
                reason=reason.strip() or _("Withdrawn by the student."),
            )
            change_log_record(actor=actor, what="withdrawal", student_ids=[enrollment.student_id])
            return enrollment
    except TransitionNotAllowed:
        # Graded between the check above and the locked change.
        raise ValidationError(refused, code="graded") from None


def enrollment_send_registration_confirmation(
    *, student_id: int, enrollment_ids: list[int]
) -> bool:
    """The confirmation email of one registration batch, sent once."""
    profile = StudentProfile.objects.select_related("user").get(pk=student_id)
    enrollments = list(
        Enrollment.objects.filter(student=profile, pk__in=enrollment_ids)
        .select_related(
            "section__articulation__high_school_course",
            "section__articulation__college",
            "section__teacher",
            "section__high_school",
            "section__academic_year",
        )
        .prefetch_related("section__articulation__college_courses")
        .order_by("pk")
    )
    if not enrollments:
        return False
    batch = hashlib.sha256(",".join(str(e.pk) for e in enrollments).encode()).hexdigest()[:24]
    return email_send_once(
        user=profile.user,
        kind="registration_confirmation",
        dedupe_key=f"registration:{profile.pk}:{batch}",
        subject_template="enrollment/emails/student_registration_subject.txt",
        body_template="enrollment/emails/student_registration_body.txt",
        context={
            "profile": profile,
            "enrollments": enrollments,
            "year": enrollments[0].section.academic_year,
            "confirmation_path": reverse("enrollment:confirmation")
            + "?ids="
            + ",".join(str(e.pk) for e in enrollments),
        },
        language=profile.language,
    )
