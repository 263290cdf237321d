"""Thin Celery wrappers: take ids, call one service.

Each task imports its service when it runs: services.py imports this module to queue
the tasks, so importing services here at the top would make the two modules a cycle.
"""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_teacher_invitation(user_id: int, stamp: int) -> bool:
    from . import services  # the Celery pattern: see the module docstring

    return services.teacher_send_invitation_email(user_id=user_id, stamp=stamp)
