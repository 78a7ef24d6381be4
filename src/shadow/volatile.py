"""Fields that legitimately differ between the two doors' answers to one read, per route.

Paths use `$` for the body and `[*]` for any list item. Everything not listed here must match.
"""

from __future__ import annotations

# Facts about the answering process, not the data: in side-by-side the Flask process hosts the
# scheduler and FastAPI does not, and each stamps its own clock.
PROCESS_FACTS_HEALTH = frozenset({"$.timestamp", "$.scheduler_running", "$.scheduled_jobs_count"})
PROCESS_FACTS_SCHEDULER = frozenset({
    "$.scheduler_running", "$.scheduler_is_leader", "$.scheduled_jobs_count", "$.last_resync_at",
})

VOLATILE_FIELDS: dict[str, frozenset[str]] = {
    "GET /api/health": PROCESS_FACTS_HEALTH,
    "GET /api/scheduler/status": PROCESS_FACTS_SCHEDULER,
}


def volatile_fields(route: str) -> frozenset[str]:
    """The declared volatile paths of a route label (`GET /api/health`); HEAD shares GET's."""
    method, _, template = route.partition(" ")
    return VOLATILE_FIELDS.get(f"GET {template}" if method == "HEAD" else route, frozenset())
