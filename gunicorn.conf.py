"""gunicorn's settings file, read from the working directory (the Dockerfile's /app, or
the checkout) by every `gunicorn sers.wsgi:application`; the command line still wins.

Metrics (README: Metrics): the workers count in prometheus_client's multiprocess mode, so
that /metrics shows every worker's numbers merged, not only the one that answered it.
Each process writes to files in PROMETHEUS_MULTIPROC_DIR; it must be set before the
workers import the app (this file runs first, in the master) and be empty at start.
Unless one is given, each master takes a fresh folder of its own, and removes it on exit.
"""

import os
import shutil
import tempfile

_created_dir = ""
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _created_dir = tempfile.mkdtemp(prefix="sers-gunicorn-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_dir


def on_starting(server):
    """Start from an empty folder: files left by an earlier run would be counted again."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    """A worker that ended (--max-requests, a timeout, a crash): its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _created_dir:
        shutil.rmtree(_created_dir, ignore_errors=True)
