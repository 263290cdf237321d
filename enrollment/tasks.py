"""Thin Celery wrappers for the student emails: take ids, call one service.

Safe to run twice: the welcome and confirmation emails are sent once (SentEmail), and
a verification email is only sent while the address is still unconfirmed.
"""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_verification_email(user_id: int) -> bool:
    return services.user_send_verification_email(user_id=user_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_student_welcome_email(user_id: int) -> bool:
    return services.student_send_welcome_email(user_id=user_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_registration_confirmation(student_id: int, enrollment_ids: list[int]) -> bool:
    return services.enrollment_send_registration_confirmation(
        student_id=student_id, enrollment_ids=enrollment_ids
    )
