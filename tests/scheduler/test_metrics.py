"""The scheduler's Prometheus series: fire outcomes, fire lag, lease holder, failed notifications."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import JobExecution, SlackSettings, User
from src.scheduler.executor import execute_job
from src.scheduler.host import SchedulerHost
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory
from tests.scheduler.conftest import InstantsTrigger, fire_soon, wait_until
from tests.scheduler.conftest import TimedReceiver as Receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # One dispatch slot, so a second fire at the same instant waits for the first one's run.
    return {"SCHEDULER_HOST": "fastapi", "SCHEDULER_LEASE_SECONDS": 3, "SCHEDULER_MAX_CONCURRENT_RUNS": 1}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def sample(services: ExecutionServices, name: str, **labels: str) -> float | None:
    return services.metrics.registry.get_sample_value(name, labels)


def finished(db: Session) -> list[JobExecution]:
    db.expire_all()
    return [e for e in db.scalars(select(JobExecution)) if e.status != "running"]


async def test_fires_count_their_outcome_while_the_host_holds_the_lease(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    receiver.respond("/hook/broken", 500, "boom")
    ok = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/ok")
    broken = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/broken")
    host = SchedulerHost(services, "fastapi")
    host.start()
    try:
        await wait_until(lambda: host.is_leader)
        leading = sample(services, "scheduler_lease_holder", host_kind="fastapi")
        fire_soon(host.runtime, ok.id)
        fire_soon(host.runtime, broken.id)
        await wait_until(lambda: len(finished(db)) == 2)
    finally:
        await host.stop()
    assert leading == 1.0
    assert sample(services, "scheduler_lease_holder", host_kind="fastapi") == 0.0
    assert sample(services, "scheduler_fires_total", outcome="success") == 1.0
    assert sample(services, "scheduler_fires_total", outcome="failed") == 1.0
    assert sample(services, "scheduler_fire_failures_total") == 1.0
    assert sample(services, "scheduler_fire_lag_seconds_count") == 2.0


async def test_a_fire_waiting_for_the_only_slot_reports_the_wait_as_lag(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    receiver.delay("/hook/slow", 1.5)
    factory.job(owner, target_url=f"{receiver.url}/hook/slow")
    factory.job(owner, target_url=f"{receiver.url}/hook/slow")
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([at]))
    await runtime.start()
    try:
        await wait_until(lambda: len(finished(db)) == 2)
    finally:
        await runtime.stop()
    assert sample(services, "scheduler_fire_lag_seconds_count") == 2.0
    # Both were due at one instant; the second could start only after the first one's 1.5 s answer.
    assert sample(services, "scheduler_fire_lag_seconds_sum") >= 1.5  # type: ignore[operator]  # None here fails the test, as it should
    assert sample(services, "scheduler_fire_lag_seconds_bucket", le="1.0") <= 1.0  # type: ignore[operator]  # None here fails the test, as it should


async def test_a_fire_missed_beyond_the_grace_time_is_counted_as_missed(
    services: ExecutionServices, factory: Factory, owner: User, receiver: Receiver
) -> None:
    factory.job(owner, target_url=f"{receiver.url}/hook/m")
    now = datetime.now(UTC).replace(microsecond=0)
    grace = services.settings.SCHEDULER_MISFIRE_GRACE_SECONDS
    runtime = SchedulerRuntime(
        services, trigger_for=lambda _row: InstantsTrigger([now - timedelta(seconds=grace + 60)])
    )
    try:
        await runtime.start(covered_until=(now - timedelta(seconds=grace + 120)).replace(tzinfo=None))
        await wait_until(lambda: runtime.missed_fires == 1)
    finally:
        await runtime.stop()
    assert sample(services, "scheduler_fires_total", outcome="missed") == 1.0
    assert sample(services, "scheduler_fire_failures_total") == 0.0


async def test_a_fire_already_run_by_another_scheduler_counts_as_duplicate_and_manual_runs_not_at_all(
    services: ExecutionServices, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook/d")
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    assert await execute_job(services, job.id, "scheduled", scheduled_for=at) is not None
    assert await execute_job(services, job.id, "scheduled", scheduled_for=at) is None
    assert await execute_job(services, job.id, "manual") is not None
    assert sample(services, "scheduler_fires_total", outcome="success") == 1.0
    assert sample(services, "scheduler_fires_total", outcome="duplicate") == 1.0


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port held for the test (bound, never listening): every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class TestNotificationDeliveryFailures:
    @pytest.fixture
    def settings_overrides(self, refused_port: int) -> dict[str, Any]:
        # An SMTP server that is down.
        return {"MAIL_ENABLED": True, "MAIL_USERNAME": "mailer", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": refused_port}

    async def test_slack_and_email_down_are_counted_by_channel_and_the_run_is_still_recorded(
        self, refused_port: int, services: ExecutionServices, db: Session, factory: Factory, owner: User,
        receiver: Receiver
    ) -> None:
        db.add(SlackSettings(is_enabled=True, webhook_url=f"http://127.0.0.1:{refused_port}/slack"))
        db.commit()
        receiver.respond("/hook/n", 500, "boom")
        job = factory.job(owner, target_url=f"{receiver.url}/hook/n", enable_email_notifications=True,
                          notification_emails="ops@example.com")
        assert await execute_job(services, job.id, "manual") is not None
        assert [e.status for e in finished(db)] == ["failed"]
        assert sample(services, "notification_delivery_failures_total", channel="slack") == 1.0
        assert sample(services, "notification_delivery_failures_total", channel="email") == 1.0


class TestEmailSwitchedOff:
    @pytest.fixture
    def settings_overrides(self, refused_port: int) -> dict[str, Any]:
        return {"MAIL_ENABLED": False, "MAIL_USERNAME": "mailer", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": refused_port}

    async def test_email_switched_off_is_not_a_delivery_failure(
        self, services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
    ) -> None:
        receiver.respond("/hook/n", 500, "boom")
        job = factory.job(owner, target_url=f"{receiver.url}/hook/n", enable_email_notifications=True,
                          notification_emails="ops@example.com")
        assert await execute_job(services, job.id, "manual") is not None
        assert [e.status for e in finished(db)] == ["failed"]
        assert sample(services, "notification_delivery_failures_total", channel="email") == 0.0
