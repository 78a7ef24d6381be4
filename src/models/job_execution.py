from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, new_id, utcnow


class JobExecution(Base):
    __tablename__ = "job_executions"
    __table_args__ = (
        # One row per scheduled fire: a second scheduler's insert loses (contract 8.2).
        UniqueConstraint("job_id", "scheduled_for"),
        Index("ix_job_executions_job_id_started_at", "job_id", "started_at"),
        Index("ix_job_executions_status_started_at", "status", "started_at"),
        Index("ix_job_executions_trigger_type_started_at", "trigger_type", "started_at"),
        Index("ix_job_executions_execution_type_started_at", "execution_type", "started_at"),
        # Statistics group by status and average the duration: served from this index alone.
        Index("ix_job_executions_status_duration_seconds", "status", "duration_seconds"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    trigger_type: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    execution_type: Mapped[str | None] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(500))
    response_status: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    # Calls made for this run (1 + retries); null for rows from before retries existed.
    attempts: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The first 1 KB of the last response body when it is text.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    # Non-wire: the scheduled fire time (naive UTC); null for manual runs.
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime)
