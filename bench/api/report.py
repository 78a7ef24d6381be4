"""Medians over rounds, the printed table, and the goals of issue 6 for the API benchmark."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.api.endpoints import REFERENCE_CEILING, TEST_RUN, Endpoint
from bench.api.wrk import WrkResult
from bench.goals import Goal

# Which measured process tree serves each door.
SERVER_OF = {"legacy": "flask", "v2": "fastapi", "ceiling": "hello", "receiver": "receiver"}
RSS_IDLE_TARGET_MB = 120
RSS_AFTER_TARGET_MB = 200
# Issue 17: v2 at least twice the legacy door's req/s on every read, 1.2x on login and writes,
# and a read's v2 req/s at least this share of the hello-world ceiling measured in the same run.
READ_RATIO_TARGET = 2.0
WRITE_RATIO_TARGET = 1.2
READ_CEILING_SHARE_TARGET = 0.10


@dataclass
class Run:
    """One measured wrk run, with the CPU each server spent during it."""

    case: str
    door: str
    round: int
    result: WrkResult
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    receiver_hits: int | None = None
    drain_seconds: float = 0.0  # how long the door took to finish what wrk left queued

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "door": self.door, "round": self.round, "result": self.result.to_json(),
                "cpu_seconds": self.cpu_seconds, "receiver_hits": self.receiver_hits,
                "drain_seconds": self.drain_seconds}


@dataclass
class Summary:
    """Medians over the rounds of one case on one door; error counts are totals."""

    case: str
    door: str
    rounds: int
    requests_per_second: float
    ok_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_ms_per_request: float


def summarize(runs: list[Run], case: str, door: str) -> Summary:
    mine = [run for run in runs if run.case == case and run.door == door]
    if not mine:
        nan = float("nan")
        return Summary(case, door, 0, nan, nan, nan, nan, 0, 0, nan)
    server = SERVER_OF[door]

    def median(values: list[float]) -> float:
        return float(statistics.median(values))

    return Summary(
        case=case, door=door, rounds=len(mine),
        requests_per_second=median([run.result.requests_per_second for run in mine]),
        ok_per_second=median([run.result.ok_per_second for run in mine]),
        p50_ms=median([run.result.p50_ms for run in mine]),
        p99_ms=median([run.result.p99_ms for run in mine]),
        non_2xx=sum(run.result.non_2xx for run in mine),
        socket_errors=sum(run.result.errors for run in mine),
        cpu_ms_per_request=median([1000 * run.cpu_seconds.get(server, 0.0) / max(1, run.result.requests)
                                   for run in mine]),
    )


def ratio(v2: Summary, legacy: Summary) -> float:
    """v2 over legacy in successful answers per second."""
    if not legacy.ok_per_second or legacy.ok_per_second != legacy.ok_per_second:
        return float("nan")
    return v2.ok_per_second / legacy.ok_per_second


def table(cases: list[Endpoint], runs: list[Run]) -> str:
    header = (f"{'endpoint':<20} {'door':<7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>8} "
              f"{'sock err':>8} {'cpu ms/req':>10} {'v2/legacy':>9}")
    lines = [header, "-" * len(header)]
    ceiling = summarize(runs, "ceiling", "ceiling")
    lines.append(_row("hello ceiling", ceiling, ""))
    for case in cases:
        legacy, v2 = summarize(runs, case.name, "legacy"), summarize(runs, case.name, "v2")
        lines.append(_row(case.name, legacy, ""))
        lines.append(_row("", v2, f"{ratio(v2, legacy):.2f}x"))
    return "\n".join(lines)


def receiver_shares(runs: list[Run]) -> list[str]:
    """test-run's req/s on each door as a share of its receiver alone (information, not a goal)."""
    receiver = summarize(runs, "receiver ceiling", "receiver")
    if not receiver.rounds:
        return []
    shares = ", ".join(
        f"{door} {summarize(runs, TEST_RUN, door).ok_per_second / receiver.ok_per_second:.2f}"
        for door in ("legacy", "v2"))
    return [f"receiver alone (no door, same -c): {receiver.ok_per_second:.1f} req/s; "
            f"test-run as a share of it: {shares}"]


def _row(label: str, summary: Summary, ratio_text: str) -> str:
    return (f"{label:<20} {summary.door:<7} {summary.requests_per_second:>9.1f} {summary.p50_ms:>9.2f} "
            f"{summary.p99_ms:>9.2f} {summary.non_2xx:>8} {summary.socket_errors:>8} "
            f"{summary.cpu_ms_per_request:>10.2f} {ratio_text:>9}")


def memory_table(idle: dict[str, float], after: dict[str, float]) -> str:
    lines = [f"{'server (RSS, MB)':<20} {'idle':>8} {'after':>8}"]
    for label in idle:
        lines.append(f"{label:<20} {idle[label]:>8.1f} {after.get(label, float('nan')):>8.1f}")
    return "\n".join(lines)


def goals(cases: list[Endpoint], runs: list[Run], idle: dict[str, float], after: dict[str, float]) -> list[Goal]:
    """Per endpoint: ratio, p99, absolute v2 req/s (scaled by the measured ceiling); then memory."""
    ceiling = summarize(runs, "ceiling", "ceiling").ok_per_second
    scale = ceiling / REFERENCE_CEILING
    found: list[Goal] = []
    for case in cases:
        legacy, v2 = summarize(runs, case.name, "legacy"), summarize(runs, case.name, "v2")
        if case.ratio_goal:
            found.append(Goal(f"{case.name} v2/legacy", ratio(v2, legacy),
                              READ_RATIO_TARGET if case.read else WRITE_RATIO_TARGET, "x"))
        found.append(Goal(f"{case.name} v2 p99", v2.p99_ms, legacy.p99_ms, "ms", higher_is_better=False))
        if case.read:
            share = v2.ok_per_second / ceiling if ceiling else float("nan")
            found.append(Goal(f"{case.name} v2 share of ceiling", share, READ_CEILING_SHARE_TARGET, "x"))
        if case.v2_target is not None:
            target = case.v2_target * (scale if case.scale_target else 1.0)
            found.append(Goal(f"{case.name} v2 req/s", v2.ok_per_second, target, "req/s"))
    nan = float("nan")
    # Per worker: FASTAPI_WORKERS multiplies the door's total by design.
    found.append(Goal("fastapi rss idle per worker", idle.get("fastapi worker", nan), RSS_IDLE_TARGET_MB, "MB",
                      higher_is_better=False))
    found.append(Goal("fastapi rss after per worker", after.get("fastapi worker", nan), RSS_AFTER_TARGET_MB, "MB",
                      higher_is_better=False))
    return found


def summaries_json(cases: list[Endpoint], runs: list[Run]) -> list[dict[str, Any]]:
    rows = [asdict(summarize(runs, "ceiling", "ceiling"))]
    if summarize(runs, "receiver ceiling", "receiver").rounds:
        rows.append(asdict(summarize(runs, "receiver ceiling", "receiver")))
    for case in cases:
        legacy, v2 = summarize(runs, case.name, "legacy"), summarize(runs, case.name, "v2")
        rows += [asdict(legacy), {**asdict(v2), "v2_over_legacy": ratio(v2, legacy)}]
    return rows
