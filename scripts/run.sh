#!/usr/bin/env bash
# Start the service in the foreground: venv (requirements.txt, plus requirements-legacy.txt while it
# exists), migrations, first admin, then the supervisor (`python -m src.cli serve`): gunicorn (Flask,
# FLASK_PORT), uvicorn (FastAPI, FASTAPI_PORT) and a private nginx on HTTP_PORT, logs labelled
# [flask]/[fastapi]/[nginx]; Ctrl-C stops all three. Without the legacy door (Phase 8 deleted it) no
# gunicorn starts and FastAPI serves /api too (cutover). Without an nginx binary it serves the
# embedded composition (src/asgi.py) on HTTP_PORT instead.
# HTTP_PORT, FASTAPI_PORT, FLASK_PORT and DATABASE_URL (environment or .env) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
VENV=$venv scripts/venv.sh requirements.txt
py=$venv/bin/python

$py -m src.cli migrate
$py -m src.cli ensure-admin

exec $py -m src.cli serve
