"""Thin Celery wrappers: take ids, call one service.

Each task imports its service when it runs: services.py imports this module to queue
the tasks, so importing services here at the top would make the two modules a cycle.
"""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_articulation_status_change(change_id: int) -> int:
    from . import services  # the Celery pattern: see the module docstring

    return services.articulation_notify_status_change(change_id=change_id)


@shared_task(acks_late=True)
def run_rollover(run_id: int) -> str:
    from . import services  # the Celery pattern: see the module docstring

    return services.rollover_run(run_id=run_id).status
