"""Writes for accounts and organisations, and the emails that go with them."""

import logging

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Consortium, HighSchool, Role, RoleMembership, SentEmail, User
from .permissions import Capability, access_for

logger = logging.getLogger(__name__)


def email_send_once(
    *,
    user: User,
    kind: str,
    dedupe_key: str,
    subject_template: str,
    body_template: str,
    context: dict | None = None,
    language: str | None = None,
) -> bool:
    """Send a templated email to a user unless one with the same key went out already.

    The key is claimed in the same transaction as the send, so two workers running the
    same job cannot both send; a failed send rolls the claim back and may be retried.
    Returns True when an email was sent.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                SentEmail.objects.create(user=user, kind=kind, dedupe_key=dedupe_key)
        except IntegrityError:
            return False
        context = {"user": user, "base_url": settings.SERS_BASE_URL, **(context or {})}
        with translation.override(language or settings.LANGUAGE_CODE):
            subject = " ".join(render_to_string(subject_template, context).split())
            body = render_to_string(body_template, context)
        send_mail(subject, body, None, [user.email])
    logger.info("email sent: kind=%s user_id=%s", kind, user.pk)
    return True


def user_send_welcome_email(*, user_id: int) -> bool:
    """The account email a new user gets once; students see their permanent SERS id in it."""
    user = User.objects.select_related("student_profile").get(pk=user_id)
    profile = getattr(user, "student_profile", None)
    return email_send_once(
        user=user,
        kind="welcome",
        dedupe_key=f"welcome:{user.pk}",
        subject_template="emails/welcome_subject.txt",
        body_template="emails/welcome_body.txt",
        context={"profile": profile},
    )


def user_send_password_reset_email(*, user_id: int) -> None:
    """A password-reset link for an active account (not deduplicated: people ask again)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    context = {
        "user": user,
        "base_url": settings.SERS_BASE_URL,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    subject = " ".join(render_to_string("registration/password_reset_subject.txt", context).split())
    body = render_to_string("registration/password_reset_email.txt", context)
    send_mail(subject, body, None, [user.email])
    logger.info("email sent: kind=password_reset user_id=%s", user.pk)


# ---------------------------------------------------------------------------------------
# Teacher invitations: an account that stays inactive until the teacher opens the link
# in their invitation and chooses a password. Until then their classes take no
# registrations (enrollment treats an inactive teacher as "not active").

TEACHER_INVITATION_DAYS = 14


class TeacherActivationTokenGenerator(PasswordResetTokenGenerator):
    """Activation links that expire after TEACHER_INVITATION_DAYS and work once.

    The hash covers the password and the active flag, both of which activation changes.
    """

    key_salt = "sers.consortia.TeacherActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{timestamp}{user.email}"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - timestamp
        if not 0 <= age <= TEACHER_INVITATION_DAYS * 24 * 60 * 60:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


teacher_activation_token = TeacherActivationTokenGenerator()


def teacher_invitation_pending(user: User) -> bool:
    """Invited and not yet activated (a deactivated account is not an invitation)."""
    return not user.is_active and not user.has_usable_password()


def _consortium_school(actor, high_school_id: int) -> HighSchool:
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    school = (
        HighSchool.objects.select_related("district")
        .filter(pk=high_school_id, district__consortium_id__in=access.consortium_ids)
        .first()
    )
    if school is None:
        raise ValidationError({"high_school": _("Choose a school of your consortium.")})
    return school


def teacher_invite(
    *, actor, email: str, first_name: str, last_name: str, high_school_id: int
) -> User:
    """Give a teacher an account at a school and email them an activation link.

    A new address gets an inactive account with no password and the teacher role at the
    school. An address that already belongs to a teacher of the same consortium gets the
    role at this school too (and, while still invited, a fresh link). Any other existing
    account is refused: roles are not added to someone else's account from here.
    """
    school = _consortium_school(actor, high_school_id)
    email = User.objects.normalize_email(email.strip()).lower()
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise ValidationError({"last_name": _("Enter the teacher's first and last name.")})
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, first_name=first_name, last_name=last_name, is_active=False
            )
            created = True
        else:
            created = False
            teaches_in_consortium = RoleMembership.objects.filter(
                user=user,
                role=Role.TEACHER,
                high_school__district__consortium_id=school.district.consortium_id,
            ).exists()
            if not teaches_in_consortium:
                raise ValidationError(
                    {
                        "email": _(
                            "This address belongs to an existing account that is not a teacher "
                            "in your consortium. Ask state staff to give it the teacher role."
                        )
                    }
                )
        RoleMembership.objects.get_or_create(user=user, role=Role.TEACHER, high_school=school)
        if teacher_invitation_pending(user):
            _queue_invitation(user)
    logger.info(
        "teacher invited: user_id=%s new=%s school_id=%s by user_id=%s",
        user.pk,
        created,
        school.pk,
        actor.pk,
    )
    return user


def _queue_invitation(user: User) -> None:
    from . import tasks

    # One email per invitation: a retried job reuses the stamp, a new invitation does not.
    stamp = int(timezone.now().timestamp() * 1000)
    tasks.send_teacher_invitation.delay_on_commit(user.pk, stamp)


def teacher_invitation_resend(*, actor, user_id: int) -> User:
    """A fresh activation link for an invited teacher of the actor's consortium."""
    access = access_for(actor)
    if not access.can(Capability.MANAGE_TEACHERS):
        raise PermissionDenied
    user = (
        User.objects.filter(
            pk=user_id,
            memberships__role=Role.TEACHER,
            memberships__high_school__district__consortium_id__in=access.consortium_ids,
        )
        .distinct()
        .first()
    )
    if user is None:
        raise Http404
    if not teacher_invitation_pending(user):
        raise ValidationError(_("This account is already active."), code="already_active")
    with transaction.atomic():
        _queue_invitation(user)
    logger.info("teacher invitation resent: user_id=%s by user_id=%s", user.pk, actor.pk)
    return user


def teacher_send_invitation_email(*, user_id: int, stamp: int) -> bool:
    """The invitation email with its activation link (skipped once the account is active)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not teacher_invitation_pending(user):
        return False
    school_names = list(
        RoleMembership.objects.filter(user=user, role=Role.TEACHER)
        .order_by("high_school__name")
        .values_list("high_school__name", flat=True)
    )
    return email_send_once(
        user=user,
        kind="teacher_invitation",
        dedupe_key=f"teacher_invitation:{user.pk}:{stamp}",
        subject_template="consortia/emails/teacher_invitation_subject.txt",
        body_template="consortia/emails/teacher_invitation_body.txt",
        context={
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": teacher_activation_token.make_token(user),
            "schools": school_names,
            "days": TEACHER_INVITATION_DAYS,
        },
    )


def teacher_activate(*, user_id: int, password: str) -> User:
    """Activate an invited teacher's account with the password they chose.

    Opening the link proved they read that mailbox, so the address counts as verified.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not teacher_invitation_pending(user):
            raise ValidationError(_("This account is already active."), code="already_active")
        user.set_password(password)
        user.is_active = True
        user.email_verified_at = user.email_verified_at or timezone.now()
        user.save(update_fields=["password", "is_active", "email_verified_at"])
    logger.info("teacher activated: user_id=%s", user.pk)
    return user


def consortium_set_public_teacher_names(*, actor, consortium_id: int, show: bool) -> Consortium:
    """Whether the public articulation pages name the teachers (off unless the consortium
    chooses it)."""
    access = access_for(actor)
    if not access.can(Capability.MANAGE_POLICY):
        raise PermissionDenied
    if consortium_id not in access.consortium_ids:
        raise Http404
    with transaction.atomic():
        consortium = Consortium.objects.select_for_update().get(pk=consortium_id)
        if consortium.show_teacher_names_publicly != show:
            consortium.show_teacher_names_publicly = show
            consortium.save(update_fields=["show_teacher_names_publicly"])
            logger.info(
                "consortium public teacher names=%s: consortium_id=%s by user_id=%s",
                show,
                consortium.pk,
                actor.pk,
            )
    return consortium
