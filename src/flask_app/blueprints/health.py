from flask import Blueprint, Response

from src.core.health import health_body, ping_database
from src.flask_app.door import db_session, render, runtime

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    ping_database(db_session())
    state = runtime().scheduler_state()
    return render(health_body(scheduler_running=state.running, scheduled_jobs_count=state.scheduled_jobs_count))
