"""Thin Celery wrappers: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_articulation_status_change(change_id: int) -> int:
    return services.articulation_notify_status_change(change_id=change_id)


@shared_task(acks_late=True)
def run_rollover(run_id: int) -> str:
    return services.rollover_run(run_id=run_id).status
