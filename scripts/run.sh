#!/usr/bin/env bash
# Start the service in the foreground: venv, migrations, first admin, then gunicorn.
# HTTP_PORT and DATABASE_URL (environment or .env) override the defaults (:8000, var/cronjobs.db).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh requirements.txt
py=.venv/bin/python

$py -m src.cli migrate
$py -m src.cli ensure-admin

# Read the port through Settings so .env counts as well as the environment.
port=$($py -c 'from src.config import load_settings; print(load_settings().HTTP_PORT)')
host=${HTTP_HOST:-127.0.0.1}

# Until the nginx issue lands, gunicorn serves the Flask door (/api) on the public port.
exec .venv/bin/gunicorn 'src.flask_app.wsgi:create_wsgi_app()' \
  --bind "$host:$port" \
  --workers "${GUNICORN_WORKERS:-2}" --threads "${GUNICORN_THREADS:-4}" \
  --access-logfile - --error-logfile - \
  2>&1
