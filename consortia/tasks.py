"""Thin Celery wrappers: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_welcome_email(user_id: int) -> bool:
    return services.user_send_welcome_email(user_id=user_id)
