"""Jobs CRUD (contract 4.1–4.5, 7.1, 7.5, 8.5): validation, ownership, broadcasts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import job_fields as fields
from src.core import request_settings
from src.core.broadcasts import notify_all_users
from src.core.errors import Forbidden, Invalid, NotFound, read_field
from src.core.row_locks import get_locked
from src.core.scheduler_sync import record_job_deletion
from src.models import Job, JobExecution, Notification, User, utcnow
from src.schemas.job_bodies import INVALID_END_DATE, REQUIRED_CREATE_KEYS, JobCreateRequest, JobUpdateRequest

_GITHUB_KEYS = ("github_owner", "github_repo", "github_workflow_name")


# --- reads ---------------------------------------------------------------------------------


def list_jobs(session: Session) -> list[Any]:
    """Every job, newest first (all roles see all jobs).

    Read-only rows carrying the `Job` attribute names (plain columns, no ORM instances: the list
    is only rendered, and building mapped objects would cost more than the rest of it).
    """
    return list(session.execute(select(*Job.__table__.columns).order_by(Job.created_at.desc(), Job.id)))


def get_job(session: Session, job_id: str, *, for_update: bool = False) -> Job:
    """The job with this id, or 404 "Job not found".

    `for_update` first takes the row's write lock, so concurrent edits of one job run one after
    another and each validates against the row the previous one committed (no mixed rows).
    """
    job = get_locked(session, Job, job_id) if for_update else session.get(Job, job_id)
    if job is None:
        raise NotFound("Job not found", f"No job found with ID: {job_id}")
    return job


def last_execution_times(session: Session, job_ids: Iterable[str] | None = None) -> dict[str, datetime]:
    """Max `started_at` per job in one grouped query (all jobs when `job_ids` is None)."""
    query = select(JobExecution.job_id, func.max(JobExecution.started_at)).group_by(JobExecution.job_id)
    if job_ids is not None:
        ids = list(job_ids)
        if not ids:
            return {}
        query = query.where(JobExecution.job_id.in_(ids))
    return {job_id: started for job_id, started in session.execute(query) if started is not None}


# --- authorization -------------------------------------------------------------------------


def can_modify(user: User, job: Job) -> bool:
    """7.5: admins modify any job; users only their own (never an ownerless one); viewers none."""
    if user.role == "admin":
        return True
    return user.role == "user" and job.created_by is not None and job.created_by == user.id


def _require_modify(user: User, job: Job, verb: str) -> None:
    if not can_modify(user, job):
        raise Forbidden("Insufficient permissions", f"You can only {verb} your own jobs")


# --- create --------------------------------------------------------------------------------


def _insert_or_duplicate(session: Session, job: Job, error: Invalid) -> None:
    """Flush inside a savepoint so a concurrent twin losing on the unique name gets the 400."""
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        raise error from None


def create_job(session: Session, settings: Settings, actor: User, payload: dict[str, Any]) -> Job:
    """Validate in the order of 7.1, insert, broadcast "New Job Created" (4.3)."""
    missing = [key for key in REQUIRED_CREATE_KEYS if key not in payload]
    if missing:
        raise Invalid("Missing required fields", None, missing_fields=missing)

    def read(key: str) -> Any:
        return read_field(JobCreateRequest, payload, key)

    name = read("name")
    if fields.job_name_taken(session, name):
        raise fields.duplicate_name_error(name)
    cron_expression = read("cron_expression")
    target = fields.split_target_url(read("target_url"), *(read(key) for key in _GITHUB_KEYS))
    category = fields.resolve_category_or_error(session, read("category"))
    metadata = read("metadata")
    emails = read("notification_emails")
    end_date = read("end_date")
    if end_date is None:
        raise Invalid("Missing required fields", '"end_date" is required (YYYY-MM-DD).')
    fields.check_end_date_not_past(end_date, settings)
    pic_team = fields.resolve_active_team(session, fields.pic_team_input(payload))
    target = fields.with_default_owner(target, settings)
    if not target.is_complete:
        raise fields.missing_target_error()
    request_columns = request_settings.column_values(payload)

    email_enabled = read("enable_email_notifications")
    job = Job(
        name=name,
        cron_expression=cron_expression,
        target_url=target.target_url,
        github_owner=target.github_owner,
        github_repo=target.github_repo,
        github_workflow_name=target.github_workflow_name,
        job_metadata=json.dumps(metadata),
        category=category,
        end_date=end_date,
        pic_team=pic_team,
        enable_email_notifications=email_enabled,
        notification_emails=fields.emails_to_text(emails) if email_enabled else None,
        notify_on_success=email_enabled and read("notify_on_success"),
        created_by=actor.id,
        is_active=True,
        **request_columns,
    )
    _insert_or_duplicate(session, job, fields.duplicate_name_error(name))
    notify_all_users(
        session, "New Job Created", f'Job "{job.name}" was created by {actor.email}.', "info",
        related_job_id=job.id,
    )
    return job


# --- update --------------------------------------------------------------------------------


def _validated_changes(
    session: Session, settings: Settings, job: Job, payload: dict[str, Any]
) -> dict[str, Any]:
    """Rules of 7.1 for the keys present, then the expiry guard and target check of 4.4.

    Returns the new column values; nothing is applied to `job` here (all-or-nothing).
    """
    def read(key: str) -> Any:
        return read_field(JobUpdateRequest, payload, key)

    values: dict[str, Any] = {}
    if "name" in payload:
        name = read("name")
        if fields.job_name_taken(session, name, exclude_id=job.id):
            raise fields.duplicate_name_error(name, on_update=True)
        values["name"] = name
    if "cron_expression" in payload:
        values["cron_expression"] = read("cron_expression")

    target = fields.TargetFields(job.target_url, job.github_owner, job.github_repo, job.github_workflow_name)
    github = {key: read(key) if key in payload else getattr(target, key) for key in _GITHUB_KEYS}
    if "target_url" in payload:
        target = fields.split_target_url(read("target_url"), *github.values())
    else:
        target = fields.TargetFields(target.target_url, *github.values())

    if "category" in payload:
        values["category"] = fields.resolve_category_or_error(session, read("category"))
    if "metadata" in payload:
        values["job_metadata"] = json.dumps(read("metadata"))
    emails: list[str] | None = None
    if "notification_emails" in payload:
        emails = read("notification_emails")
    if "end_date" in payload:
        end_date = read("end_date")
        if end_date is None:
            raise Invalid(INVALID_END_DATE, "end_date is required (YYYY-MM-DD).")
        fields.check_end_date_not_past(end_date, settings)
        values["end_date"] = end_date
    if "pic_team" in payload or "pic_team_slug" in payload:
        values["pic_team"] = fields.resolve_active_team(session, fields.pic_team_input(payload))
    if "is_active" in payload:
        values["is_active"] = read("is_active")

    if values.get("is_active", job.is_active) and fields.is_expired(values.get("end_date", job.end_date), settings):
        raise Invalid(
            "Job expired",
            "Job cannot be enabled after end_date has passed. Update end_date first.",
        )
    target = fields.with_default_owner(target, settings)
    if not target.is_complete:
        raise Invalid(
            fields.MISSING_TARGET,
            "Job must have either target_url or complete GitHub Actions configuration",
        )
    values.update(
        target_url=target.target_url,
        github_owner=target.github_owner,
        github_repo=target.github_repo,
        github_workflow_name=target.github_workflow_name,
    )

    # Email fields in the order of 7.1: the switch, then the addresses, then success mails.
    enabled = job.enable_email_notifications
    stored_emails = job.notification_emails
    notify_on_success = job.notify_on_success
    if "enable_email_notifications" in payload:
        enabled = read("enable_email_notifications")
        if not enabled:
            stored_emails, notify_on_success = None, False
    if emails is not None:
        stored_emails = fields.emails_to_text(emails) if enabled else None
    if "notify_on_success" in payload:
        notify_on_success = enabled and read("notify_on_success")
    values.update(
        enable_email_notifications=enabled,
        notification_emails=stored_emails,
        notify_on_success=notify_on_success,
    )
    values.update(request_settings.column_values(payload))
    return values


def update_job(
    session: Session,
    settings: Settings,
    actor: User,
    job_id: str,
    read_body: Callable[[], dict[str, Any]],
) -> Job:
    """Partial update in the order of 4.4 (404, 403, body, fields, expiry, target); broadcasts."""
    job = get_job(session, job_id, for_update=True)
    _require_modify(actor, job, "update")
    payload = read_body()
    values = _validated_changes(session, settings, job, payload)

    was_active = job.is_active
    name_error = fields.duplicate_name_error(values.get("name", job.name), on_update=True)
    try:
        with session.begin_nested():
            for column, value in values.items():
                setattr(job, column, value)
            # Every successful update bumps updated_at, even `{}` (the scheduler watches it).
            job.updated_at = utcnow()
            session.flush()
    except IntegrityError:
        raise name_error from None

    if "is_active" in payload and job.is_active != was_active:
        title, verb, type_ = ("Job Enabled", "enabled", "info") if job.is_active else (
            "Job Disabled", "disabled", "warning")
    else:
        title, verb, type_ = "Job Updated", "updated", "info"
    notify_all_users(
        session, title, f'Job "{job.name}" was {verb} by {actor.email}.', type_,  # type: ignore[arg-type]  # type_ is one of the literals chosen above
        related_job_id=job.id,
    )
    return job


# --- delete --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeletedJob:
    id: str
    name: str


def delete_job(session: Session, actor: User, job_id: str) -> DeletedJob:
    """Delete a job and its executions; notifications about them stay with null references."""
    # Locked first: of concurrent deletes one finds the job and broadcasts, the others get 404.
    job = get_job(session, job_id, for_update=True)
    _require_modify(actor, job, "delete")
    deleted = DeletedJob(job.id, job.name)

    # Explicit, so it holds whether or not the database enforces ON DELETE actions.
    execution_ids = select(JobExecution.id).where(JobExecution.job_id == job.id)
    session.execute(
        update(Notification)
        .where(Notification.related_execution_id.in_(execution_ids))
        .values(related_execution_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Notification)
        .where(Notification.related_job_id == job.id)
        .values(related_job_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(JobExecution).where(JobExecution.job_id == job.id).execution_options(synchronize_session=False)
    )
    session.delete(job)
    # A tombstone in the same transaction: the scheduler's incremental sync sees the deletion.
    record_job_deletion(session, job.id)
    session.flush()

    notify_all_users(
        session, "Job Deleted", f'Job "{deleted.name}" was deleted by {actor.email}.', "warning"
    )
    return deleted
