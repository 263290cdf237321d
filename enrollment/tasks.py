"""Thin Celery wrappers for the student emails and the staff jobs: take ids, call one
service.

Safe to run twice: the welcome, confirmation, notification and reminder emails are sent
once (SentEmail), and a verification email is only sent while the address is still
unconfirmed.

Each task imports its service inside its body: the services send these tasks, so a
module-level import would be a cycle (the usual Celery pattern).
"""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_verification_email(user_id: int) -> bool:
    from .services import signup

    return signup.user_send_verification_email(user_id=user_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_student_welcome_email(user_id: int) -> bool:
    from .services import signup

    return signup.student_send_welcome_email(user_id=user_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_sign_up_attempt_notice(user_id: int, language: str = "en") -> bool:
    from .services import signup

    return signup.user_send_sign_up_attempt_notice(user_id=user_id, language=language)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_registration_confirmation(student_id: int, enrollment_ids: list[int]) -> bool:
    from .services import registration

    return registration.enrollment_send_registration_confirmation(
        student_id=student_id, enrollment_ids=enrollment_ids
    )


# --- staff workflows --------------------------------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_student_notifications(event: str, enrollment_ids: list[int]) -> int:
    """Grade posted, credit eligible or transcribed: one email per enrollment, sent once."""
    from .services import notifications

    return sum(
        notifications.student_notify(event=event, enrollment_id=enrollment_id)
        for enrollment_id in enrollment_ids
    )


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def send_deadline_reminders() -> dict[str, int]:
    """Celery beat, daily: registration, payment and grading deadline reminders."""
    from .services import notifications

    return notifications.deadline_reminders_send()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def send_credit_eligible_notices() -> int:
    """Celery beat, daily: credit that became eligible without a staff action."""
    from .services import notifications

    return notifications.credit_eligible_sweep()


@shared_task(acks_late=True, soft_time_limit=60 * 25)
def check_for_duplicates() -> dict:
    """The statewide duplicate check (all students, all consortia): Celery beat, nightly,
    and "Check for duplicates now" (services/duplicate_checks.py)."""
    from .services import duplicates

    return duplicates.duplicate_check().as_dict()


@shared_task(acks_late=True, soft_time_limit=60 * 25)
def scan_for_duplicates(consortium_id: int | None = None) -> dict:
    """A message queued by an earlier release, which asked per consortium: the statewide
    check all the same."""
    return check_for_duplicates()
