"""gunicorn settings module (`gunicorn -c python:src.deploy.gunicorn_conf ...`).

gunicorn's own lines (master and workers) in the apps' JSON format, on stdout.
"""

from __future__ import annotations

from src.observability.json_logs import logging_config

logconfig_dict = logging_config()
