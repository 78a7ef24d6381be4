"""The API benchmark's GOAL lines: which figures each case is judged by (bench/api/report.py)."""

from __future__ import annotations

import pytest

from bench.api.endpoints import Endpoint
from bench.api.report import Run, goals
from bench.api.wrk import WrkResult


def _run(case: str, door: str, requests_per_second: float, p99_ms: float) -> Run:
    result = WrkResult(requests=int(requests_per_second * 10), seconds=10.0, requests_per_second=requests_per_second,
                       p50_ms=p99_ms / 2, p75_ms=p99_ms / 2, p90_ms=p99_ms / 2, p99_ms=p99_ms)
    return Run(case, door, 1, result)


@pytest.fixture
def runs() -> list[Run]:
    return [_run("ceiling", "ceiling", 20_000, 5), _run("call", "legacy", 400, 300), _run("call", "v2", 440, 250)]


def _goal_names(case: Endpoint, runs: list[Run]) -> dict[str, bool]:
    return {goal.name: goal.met for goal in goals([case], runs, idle={}, after={})}


def test_a_case_judged_by_its_ratio_gets_the_write_target(runs: list[Run]) -> None:
    judged = _goal_names(Endpoint("call", "POST", ("/x",)), runs)

    assert judged["call v2/legacy"] is False  # 1.1x against 1.2x
    assert judged["call v2 p99"] is True


def test_a_case_without_a_ratio_goal_is_still_judged_by_its_p99_and_req_s(runs: list[Run]) -> None:
    judged = _goal_names(Endpoint("call", "POST", ("/x",), v2_target=400, scale_target=False, ratio_goal=False),
                         runs)

    assert "call v2/legacy" not in judged
    assert judged["call v2 p99"] is True
    assert judged["call v2 req/s"] is True
