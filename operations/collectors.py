"""Metrics read when Prometheus scrapes (operations/metrics_view.py), never during a
request: report jobs by state, the Celery queues' depth in Redis, and the age of each
scheduled job's last success. Each is a few cheap reads; a failing source is logged and
left out of the scrape rather than failing it. Labels hold states, queue and job names
only."""

import logging
import math

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from operations.models import ScheduledJobRun
from reports.models import ReportJob

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's messages of priority N > 0 under name + SEP + N.
PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)


class ReportJobsCollector(Collector):
    """sers_report_jobs{status}: how many report jobs are in each state now."""

    def collect(self):
        family = GaugeMetricFamily(
            "sers_report_jobs", "Report jobs by state, now.", labels=["status"]
        )
        try:
            counts = dict(
                ReportJob.objects.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        except Exception:
            logger.exception("metrics: could not count the report jobs")
            return
        for status in ReportJob.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family


class ScheduledJobsCollector(Collector):
    """sers_scheduled_job_last_success_age_seconds{job}: seconds since each scheduled job
    (CELERY_BEAT_SCHEDULE) last succeeded; +Inf for a job that never has."""

    def collect(self):
        family = GaugeMetricFamily(
            "sers_scheduled_job_last_success_age_seconds",
            "Seconds since the scheduled job last succeeded (+Inf: never).",
            labels=["job"],
        )
        try:
            succeeded = dict(ScheduledJobRun.objects.values_list("name", "last_succeeded_at"))
        except Exception:
            logger.exception("metrics: could not read the scheduled jobs' runs")
            return
        now = timezone.now()
        for name in sorted(settings.CELERY_BEAT_SCHEDULE):
            last = succeeded.get(name)
            age = (now - last).total_seconds() if last is not None else math.inf
            family.add_metric([name], max(age, 0.0))
        yield family


def celery_queue_names() -> list[str]:
    from sers.celery import app

    queues = app.conf.task_queues
    if queues:
        return sorted(queue.name for queue in queues)
    return [app.conf.task_default_queue or "celery"]


class CeleryQueueCollector(Collector):
    """sers_celery_queue_length{queue}: messages waiting in each Celery queue (Redis LLEN,
    every priority). Nothing without a Redis broker (tasks then run in-process)."""

    def __init__(self, client=None):
        self._client = client

    def client(self):
        if self._client is not None:
            return self._client
        url = settings.CELERY_BROKER_URL
        if not str(url).startswith(("redis://", "rediss://", "unix://")):
            return None
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return self._client

    def collect(self):
        client = self.client()
        if client is None:
            return
        family = GaugeMetricFamily(
            "sers_celery_queue_length", "Messages waiting in the Celery queue.", labels=["queue"]
        )
        try:
            names = celery_queue_names()
            # SERS_REDIS_PREFIX: the broker's keys carry the deployment's prefix.
            prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
            pipe = client.pipeline(transaction=False)
            for name in names:
                for step in PRIORITY_STEPS:
                    pipe.llen(prefix + (f"{name}{PRIORITY_SEP}{step}" if step else name))
            lengths = pipe.execute()
        except Exception:
            logger.exception("metrics: could not read the Celery queues")
            return
        per_queue = len(PRIORITY_STEPS)
        for index, name in enumerate(names):
            family.add_metric([name], sum(lengths[index * per_queue : (index + 1) * per_queue]))
        yield family


_collectors: list[Collector] = []


def scrape_collectors() -> list[Collector]:
    """The collectors the metrics endpoint adds to its registry (one set per process, so
    the Redis client and its connections are reused)."""
    if not _collectors:
        _collectors.extend(
            [ReportJobsCollector(), ScheduledJobsCollector(), CeleryQueueCollector()]
        )
    return _collectors
