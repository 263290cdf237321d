"""Thin Celery wrappers: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_teacher_invitation(user_id: int, stamp: int) -> bool:
    return services.teacher_send_invitation_email(user_id=user_id, stamp=stamp)
