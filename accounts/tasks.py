"""Thin Celery wrappers: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_welcome_email(user_id: int) -> bool:
    return services.user_send_welcome_email(user_id=user_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def send_password_reset_email(user_id: int) -> None:
    services.user_send_password_reset_email(user_id=user_id)
