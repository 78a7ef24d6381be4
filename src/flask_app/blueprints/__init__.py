"""One blueprint per domain, all under /api (health also un-prefixed)."""

from __future__ import annotations

from flask import Flask

from src.flask_app.blueprints import (
    auth,
    categories,
    executions,
    health,
    jobs,
    notifications,
    pic_teams,
    scheduler,
    settings,
    users,
)

API_PREFIX = "/api"


def register_blueprints(app: Flask) -> None:
    for module in (health, auth, users, jobs, executions, categories, pic_teams, notifications, settings, scheduler):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
    app.add_url_rule("/health", "health_unprefixed", health.health)
