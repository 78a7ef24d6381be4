#!/usr/bin/env bash
# Start the FastAPI door (/api/v2) alone with uvicorn on FASTAPI_PORT (default 8001).
# Assumes the virtualenv and migrations exist (`make run` or `make venv` + `python -m src.cli migrate`).
set -euo pipefail
cd "$(dirname "$0")"
py=.venv/bin/python
# Read the port through Settings so .env counts as well as the environment.
port=$($py -c 'from src.config import load_settings; print(load_settings().FASTAPI_PORT)')
exec .venv/bin/uvicorn --factory src.fastapi_app.main:create_app \
  --host "${FASTAPI_HOST:-127.0.0.1}" --port "$port" --proxy-headers --forwarded-allow-ips 127.0.0.1 \
  --http src.fastapi_app.server_refusals:EnvelopeHttpProtocol
