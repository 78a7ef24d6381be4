"""The scheduler benchmark's table, raw JSON and issue 6's goals."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench.goals import Goal
from bench.scheduler.fires import FireResult
from bench.scheduler.sync_latency import SyncSample

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _seconds(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def fires_table(fires: list[FireResult]) -> str:
    header = (f"{'fire':8} {'jobs':>6} {'dispatched':>11} {'dup':>4} {'miss':>5} {'lag p50':>8} {'lag p99':>8} "
              f"{'lag max':>8} {'done':>7} {'cpu/fire':>8} {'rows 1/job':>10} {'rows off':>8} {'failed':>6}")
    lines = [header, "-" * len(header)]
    for f in fires:
        e = f.executions
        lines.append(
            f"{f.label:8} {f.jobs:6} {f'{f.dispatched}/{f.jobs}':>11} {f.duplicates:4} {f.missing:5} "
            f"{_seconds(f.lag_p50):>8} {_seconds(f.lag_p99):>8} {_seconds(f.lag_max):>8} "
            f"{_seconds(f.all_done_after_seconds):>7} {f.cpu_ms_per_fire:6.2f}ms {e.jobs_with_one:10} "
            f"{e.jobs_with_none + e.jobs_with_several + e.other_fire_times:8} {e.failed:6}"
        )
    lines.append("lag: receiver arrival - fire time (s); done: fire time -> last run finalized (s); cpu/fire: the "
                 "scheduler loop's CPU time per fire; rows: scheduled executions per job for that fire")
    return "\n".join(lines)


def sync_summary(samples: list[SyncSample]) -> dict[str, float]:
    held = [s.held_after_seconds for s in samples]
    puts = [s.put_seconds for s in samples]
    nan = float("nan")
    return {
        "samples": len(samples),
        "median": statistics.median(held) if held else nan,
        "max": max(held, default=nan),
        "put_median": statistics.median(puts) if puts else nan,
    }


def sync_table(samples: list[SyncSample], jobs_scheduled: int) -> str:
    summary = sync_summary(samples)
    return (f"sync latency at {jobs_scheduled} scheduled jobs, {summary['samples']} edits: "
            f"median {_seconds(summary['median'])} s, max {_seconds(summary['max'])} s "
            f"(PUT round trip median {_seconds(summary['put_median'])} s)")


def goals(fires: dict[str, FireResult], samples: list[SyncSample]) -> list[Goal]:
    """Issue 6's scheduler goals; a fire that was not measured counts as missed (NaN)."""
    nan = float("nan")
    small, large = fires.get("fire1k"), fires.get("fire10k")
    measured = [f for f in fires.values()]
    off_rows = sum(f.executions.jobs_with_none + f.executions.jobs_with_several + f.executions.other_fire_times
                   for f in measured)
    return [
        Goal("scheduler 1k fires p99 lag", small.lag_p99 if small else nan, 1.0, "s", higher_is_better=False),
        Goal("scheduler 10k fires max lag", large.lag_max if large else nan, 10.0, "s", higher_is_better=False),
        Goal("scheduler duplicates", sum(f.duplicates for f in measured) if measured else nan, 0,
             higher_is_better=False),
        Goal("scheduler missing", sum(f.missing for f in measured) if measured else nan, 0, higher_is_better=False),
        Goal("scheduler execution rows not one per job per fire", off_rows if measured else nan, 0,
             higher_is_better=False),
        Goal("scheduler sync latency max at 10k jobs", sync_summary(samples)["max"], 2.0, "s",
             higher_is_better=False),
    ]


def write_json(backend: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scheduler-{backend}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
