"""One blueprint per domain, all under /api (health also un-prefixed)."""

from __future__ import annotations

from flask import Flask

from src.flask_app.blueprints import (
    auth,
    bulk_upload,
    categories,
    cron_tools,
    executions,
    health,
    jobs,
    manual_executions,
    notifications,
    pic_teams,
    scheduler,
    settings,
    users,
)

API_PREFIX = "/api"


def register_blueprints(app: Flask) -> None:
    modules = (
        health, auth, users, jobs, manual_executions, bulk_upload, cron_tools, executions,
        categories, pic_teams, notifications, settings, scheduler,
    )
    for module in modules:
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    app.add_url_rule("/health", "health_unprefixed", health.health)
