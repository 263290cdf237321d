import os
import tempfile

from celery import Celery

from sers import logs, request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")

# A worker that exposes its metrics (SERS_WORKER_METRICS_PORT, see sers/metrics.py) counts
# in prometheus_client's multiprocess mode, so the prefork pool's children are in them:
# each process writes its numbers to files in PROMETHEUS_MULTIPROC_DIR, which must be set
# before prometheus_client is first imported (here, before Django starts). Unless one is
# given, a fresh empty folder of this worker's own.
if os.environ.get("SERS_WORKER_METRICS_PORT") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sers-worker-metrics-")

app = Celery("sers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Logs (sers/logs.py, sers/request_id.py): the worker keeps Django's LOGGING, and a task
# carries the request id of the request that sent it.
logs.connect_celery_signals()
request_id.connect_celery_signals()
