"""Response bodies of the scheduler operations (contract 6.11)."""

from __future__ import annotations

from src.schemas.common import ApiModel, UtcInstant


class LeaderOut(ApiModel):
    owner_id: str
    hostname: str
    pid: int
    expires_at: UtcInstant


class NextRunOut(ApiModel):
    job_id: str
    job_name: str
    run_at: str  # scheduler-local ISO 8601 with offset (contract 1.6)


class SchedulerStatusResponse(ApiModel):
    scheduler_running: bool
    scheduler_is_leader: bool
    scheduled_jobs_count: int
    last_resync_at: UtcInstant
    host: str
    leader: LeaderOut | None
    next_runs: list[NextRunOut]


class SchedulerResyncResponse(ApiModel):
    message: str = "Scheduler resync completed"
    ran_at: UtcInstant
    db_jobs_total: int
    db_jobs_active: int
    scheduled_now: int
    scheduled_added: int
    scheduled_removed: int
    expired_auto_paused: int
    orphaned_removed: int
    invalid_cron: int
