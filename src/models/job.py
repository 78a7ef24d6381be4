from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, new_id, utcnow


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    cron_expression: Mapped[str] = mapped_column(String(100))
    target_url: Mapped[str | None] = mapped_column(String(500))
    github_owner: Mapped[str | None] = mapped_column(String(255))
    github_repo: Mapped[str | None] = mapped_column(String(255))
    github_workflow_name: Mapped[str | None] = mapped_column(String(255))
    job_metadata: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100), default="general", index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    pic_team: Mapped[str | None] = mapped_column(String(100), index=True)
    enable_email_notifications: Mapped[bool] = mapped_column(Boolean, default=False)
    notification_emails: Mapped[str | None] = mapped_column(Text)
    notify_on_success: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Request settings (contract 7.8); null means today's behaviour for that setting.
    http_method: Mapped[str | None] = mapped_column(String(10))
    # A JSON object of header name -> value; values are write-only on the wire.
    http_headers: Mapped[str | None] = mapped_column(Text)
    request_body: Mapped[str | None] = mapped_column(Text)
    timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    max_retries: Mapped[int | None] = mapped_column(Integer)
    retry_backoff_seconds: Mapped[int | None] = mapped_column(Integer)
    # `whsec_<base64>` (Standard Webhooks); write-only on the wire.
    signing_secret: Mapped[str | None] = mapped_column(Text)
    # Failure policy, lateness and time zone (contract 7.9); null means off / the scheduler's zone.
    failure_threshold: Mapped[int | None] = mapped_column(Integer)
    grace_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Non-wire: the fire time (naive UTC) of the last late alert, so each late fire alerts once.
    late_alert_for: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, index=True
    )
