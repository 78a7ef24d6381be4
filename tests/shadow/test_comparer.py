"""The comparer against real loopback servers standing in for the two doors: outcomes, races,
forwarded headers and shedding (nginx samples: tests/proxy/test_shadow_nginx_config.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from src.core.parity import ParityBatch
from src.observability.metrics import Metrics
from src.shadow.comparer import Comparer
from tests.conftest import make_settings
from tests.receivers import Receiver

TOKEN = {"Authorization": "Bearer a-token", "X-Request-ID": "req-1", "Host": "example", "X-Shadow-URI": "/api/jobs"}


@pytest.fixture
def doors() -> Iterator[tuple[Receiver, Receiver]]:
    legacy, v2 = Receiver().start(), Receiver().start()
    try:
        yield legacy, v2
    finally:
        legacy.stop()
        v2.stop()


def answer(door: Receiver, path: str, body: Any, served_by: str) -> None:
    door.respond(path, 200, json.dumps(body), **{"X-Served-By": served_by, "Content-Type": "application/json"})


def comparer_for(legacy: Receiver, v2: Receiver, stored: list[ParityBatch], **overrides: Any) -> Comparer:
    settings = make_settings("sqlite://", SHADOW_LEGACY_URL=legacy.url, SHADOW_V2_URL=v2.url, **overrides)
    return Comparer(settings, Metrics(), lambda path: path.split("?")[0].replace("/abc", "/{job_id}"),
                    stored.append)


def run_one(comparer: Comparer, method: str, uri: str) -> tuple[str, ParityBatch]:
    async def scenario() -> str:
        offered = comparer.offer(method, uri, TOKEN)
        await asyncio.gather(*comparer._tasks)
        await comparer.close()
        return offered

    offered = asyncio.run(scenario())
    return offered, comparer.batch


def counts(stored: list[ParityBatch]) -> dict[str, tuple[int, int, int, int]]:
    return {route: (t.compared, t.matched, t.mismatched, t.raced)
            for batch in stored for (route, _hour), t in batch.counts.items()}


def test_equal_answers_are_counted_as_matched(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs/abc", {"name": "x"}, "flask")
    answer(v2, "/api/v2/jobs/abc", {"name": "x"}, "fastapi")
    stored: list[ParityBatch] = []
    offered, _ = run_one(comparer_for(legacy, v2, stored), "GET", "/api/jobs/abc?x=1")
    assert offered == "accepted"
    assert counts(stored) == {"GET /api/jobs/{job_id}": (1, 1, 0, 0)}


def test_matching_answers_cost_flask_one_replay_and_a_difference_two(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {"total": 1}, "flask")
    answer(v2, "/api/v2/jobs", {"total": 1}, "fastapi")
    answer(v2, "/api/v2/jobs/abc", {"total": 2}, "fastapi")
    answer(legacy, "/api/jobs/abc", {"total": 1}, "flask")
    run_one(comparer_for(legacy, v2, []), "GET", "/api/jobs")
    run_one(comparer_for(legacy, v2, []), "GET", "/api/jobs/abc")
    assert [r.path for r in legacy.requests] == ["/api/jobs", "/api/jobs/abc", "/api/jobs/abc"]


def test_replays_carry_the_clients_headers_and_query_to_both_doors(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {}, "flask")
    answer(v2, "/api/v2/jobs", {}, "fastapi")
    run_one(comparer_for(legacy, v2, []), "GET", "/api/jobs?page=2")
    assert [r.path for r in legacy.requests] == ["/api/jobs?page=2"]
    [replayed] = v2.requests
    assert replayed.path == "/api/v2/jobs?page=2"
    assert replayed.headers["authorization"] == "Bearer a-token"
    assert replayed.headers["x-request-id"] == "req-1.shadow"
    assert "x-shadow-uri" not in replayed.headers and replayed.headers["host"] != "example"


def test_different_answers_are_a_mismatch_with_paths(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {"jobs": [{"name": "x"}]}, "flask")
    answer(v2, "/api/v2/jobs", {"jobs": [{"name": "y"}]}, "fastapi")
    stored: list[ParityBatch] = []
    run_one(comparer_for(legacy, v2, stored), "GET", "/api/jobs")
    assert counts(stored) == {"GET /api/jobs": (1, 0, 1, 0)}
    [kept] = stored[0].differences.values()
    assert kept.paths == ["$.jobs[*].name"]
    assert kept.samples[0]["request_id"] == "req-1"
    assert kept.samples[0]["values"] == [{"path": "$.jobs[0].name", "legacy": "x", "v2": "y"}]


def test_a_status_difference_is_a_mismatch(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {"error": "Not found"}, "flask")
    v2.respond("/api/v2/jobs", 405, json.dumps({"error": "Not found"}), **{"X-Served-By": "fastapi"})
    stored: list[ParityBatch] = []
    run_one(comparer_for(legacy, v2, stored), "GET", "/api/jobs")
    [kept] = stored[0].differences.values()
    assert kept.samples[0]["values"] == [{"path": "status", "legacy": 200, "v2": 405}]


def test_a_read_racing_a_write_is_counted_apart(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    # The row changes between the two legacy fetches: v2 saw one of the two states.
    answer(legacy, "/api/jobs", {"total": 1}, "flask")
    answer(legacy, "/api/jobs", {"total": 2}, "flask")
    answer(v2, "/api/v2/jobs", {"total": 2}, "fastapi")
    stored: list[ParityBatch] = []
    run_one(comparer_for(legacy, v2, stored), "GET", "/api/jobs")
    assert counts(stored) == {"GET /api/jobs": (1, 0, 0, 1)}
    assert stored[0].differences == {}


def test_answers_from_the_wrong_door_are_not_compared(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {}, "fastapi")  # SHADOW_LEGACY_URL pointing at the new door
    answer(v2, "/api/v2/jobs", {}, "fastapi")
    stored: list[ParityBatch] = []
    run_one(comparer_for(legacy, v2, stored), "GET", "/api/jobs")
    assert stored == []


@pytest.mark.parametrize(("method", "uri"), [("POST", "/api/jobs"), ("DELETE", "/api/jobs/abc"),
                                             ("GET", "/api/v2/jobs"), ("GET", "/health")])
def test_writes_and_other_paths_are_ignored(doors: tuple[Receiver, Receiver], method: str, uri: str) -> None:
    legacy, v2 = doors
    offered, _ = run_one(comparer_for(legacy, v2, []), method, uri)
    assert offered == "ignored"
    assert legacy.requests == v2.requests == []


def test_reads_beyond_the_in_flight_cap_are_shed_not_queued(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    legacy.respond("/api/jobs", 200, "{}", delay=0.3, **{"X-Served-By": "flask"})
    answer(v2, "/api/v2/jobs", {}, "fastapi")
    comparer = comparer_for(legacy, v2, [], SHADOW_MAX_IN_FLIGHT=2)

    async def scenario() -> list[str]:
        offered = [comparer.offer("GET", "/api/jobs", TOKEN) for _ in range(5)]
        await comparer.close()
        return offered

    offered = asyncio.run(scenario())
    assert offered == ["accepted", "accepted", "shed", "shed", "shed"]
    metrics = comparer.metrics.render().decode()
    assert 'shadow_reads_total{outcome="shed",route="GET /api/jobs"} 3.0' in metrics


def test_while_clients_are_served_one_read_a_second_is_compared(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {}, "flask")
    answer(v2, "/api/v2/jobs", {}, "fastapi")
    comparer = comparer_for(legacy, v2, [], SHADOW_MAX_IN_FLIGHT=64)

    async def scenario() -> list[str]:
        offered = [comparer.offer("GET", "/api/jobs", TOKEN, others_in_flight=5) for _ in range(3)]
        offered += [comparer.offer("GET", "/api/jobs", TOKEN, others_in_flight=0) for _ in range(2)]
        await comparer.close()
        return offered

    assert asyncio.run(scenario()) == ["accepted", "busy", "busy", "accepted", "accepted"]
    assert 'shadow_reads_total{outcome="busy",route="GET /api/jobs"} 2.0' in comparer.metrics.render().decode()


def test_reads_of_a_route_beyond_its_per_second_budget_are_shed(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    answer(legacy, "/api/jobs", {}, "flask")
    answer(v2, "/api/v2/jobs", {}, "fastapi")
    comparer = comparer_for(legacy, v2, [], SHADOW_MAX_IN_FLIGHT=64, SHADOW_MAX_PER_SECOND=3)

    async def scenario() -> list[str]:
        offered = [comparer.offer("GET", "/api/jobs", TOKEN) for _ in range(5)]
        await comparer.close()
        return offered

    assert asyncio.run(scenario()) == ["accepted", "accepted", "accepted", "shed", "shed"]
    assert 'shadow_reads_total{outcome="shed",route="GET /api/jobs"} 2.0' in comparer.metrics.render().decode()


def test_a_busy_route_does_not_spend_another_routes_budget(doors: tuple[Receiver, Receiver]) -> None:
    legacy, v2 = doors
    for path in ("/jobs", "/jobs/abc"):
        answer(legacy, f"/api{path}", {}, "flask")
        answer(v2, f"/api/v2{path}", {}, "fastapi")
    comparer = comparer_for(legacy, v2, [], SHADOW_MAX_IN_FLIGHT=64, SHADOW_MAX_PER_SECOND=2)

    async def scenario() -> list[str]:
        offered = [comparer.offer("GET", "/api/jobs", TOKEN) for _ in range(4)]
        offered.append(comparer.offer("GET", "/api/jobs/abc", TOKEN))
        await comparer.close()
        return offered

    assert asyncio.run(scenario()) == ["accepted", "accepted", "shed", "shed", "accepted"]
