"""Operator commands: `python -m src.cli migrate | create-admin | ensure-admin | scheduler status | phase | parity |
prune | serve`.

Thin on purpose: each command builds settings and calls the core in a unit of work (src.core.unit_of_work).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from src.config import Settings, UnsafeProductionSettings, load_settings

CREATE_ADMIN_HINT = "python -m src.cli create-admin --username NAME --email ADDRESS"
NEXT_RUNS_SHOWN = 10


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    """Upgrade the database to the newest Alembic revision."""
    from src.database.migrate import upgrade_to_head

    upgrade_to_head(settings)
    print("database migrated to head")
    return 0


def _ask(value: str | None, prompt: str, *, secret: bool = False) -> str:
    """The flag's value, or an interactive answer when stdin is a terminal."""
    if value:
        return value
    if not sys.stdin.isatty():
        raise SystemExit(f"error: {prompt.lower()} is required (no terminal to ask on)")
    if not secret:
        return input(f"{prompt}: ").strip()
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} (again): ") != first:
        raise SystemExit("error: the two passwords differ")
    return first


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Create an admin account from flags or prompts."""
    from src.core.errors import CoreError
    from src.core.unit_of_work import command_unit_of_work
    from src.core.users import create_user

    username = _ask(args.username, "Username")
    email = _ask(args.email, "Email")
    password = _ask(args.password, "Password", secret=True)
    try:
        with command_unit_of_work(settings) as session:
            user = create_user(session, username=username, email=email, password=password, role="admin")
    except CoreError as exc:
        print(f"error: {exc.message or exc.error}", file=sys.stderr)
        return 1
    print(f"admin '{user.username}' created")
    return 0


def cmd_ensure_admin(settings: Settings, _args: argparse.Namespace) -> int:
    """Make sure an active admin exists; print a generated password once, never a configured one."""
    from src.core.errors import CoreError
    from src.core.unit_of_work import command_unit_of_work
    from src.core.users import ensure_first_admin, has_active_admin

    try:
        with command_unit_of_work(settings) as session:
            created = ensure_first_admin(session, settings)
            admin_exists = created is not None or has_active_admin(session)
    except CoreError as exc:
        print(f"error: {exc.message or exc.error}", file=sys.stderr)
        return 1
    if created is not None:
        user, generated_password = created
        print(f"first admin '{user.username}' created")
        if generated_password is not None:
            # Shown exactly once: only its hash is stored.
            print(f"generated password for '{user.username}': {generated_password}")
            print("change it after the first login")
    elif not admin_exists:
        print("no active admin exists and none was created: set ADMIN_USERNAME, ADMIN_EMAIL and "
              f"ADMIN_PASSWORD, or run: {CREATE_ADMIN_HINT}")
    return 0


def _deployment_scheduler(settings: Settings, next_runs_limit: int) -> dict[str, Any]:
    """Who hosts and who leads the scheduler deployment-wide, and the next fires: all from the
    database (the phase row, the lease row, the jobs), never from this CLI process."""
    from src.core.phases import phase_in_force, read_phase, scheduler_kind
    from src.core.scheduler_status import upcoming_fires
    from src.core.unit_of_work import command_unit_of_work
    from src.scheduler.lease import read_lease

    with command_unit_of_work(settings) as session:
        stored = read_phase(session)
        lease = read_lease(session)
        fires = upcoming_fires(session, settings, limit=next_runs_limit)
    holder = None if lease is None else {
        "owner_id": lease.owner_id, "hostname": lease.hostname, "pid": lease.pid,
        "since": _utc_text(lease.acquired_at), "expires_at": _utc_text(lease.expires_at),
    }
    live = lease is not None and lease.live()
    return {
        "phase": phase_in_force(stored),
        "hosted_by": scheduler_kind(stored, settings.SCHEDULER_HOST),
        # The live holder; an expired row is shown as the last leader (nobody leads now).
        "leader": holder if live else None,
        "last_leader": None if live else holder,
        "next_runs": [{"job_id": run.job_id, "job_name": run.job_name, "run_at": run.run_at} for run in fires],
    }


def _utc_text(naive_utc: datetime) -> str:
    return naive_utc.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def cmd_scheduler_status(settings: Settings, _args: argparse.Namespace) -> int:
    """Print the deployment's scheduler as JSON: phase, hosting kind, lease holder, next fires."""
    print(json.dumps(_deployment_scheduler(settings, NEXT_RUNS_SHOWN), indent=2))
    return 0


def _describe_scheduler(report: dict[str, Any]) -> list[str]:
    leader, last = report["leader"], report["last_leader"]
    if leader is not None:
        lines = [f"scheduler leader: {leader['owner_id']} (pid {leader['pid']} on {leader['hostname']}), "
                 f"since {leader['since']}, lease expires {leader['expires_at']}"]
    elif last is not None:
        lines = [f"scheduler leader: none (last: {last['owner_id']}, pid {last['pid']} on {last['hostname']}, "
                 f"lease expired {last['expires_at']})"]
    else:
        lines = ["scheduler leader: none (no process ever held the lease)"]
    lines.append("next runs:" if report["next_runs"] else "next runs: none (no active job)")
    lines += [f"  {run['run_at']}  {run['job_name']} ({run['job_id']})" for run in report["next_runs"]]
    return lines


def cmd_phase(settings: Settings, args: argparse.Namespace) -> int:
    """Show the phase, render its nginx config, or switch to side-by-side (rollback) / cutover."""
    from src.config import legacy_door_installed
    from src.core.phases import phase_in_force
    from src.deploy.nginx import NginxError, NginxInstance, default_prefix, find_nginx, render
    from src.deploy.phases import PhaseState, PhaseSwitchRefused, stored_phase, switch_phase

    binary = find_nginx()
    nginx = NginxInstance(binary, default_prefix()) if binary else None
    if args.action == "show":
        state = stored_phase(settings)
        print(PhaseState(phase_in_force(state.phase), state.stored).describe())
        if not legacy_door_installed():
            print("legacy door: absent (src/flask_app or Flask not installed): cutover is in force")
        print("\n".join(_describe_scheduler(_deployment_scheduler(settings, NEXT_RUNS_SHOWN))))
        if nginx is None:
            print("nginx: no binary found (embedded composition)")
        else:
            pid = nginx.running_pid()
            print(f"nginx: {'running, pid ' + str(pid) if pid else 'not running'} (prefix {nginx.prefix})")
        return 0
    if args.action == "render":
        if nginx is None:
            print("error: no nginx binary found (set NGINX_BIN)", file=sys.stderr)
            return 1
        phase = phase_in_force(stored_phase(settings).phase)
        try:
            print(f"nginx config for {phase} checked and written: {nginx.install(render(phase, settings))}")
        except NginxError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.action == "side-by-side" and not legacy_door_installed():
        # Not even --force: nothing could serve /api or host the scheduler in that phase.
        print("error: side-by-side needs the legacy Flask door, which is not installed here "
              "(src/flask_app or requirements-legacy.txt removed); the deployment stays at cutover",
              file=sys.stderr)
        return 1
    try:
        switch_phase(settings, args.action, nginx, force=args.force)
    except (PhaseSwitchRefused, NginxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_parity(settings: Settings, args: argparse.Namespace) -> int:
    """Shadow-read parity: the per-route report, or accepting one difference as explained."""
    from src.core.errors import CoreError
    from src.core.parity import explain_difference, parity_report, parse_window
    from src.core.unit_of_work import command_unit_of_work
    from src.shadow.report import format_report

    if args.action == "explain" and (args.id is None or not args.reason):
        print("error: parity explain needs the difference id and --reason TEXT", file=sys.stderr)
        return 2
    try:
        with command_unit_of_work(settings) as session:
            if args.action == "explain":
                row = explain_difference(session, args.id, args.reason)
                print(f"difference {row.id} of {row.route} explained; the cutover gate lets it through")
                return 0
            report = parity_report(session, parse_window(args.since))
    except CoreError as exc:
        print(f"error: {exc.message or exc.error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Delete what the daily retention job deletes now (executions, notifications, expired revocations, tombstones)."""
    from src.core.retention import prunable_counts, prune_in_batches, retention_policy
    from src.core.unit_of_work import unit_of_work
    from src.database.engines import create_sync_engine_from_settings, make_session_factory

    policy = retention_policy(settings)
    engine = create_sync_engine_from_settings(settings)
    try:
        sessions = make_session_factory(engine)
        if args.dry_run:
            with unit_of_work(sessions) as session:
                counts = prunable_counts(session, policy)
        else:
            counts = prune_in_batches(sessions, policy)  # a unit of work per batch
    finally:
        engine.dispose()
    verb = "would remove" if args.dry_run else "removed"
    for table, count, cutoff, setting, column in (
        ("executions", counts.executions, policy.execution_cutoff, "EXECUTION_RETENTION_DAYS", "started"),
        ("notifications", counts.notifications, policy.notification_cutoff, "NOTIFICATION_RETENTION_DAYS", "created"),
    ):
        if cutoff is None:
            print(f"{table}: kept forever ({setting}=0)")
        else:
            print(f"{table}: {verb} {count} {column} before {cutoff:%Y-%m-%d %H:%M} UTC")
    print(f"revoked tokens: {verb} {counts.revoked_tokens} already expired")
    print(f"job-deletion tombstones: {verb} {counts.job_deletions} older than a day")
    if not args.dry_run:
        print(f"{counts.batches} batch(es) of at most {policy.batch_size}, each committed on its own")
    return 0


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    """Run nginx, gunicorn and uvicorn (or the embedded composition) in the foreground."""
    from src.deploy.supervisor import serve

    return serve(settings)


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "migrate": cmd_migrate,
    "create-admin": cmd_create_admin,
    "ensure-admin": cmd_ensure_admin,
    "scheduler": cmd_scheduler_status,
    "phase": cmd_phase,
    "parity": cmd_parity,
    "prune": cmd_prune,
    "serve": cmd_serve,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m src.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    create = commands.add_parser("create-admin", help="create an admin account (asks for missing values)")
    create.add_argument("--username")
    create.add_argument("--email")
    create.add_argument("--password", help="prefer the prompt: a flag lands in the shell history")
    commands.add_parser("ensure-admin", help="create the first admin if there is none")
    scheduler = commands.add_parser("scheduler", help="scheduler operations")
    scheduler.add_argument("action", choices=["status"], help="status: leader, lease expiry, next fires")
    phase = commands.add_parser(
        "phase",
        help="deployment phase: show, render (the current one's nginx config), side-by-side (rollback), cutover",
    )
    phase.add_argument("action", choices=["show", "render", "side-by-side", "cutover"])
    phase.add_argument("--force", action="store_true",
                       help="switch even when the door that will serve /api does not answer")
    parity = commands.add_parser(
        "parity", help="shadow reads: report (per /api route: compared, matched, mismatched, raced) or explain ID")
    parity.add_argument("action", choices=["report", "explain"])
    parity.add_argument("id", nargs="?", type=int, help="explain: the difference id shown by the report")
    parity.add_argument("--json", action="store_true", help="report: the JSON of GET /api/v2/admin/parity")
    parity.add_argument("--since", default="24h", help="report: window such as 30m, 24h, 7d (default 24h)")
    parity.add_argument("--reason", help="explain: why this difference is acceptable (stored with it)")
    prune = commands.add_parser(
        "prune", help="delete executions and notifications older than their retention (what the daily job does)")
    prune.add_argument("--dry-run", action="store_true", help="only count what would be removed")
    commands.add_parser("serve", help="run nginx + gunicorn + uvicorn in the foreground (what `make run` does)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except UnsafeProductionSettings as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
