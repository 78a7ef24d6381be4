"""The deployment phase: which door serves `/api` and which process kind hosts the scheduler.

- `side-by-side`: nginx sends `/api/*` to Flask and `/api/v2/*` to FastAPI; Flask hosts the scheduler.
- `cutover`: nginx rewrites `/api/*` to `/api/v2/*` (FastAPI); the FastAPI lifespan hosts it.

Stored as one database row so every process of the deployment, on any host, reads the same
answer with the connection it already has. No row means the operator never switched: routing is
side-by-side and the scheduler follows the static `SCHEDULER_HOST` setting. Where the legacy
door is not installed (Phase 8 deleted it) the phase in force is cutover, whatever is stored.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from src.config import legacy_door_installed
from src.models import DeploymentPhase, utcnow

Phase = Literal["side-by-side", "cutover"]
PHASES: tuple[Phase, ...] = ("side-by-side", "cutover")
DEFAULT_PHASE: Phase = "side-by-side"
ROW_NAME = "deployment"

# Which process kind hosts the scheduler, and which door answers `/api/*`, in each phase.
SCHEDULER_KIND: dict[str, str] = {"side-by-side": "flask", "cutover": "fastapi"}
API_DOOR: dict[str, str] = {"side-by-side": "flask", "cutover": "fastapi"}


def read_phase(connection: Session | Connection) -> Phase | None:
    """The stored phase, or None when no operator ever set one."""
    stored = connection.execute(
        select(DeploymentPhase.phase).where(DeploymentPhase.name == ROW_NAME)
    ).scalar_one_or_none()
    return stored if stored in PHASES else None


def phase_in_force(stored: Phase | None) -> Phase:
    """The phase that routes and hosts: cutover without the legacy door, else the stored or default."""
    if not legacy_door_installed():
        return "cutover"
    return stored or DEFAULT_PHASE


def set_phase(session: Session, phase: str) -> None:
    """Record the phase (the caller commits)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; expected one of {', '.join(PHASES)}")
    row = session.get(DeploymentPhase, ROW_NAME)
    if row is None:
        session.add(DeploymentPhase(name=ROW_NAME, phase=phase, changed_at=utcnow()))
    else:
        row.phase = phase
        row.changed_at = utcnow()
    session.flush()


def scheduler_kind(phase: Phase | None, configured_host: str) -> str:
    """The process kind that competes for the lease: the phase's, else `SCHEDULER_HOST`.

    Without the legacy door only FastAPI can host, even with an old `SCHEDULER_HOST=flask`.
    """
    configured = configured_host.strip().lower()
    if configured not in ("flask", "fastapi"):
        return "none"
    if not legacy_door_installed():
        return "fastapi"
    return SCHEDULER_KIND[phase] if phase is not None else configured
