"""gunicorn settings module (`gunicorn -c python:src.deploy.gunicorn_conf ...`).

- gunicorn's own lines (master and workers) in the apps' JSON format, on stdout.
- The worker: gthread whose pool grows by one thread per request waiting on a run.
- One `/metrics` for all workers: each worker is a process with its own counters, and a scrape
  reaches whichever worker accepts it, so the workers write their values to files in
  PROMETHEUS_MULTIPROC_DIR and every scrape renders their sum (src/observability/metrics.py).
  The variable is set here, in the master, before any worker imports prometheus_client; an
  operator may set it to a directory of their own, which is emptied at start.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from src.observability.json_logs import logging_config

logconfig_dict = logging_config()
# gthread whose pool adds a thread while a manual or test run keeps one waiting on its target,
# so slow targets never hold every thread (src/flask_app/gunicorn_worker.py). `--threads` still sets
# the pool's size.
worker_class = "src.flask_app.gunicorn_worker.CompensatingThreadWorker"

# nginx limits the request line and each header to 8 KiB and answers the envelope beyond; these
# match it, so gunicorn's own HTML refusal (4 KiB line by default) is never what a client sees.
limit_request_line = 8190
limit_request_field_size = 8190

_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cronjobs-flask-metrics-")
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(_server: Any) -> None:
    """Values left by a previous run would be added to this run's."""
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink()


def child_exit(_server: Any, worker: Any) -> None:
    """A dead worker no longer holds the scheduler lease (its counters stay in the sum)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(METRICS_DIR))


def on_exit(_server: Any) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
