"""Switching the deployment phase: `side-by-side` (rollback) or `cutover`.

A switch, in order: a cutover needs parity evidence (no unexplained shadow-read mismatch in the
last SHADOW_GATE_HOURS); the door that will serve `/api` must answer its health probe; the new
nginx config is rendered and checked with `nginx -t`; the phase row is committed (every
scheduler host reads it at its next heartbeat: the leader of the wrong kind releases the lease
and a host of the right kind takes it); the config is put in place and nginx reloaded
gracefully; finally `/api/health` through nginx must come from the expected door.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx

from src.config import Settings
from src.core.parity import unexplained_differences
from src.core.phases import API_DOOR, DEFAULT_PHASE, SCHEDULER_KIND, Phase, read_phase, set_phase
from src.core.unit_of_work import command_unit_of_work
from src.deploy.nginx import NginxError, NginxInstance, render

Say = Callable[[str], None]
PROBE_TIMEOUT_SECONDS = 3.0
ROUTING_WAIT_SECONDS = 10.0


class PhaseSwitchRefused(RuntimeError):
    """The switch was not made (nothing changed), with the reason."""


@dataclass(frozen=True)
class PhaseState:
    phase: Phase
    stored: bool

    def describe(self) -> str:
        origin = "" if self.stored else " (default: no phase was ever set)"
        return (f"phase: {self.phase}{origin}\n"
                f"/api served by: {API_DOOR[self.phase]}\n"
                f"scheduler hosted by: {SCHEDULER_KIND[self.phase]} (the holder of the database lease)")


def stored_phase(settings: Settings) -> PhaseState:
    with command_unit_of_work(settings) as session:
        phase = read_phase(session)
    return PhaseState(phase or DEFAULT_PHASE, phase is not None)


def _store_phase(settings: Settings, phase: Phase) -> None:
    with command_unit_of_work(settings) as session:
        set_phase(session, phase)


def check_parity_gate(settings: Settings, say: Say = print) -> None:
    """Refuse a cutover while a route seen in the window has a mismatch no operator explained."""
    window = timedelta(hours=settings.SHADOW_GATE_HOURS)
    with command_unit_of_work(settings) as session:
        blocking = unexplained_differences(session, window)
    if blocking:
        listed = "\n".join(f"  {difference.describe()}" for difference in blocking)
        raise PhaseSwitchRefused(
            f"shadow reads found unexplained mismatches in the last {settings.SHADOW_GATE_HOURS} h:\n{listed}\n"
            "see `python -m src.cli parity report`; fix the door, or accept a difference with "
            "`python -m src.cli parity explain ID --reason TEXT` (or --force)")
    say(f"parity: no unexplained shadow-read mismatch in the last {settings.SHADOW_GATE_HOURS} h")


def _door_port(settings: Settings, door: str) -> int:
    return settings.FLASK_PORT if door == "flask" else settings.FASTAPI_PORT


def _served_by(url: str) -> str | None:
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return None
    return response.headers.get("X-Served-By") if response.status_code == 200 else None


def switch_phase(settings: Settings, phase: Phase, nginx: NginxInstance | None, *,
                 force: bool = False, say: Say = print) -> None:
    """Move the deployment to `phase`; raises PhaseSwitchRefused when nothing was changed."""
    door = API_DOOR[phase]
    if phase == "cutover" and not force:
        check_parity_gate(settings, say)
    door_health = f"http://127.0.0.1:{_door_port(settings, door)}/health"
    if not force and _served_by(door_health) != door:
        raise PhaseSwitchRefused(
            f"the {door} door does not answer {door_health}; start it first (or --force)")

    config_text = render(phase, settings) if nginx is not None else None
    if nginx is not None and config_text is not None:
        try:
            nginx.install(config_text)
        except NginxError as exc:
            raise PhaseSwitchRefused(str(exc)) from exc
        say(f"nginx config for {phase} checked and written: {nginx.conf_path}")

    _store_phase(settings, phase)
    say(f"phase set to {phase}: the {SCHEDULER_KIND[phase]} host takes the scheduler lease within "
        f"about {max(0.2, settings.SCHEDULER_LEASE_SECONDS / 3):.0f} s")

    if nginx is None:
        say("no nginx binary: the embedded composition routes by prefix; only the scheduler moved")
        return
    if nginx.running_pid() is None:
        say("the private nginx is not running; the config takes effect when it starts")
        return
    nginx.reload()
    say("nginx reloaded gracefully (requests in flight finish on the old workers)")
    _wait_for_routing(settings, door, say)


def _wait_for_routing(settings: Settings, door: str, say: Say) -> None:
    """Reload is asynchronous: wait until nginx's new workers send /api to the expected door."""
    probe = f"http://127.0.0.1:{settings.HTTP_PORT}/api/health"
    deadline = time.monotonic() + ROUTING_WAIT_SECONDS
    while time.monotonic() < deadline:
        if _served_by(probe) == door:
            say(f"verified: {probe} is served by {door}")
            return
        time.sleep(0.1)
    raise NginxError(f"{probe} is not served by {door} {ROUTING_WAIT_SECONDS:.0f} s after the reload; "
                     "see the private nginx's error log")
