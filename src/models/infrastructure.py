"""Tables that are not part of the wire contract: token revocation, scheduler lease, deployment phase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, utcnow


class RevokedToken(Base):
    """A revoked JWT id, kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SchedulerLease(Base):
    """The single row whose holder is the deployment's scheduler leader."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(100))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class JobDeletion(Base):
    """A tombstone per deleted job, so the scheduler's incremental sync sees deletions cheaply."""

    __tablename__ = "job_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(36))
    deleted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class DeploymentPhase(Base):
    """The operator's migration phase (`side-by-side` or `cutover`), one row for the deployment.

    In the database rather than a file so every process on every host reads the same answer.
    """

    __tablename__ = "deployment_phase"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    phase: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginFailure(Base):
    """Recent failed logins per counter (pair, client or account), shared by every process.

    `key_hash` is a SHA-256 of the counter's subject, so typed identifiers are not kept readable.
    """

    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class TrustedLoginClient(Base):
    """An (account, client address) pair that logged in successfully lately (login throttle).

    Such a client is exempt from the account-wide and address-wide limits, so strangers cannot
    lock a user out from where they usually log in. `key_hash` is a SHA-256, as in login_failures.
    """

    __tablename__ = "trusted_login_clients"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(DateTime, index=True)
