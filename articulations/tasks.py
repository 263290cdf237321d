"""Thin Celery wrappers: take ids, call one service.

Each task imports its service module when it runs: the services/ modules import this
module to queue the tasks, so importing them here at the top would make a cycle.
"""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_articulation_status_change(change_id: int) -> int:
    from .services import status  # the Celery pattern: see the module docstring

    return status.articulation_notify_status_change(change_id=change_id)


@shared_task(acks_late=True)
def run_rollover(run_id: int) -> str:
    from .services import rollover  # the Celery pattern: see the module docstring

    return rollover.rollover_run(run_id=run_id).status
