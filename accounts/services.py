"""Writes for accounts: the emails sent to a user once (welcome, password reset)."""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from sers import metrics

from .models import EmailFailure, SentEmail, User

logger = logging.getLogger(__name__)


def email_failure_record(*, kind: str, user: User | None, error: Exception) -> None:
    """Log and keep a failed send (EmailFailure: the error's class, never its message,
    which can name the address). Kept in the caller's transaction, if any: a caller that
    rolls back its work takes the record with it, and only the log line and the metric
    remain."""
    logger.warning(
        "email failed: kind=%s user_id=%s error=%s",
        kind,
        user.pk if user else None,
        type(error).__name__,
    )
    try:
        with transaction.atomic():
            EmailFailure.objects.create(user=user, kind=kind, error=type(error).__name__[:100])
    except DatabaseError:  # never hide the send's own error
        logger.exception("could not record the failed email: kind=%s", kind)


@contextmanager
def email_sending(*, kind: str, user: User | None = None):
    """Wrap one send to the mail server: counted as sent or failed, a failure kept."""
    try:
        with metrics.email_sending(kind):
            yield
    except Exception as error:
        email_failure_record(kind=kind, user=user, error=error)
        raise


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
    try:
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
            with metrics.email_sending(kind):
                send_mail(subject, body, None, [user.email])
    except Exception as error:
        # The claim is rolled back (the email may be sent again); the failure is kept.
        email_failure_record(kind=kind, user=user, error=error)
        raise
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
        subject_template="accounts/emails/welcome_subject.txt",
        body_template="accounts/emails/welcome_body.txt",
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
    with email_sending(kind="password_reset", user=user):
        send_mail(subject, body, None, [user.email])
    logger.info("email sent: kind=password_reset user_id=%s", user.pk)
