"""Career specialists' help desk: resend verification, reset a password, reveal an
email (logged), register on a student's behalf."""

import logging
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accesslog.services import access_log_record
from accounts.models import Role
from accounts.permissions import Capability, access_for, get_in_scope, student_scope
from accounts.tasks import send_password_reset_email

from .. import tasks
from ..models import (
    Enrollment,
    Section,
    StudentProfile,
)
from .registration import enrollment_register
from .transitions import change_log_record

logger = logging.getLogger(__name__)


# --- career specialists: help desk -------------------------------------------------------------


def _helpdesk_student(actor, student_id: int) -> StudentProfile:
    access = access_for(actor)
    access.require(Capability.HELP_STUDENT_ACCOUNTS)
    return get_in_scope(
        StudentProfile.objects.select_related("user"), student_scope(access), pk=student_id
    )


def helpdesk_resend_verification(*, actor, student_id: int) -> None:
    """Send the student a fresh link to confirm their email address."""
    student = _helpdesk_student(actor, student_id)
    if student.user.email_verified:
        raise ValidationError(_("This student's email address is confirmed already."))
    if not student.user.is_active:
        raise ValidationError(_("This account is not active."))
    change_log_record(actor=actor, what="confirmation email resent", student_ids=[student.pk])
    tasks.send_verification_email.delay_on_commit(student.user_id)
    logger.info("helpdesk verification resent: student_id=%s by user_id=%s", student.pk, actor.pk)


def helpdesk_password_reset(*, actor, student_id: int) -> None:
    """Email the student a link to choose a new password (to the address on file)."""
    student = _helpdesk_student(actor, student_id)
    if not student.user.is_active:
        raise ValidationError(_("This account is not active."))
    change_log_record(actor=actor, what="password reset sent", student_ids=[student.pk])
    send_password_reset_email.delay_on_commit(student.user_id)
    logger.info("helpdesk password reset sent: student_id=%s by user_id=%s", student.pk, actor.pk)


def helpdesk_reveal_email(*, actor, student_id: int, request=None) -> str:
    """The student's login email, shown to staff helping the student in person. Logged."""

    student = _helpdesk_student(actor, student_id)
    access = access_for(actor)
    access_log_record(
        actor=actor,
        action="reveal",
        what="student login email",
        student_ids=[student.pk],
        role=Role.CAREER_SPECIALIST
        if access.has_role(Role.CAREER_SPECIALIST)
        else Role.CONSORTIUM_ADMIN,
        request=request,
    )
    return student.user.email


def enrollment_register_on_behalf(
    *,
    actor,
    student_id: int,
    section_id: int,
    override_reason: str = "",
    today: date | None = None,
) -> Enrollment:
    """Staff register a student for a class, recorded as done on their behalf.

    With `override_reason`, a consortium admin of the class's consortium registers after
    the registration window (a late registration, recorded as an override).
    """

    student = _helpdesk_student(actor, student_id)
    if student.merged_into_id:
        raise ValidationError(_("This record was merged into another student: use that one."))
    section = Section.objects.select_related("articulation").get(pk=section_id)
    override_reason = override_reason.strip()
    if override_reason:
        access = access_for(actor)
        if not (
            access.can(Capability.OVERRIDE_RULES)
            and section.articulation.consortium_id in access.consortium_ids
        ):
            raise PermissionDenied
    with transaction.atomic():
        enrollment = enrollment_register(
            student=student,
            section=section,
            actor=actor,
            on_behalf=True,
            today=today,
            override_reason=override_reason,
        )
        tasks.send_registration_confirmation.delay_on_commit(student.pk, [enrollment.pk])
    return enrollment
