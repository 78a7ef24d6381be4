"""cron-job-backend: one core, two doors (Flask under /api, FastAPI under /api/v2)."""

APP_VERSION = "2.0.0"
