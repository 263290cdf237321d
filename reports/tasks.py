"""Thin Celery wrappers: take ids, call one service.

Report jobs rely on the reliability settings in sers/settings/base.py: late
acknowledgement and reject-on-worker-lost hand a job whose worker died to another
worker, and report_job_run is safe to run twice.

Each task imports its service when it runs: services.py imports this module to queue
the tasks, so importing services here at the top would make the two modules a cycle.
"""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_report_job(job_id: int) -> str:
    from . import services  # the Celery pattern: see the module docstring

    return services.report_job_run(job_id=job_id)


@shared_task(acks_late=True)
def build_nightly_transcript_reports() -> list[int]:
    from . import services  # the Celery pattern: see the module docstring

    return services.nightly_transcript_reports()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_transcript_report_emails(job_id: int) -> int:
    from . import services  # the Celery pattern: see the module docstring

    return services.transcript_report_emails_send(job_id=job_id)


@shared_task(acks_late=True)
def expire_report_files() -> int:
    from . import services  # the Celery pattern: see the module docstring

    return services.report_files_expire()


@shared_task(acks_late=True)
def refresh_dashboard_aggregates() -> int:
    from . import aggregates  # the Celery pattern: see the module docstring

    return aggregates.dashboard_aggregates_refresh()["rows"]
