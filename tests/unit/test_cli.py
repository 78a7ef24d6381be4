"""Operator commands against a migrated SQLite copy: admin creation and the one-time password."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.cli import main
from src.core.passwords import verify_password
from src.models import User
from tests.conftest import Factory
from tests.settings_env import SAFE_PRODUCTION, isolate_settings


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """The CLI reads settings like production does, here from this test's environment only."""
    isolate_settings(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", database_url)


def admins(db: Session) -> list[User]:
    db.expire_all()
    return list(db.scalars(select(User).where(User.role == "admin")))


def test_create_admin_from_flags_creates_an_admin_who_can_log_in(db: Session) -> None:
    code = main(["create-admin", "--username", "root", "--email", "Root@Example.com", "--password", "s3cret-pass"])
    assert code == 0
    [admin] = admins(db)
    assert (admin.username, admin.email, admin.is_active) == ("root", "root@example.com", True)
    assert verify_password("s3cret-pass", admin.password_hash)


def test_create_admin_with_taken_username_fails_and_says_why(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-admin", "--username", "root", "--email", "a@example.com", "--password", "s3cret-pass"]) == 0
    code = main(["create-admin", "--username", "root", "--email", "b@example.com", "--password", "s3cret-pass"])
    assert code == 1
    assert "Username already exists" in capsys.readouterr().err
    assert len(admins(db)) == 1


def test_create_admin_without_terminal_needs_every_flag(monkeypatch: pytest.MonkeyPatch, db: Session) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(SystemExit, match="password is required"):
        main(["create-admin", "--username", "root", "--email", "root@example.com"])
    assert admins(db) == []


def test_ensure_admin_in_development_prints_a_generated_password_once(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ensure-admin"]) == 0
    first = capsys.readouterr().out
    match = re.search(r"generated password for 'admin': (\S+)", first)
    assert match is not None
    [admin] = admins(db)
    assert verify_password(match.group(1), admin.password_hash)

    assert main(["ensure-admin"]) == 0
    assert capsys.readouterr().out == ""
    assert len(admins(db)) == 1


def test_ensure_admin_never_prints_a_configured_password(
    monkeypatch: pytest.MonkeyPatch, db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_USERNAME", "boss")
    monkeypatch.setenv("ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "configured-pass")
    assert main(["ensure-admin"]) == 0
    out = capsys.readouterr().out
    assert "configured-pass" not in out
    assert "first admin 'boss' created" in out
    [admin] = admins(db)
    assert verify_password("configured-pass", admin.password_hash)


def test_ensure_admin_in_production_without_admin_settings_explains_how_to_create_one(
    monkeypatch: pytest.MonkeyPatch, db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert main(["ensure-admin"]) == 0
    assert "python -m src.cli create-admin" in capsys.readouterr().out
    assert admins(db) == []


def test_commands_refuse_unsafe_production_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLASK_ENV", "production")
    assert main(["ensure-admin"]) == 2
    assert "SECRET_KEY" in capsys.readouterr().err


def _lease(db: Session, *, pid: int, acquired_ago: float, expires_in: float) -> None:
    from datetime import timedelta

    from src.models import SchedulerLease, utcnow

    now = utcnow()
    db.add(SchedulerLease(name="scheduler", owner_id=f"host-a:{pid}:abcd", hostname="host-a", pid=pid,
                          acquired_at=now - timedelta(seconds=acquired_ago),
                          expires_at=now + timedelta(seconds=expires_in)))
    db.commit()


def test_scheduler_status_prints_the_lease_holder_and_next_fires(
    db: Session, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    factory.job(None, name="every-minute", cron_expression="* * * * *")
    _lease(db, pid=4242, acquired_ago=600, expires_in=30)
    assert main(["scheduler", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    leader = status["leader"]
    assert (leader["owner_id"], leader["hostname"], leader["pid"]) == ("host-a:4242:abcd", "host-a", 4242)
    assert leader["since"] < leader["expires_at"] and leader["since"].endswith("Z")
    assert status["last_leader"] is None
    assert len(status["next_runs"]) == 10
    assert {run["job_name"] for run in status["next_runs"]} == {"every-minute"}


def test_scheduler_status_reports_the_database_not_this_process(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    _lease(db, pid=4242, acquired_ago=600, expires_in=30)
    assert main(["scheduler", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    # Nothing of the CLI process itself (it runs no scheduler): no running/is-leader flags of its own.
    assert not {"scheduler_running", "scheduler_is_leader", "scheduled_jobs_count"} & set(status)
    assert status["leader"]["pid"] != os.getpid()


def test_scheduler_status_names_an_expired_holder_as_the_last_leader(
    db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    _lease(db, pid=77, acquired_ago=600, expires_in=-30)
    assert main(["scheduler", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["leader"] is None
    assert status["last_leader"]["pid"] == 77


def test_phase_show_prints_the_lease_holder_and_the_next_runs(
    db: Session, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    job = factory.job(None, name="nightly", cron_expression="0 2 * * *")
    _lease(db, pid=4242, acquired_ago=600, expires_in=30)
    assert main(["phase", "show"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"scheduler leader: host-a:4242:abcd \(pid 4242 on host-a\), since \S+Z, "
                     r"lease expires \S+Z", out), out
    assert re.search(rf"^  \S+  nightly \({job.id}\)$", out, re.MULTILINE), out


def test_phase_side_by_side_refuses_without_the_legacy_door_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, db: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    from src.core.phases import read_phase, set_phase

    set_phase(db, "cutover")
    db.commit()
    monkeypatch.setattr("src.config.legacy_door_installed", lambda: False)
    monkeypatch.setattr("src.core.phases.legacy_door_installed", lambda: False)
    assert main(["phase", "side-by-side", "--force"]) == 1
    assert "side-by-side needs the legacy Flask door" in capsys.readouterr().err
    db.expire_all()
    assert read_phase(db) == "cutover"


def test_phase_show_without_the_legacy_door_says_cutover_is_in_force(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("src.config.legacy_door_installed", lambda: False)
    monkeypatch.setattr("src.core.phases.legacy_door_installed", lambda: False)
    assert main(["phase", "show"]) == 0
    out = capsys.readouterr().out
    assert "phase: cutover" in out and "/api served by: fastapi" in out
    assert "legacy door: absent" in out
