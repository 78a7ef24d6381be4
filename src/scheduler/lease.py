"""Leader lease in the database: one row (`scheduler_lease.name = "scheduler"`) names the process
that may run APScheduler. Replaces any PID lock file; works across hosts on PostgreSQL.

- Acquire and renew are one conditional statement each (UPDATE ... WHERE owner is me OR the lease
  expired; INSERT ... ON CONFLICT DO NOTHING for the very first row), atomic on SQLite and
  PostgreSQL, so two contenders can never both win.
- The holder trusts its lease only until `lease_seconds - safety margin` after it SENT the renewal
  (monotonic clock): a holder that cannot renew (database down, event loop stalled) stops firing
  before anyone else can take over.
- Expiry is compared with the writer's wall clock (naive UTC): hosts must keep their clocks in sync
  (NTP). A skew can only make two leaders overlap briefly; the unique (job, scheduled fire time)
  insert of the executor still dispatches each fire once.
- A clean release keeps the row but sets `expires_at` to now, so the next leader knows when the
  previous one last covered the schedule (used to find fires missed while nobody led).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from src.models import SchedulerLease, utcnow

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class LeaseInfo:
    """What the lease row says."""

    owner_id: str
    hostname: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def live(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or utcnow())


def new_owner_id() -> str:
    """An id unique to this process and this start: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def read_lease(session: Session) -> LeaseInfo | None:
    """The lease row (live or not), or None before anyone ever led."""
    row = session.get(SchedulerLease, LEASE_NAME)
    if row is None:
        return None
    return LeaseInfo(row.owner_id, row.hostname, row.pid, row.acquired_at, row.expires_at)


def current_leader(session: Session) -> LeaseInfo | None:
    """The deployment-wide leader: the lease holder while its lease is live, else None."""
    lease = read_lease(session)
    return lease if lease is not None and lease.live() else None


def _insert_first_row(connection: Connection, values: dict[str, object]) -> int:
    dialect = connection.dialect.name
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(SchedulerLease).values(**values).on_conflict_do_nothing(
            index_elements=["name"]
        )
    else:
        statement = sqlite.insert(SchedulerLease).values(**values).on_conflict_do_nothing(
            index_elements=["name"]
        )
    return connection.execute(statement).rowcount


def try_acquire(connection: Connection, owner_id: str, lease_seconds: float) -> tuple[bool, LeaseInfo | None]:
    """Acquire or renew in one statement; returns (won, the row as it was before).

    The previous row tells a new leader until when the old one covered the schedule.
    """
    table = cast(Table, SchedulerLease.__table__)  # a mapped class's table is a Table, typed FromClause
    now = utcnow()
    previous_row = connection.execute(select(table).where(table.c.name == LEASE_NAME)).first()
    previous = (
        LeaseInfo(previous_row.owner_id, previous_row.hostname, previous_row.pid,
                  previous_row.acquired_at, previous_row.expires_at)
        if previous_row is not None else None
    )
    values = {
        "owner_id": owner_id,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "expires_at": now + timedelta(seconds=lease_seconds),
    }
    still_mine = and_(table.c.owner_id == owner_id, table.c.expires_at > now)
    result = connection.execute(
        update(table)
        .where(table.c.name == LEASE_NAME, or_(table.c.owner_id == owner_id, table.c.expires_at <= now))
        .values(acquired_at=case((still_mine, table.c.acquired_at), else_=now), **values)
    )
    if result.rowcount == 1:
        return True, previous
    if previous is not None:
        return False, previous
    won = _insert_first_row(connection, {"name": LEASE_NAME, "acquired_at": now, **values}) == 1
    return won, previous


def release(connection: Connection, owner_id: str) -> bool:
    """Expire our lease now (clean shutdown), so another process can take over at once."""
    table = cast(Table, SchedulerLease.__table__)  # a mapped class's table is a Table, typed FromClause
    result = connection.execute(
        update(table)
        .where(table.c.name == LEASE_NAME, table.c.owner_id == owner_id)
        .values(expires_at=utcnow())
    )
    return result.rowcount == 1


class Lease:
    """This process's view of the lease: acquire/renew, local validity, release."""

    def __init__(self, engine: AsyncEngine, lease_seconds: float, owner_id: str | None = None) -> None:
        self.engine = engine
        self.lease_seconds = float(lease_seconds)
        self.owner_id = owner_id or new_owner_id()
        # Stop trusting the lease a little before it expires in the database.
        self.safety_margin = min(2.0, self.lease_seconds / 5)
        self._valid_until = 0.0
        self.previous: LeaseInfo | None = None
        # Wall-clock time (naive UTC) of our last successful renewal, and whether our trust in
        # the lease lapsed before the renewal that followed (fires were refused meanwhile).
        self.last_renewed_at: datetime | None = None
        self.lapsed = False

    @property
    def heartbeat_seconds(self) -> float:
        """How often to renew (and how often a follower tries to take over)."""
        return max(0.2, self.lease_seconds / 3)

    def held(self) -> bool:
        """True while our last successful renewal is recent enough to trust."""
        return time.monotonic() < self._valid_until

    async def acquire_or_renew(self) -> bool:
        """One attempt; True when we hold the lease afterwards. Never raises."""
        sent_at = time.monotonic()
        sent_wall = utcnow()
        had_trust = self._valid_until > 0.0
        try:
            async with self.engine.begin() as connection:
                won, previous = await connection.run_sync(try_acquire, self.owner_id, self.lease_seconds)
        except Exception:  # noqa: BLE001 - a database hiccup means "not leader", not a crash
            self._valid_until = 0.0
            return False
        if won:
            trusted = self.held()
            if not trusted:
                self.previous = previous
            self.lapsed = had_trust and not trusted
            self._valid_until = sent_at + self.lease_seconds - self.safety_margin
            self.last_renewed_at = sent_wall
        else:
            self._valid_until = 0.0
            self.lapsed = False
        return won

    def drop(self) -> None:
        """Stop trusting the lease locally (it will expire in the database)."""
        self._valid_until = 0.0

    async def release(self) -> None:
        """Give the lease up now; never raises."""
        self._valid_until = 0.0
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(release, self.owner_id)
        except Exception:  # noqa: BLE001 - the lease expires by itself anyway
            pass

    def covered_until(self) -> datetime | None:
        """When the previous leader last renewed (its coverage end), or None if nobody led before."""
        if self.previous is None:
            return None
        return self.previous.expires_at - timedelta(seconds=self.lease_seconds)
