"""The shadow-read benchmark's open-loop generator and goal figure (bench/api/openloop.py, bench/api/shadow.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.api import openloop
from bench.api.shadow import median_ratio, pair_order


def test_schedule_is_a_constant_rate_from_zero_and_ends_before_the_window_does() -> None:
    assert openloop.schedule(4, 1) == [0, 0.25, 0.5, 0.75]
    assert len(openloop.schedule(250, 7)) == 1750
    assert openloop.schedule(0, 5) == []


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert openloop.percentile(values, 99) == 99
    assert openloop.percentile(values, 50) == 50
    assert openloop.percentile([7.0], 99) == 7
    assert openloop.percentile([], 99) != openloop.percentile([], 99)  # NaN


def test_pairs_alternate_which_mode_goes_first_so_one_reload_serves_two_measurements() -> None:
    modes = [mode for pair in range(4) for mode in pair_order(pair)]
    assert modes == [False, True, True, False, False, True, True, False]


def test_the_goal_ratio_is_the_median_on_over_the_median_off() -> None:
    assert median_ratio([10, 30, 11], [10, 9, 100]) == pytest.approx(11 / 10)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            return
        body = b'{"ok": true}'
        self.send_response(500 if self.path == "/fail" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def server_url() -> Iterator[str]:
    yield from _serve()


@pytest.fixture
def second_server_url() -> Iterator[str]:
    yield from _serve()


def test_slots_take_the_targets_in_turn() -> None:
    assert [openloop.target_of(offset, 0.5, 2) for offset in (0, 0.49, 0.5, 0.99, 1.0, 1.7)] == [0, 0, 1, 1, 0, 1]
    assert openloop.target_of(3.2, 0, 2) == 0


def test_only_requests_after_the_warmup_and_outside_a_slots_guard_are_counted() -> None:
    options = openloop.OpenLoopOptions(rate=10, seconds=2, warmup_seconds=1, slot_seconds=0.5, guard_seconds=0.1)
    offsets = (0.9, 1.0, 1.05, 1.1, 1.45, 1.5, 1.6)
    assert [openloop.counted(offset, options) for offset in offsets] == [False, False, False, True, True, False, True]


def test_every_request_due_in_the_window_is_answered_and_failures_are_counted(server_url: str) -> None:
    options = openloop.OpenLoopOptions(rate=100, seconds=0.5, warmup_seconds=0.2, max_connections=4)
    [result] = openloop.run([server_url], ["/ok", "/fail", "/chunked"], {"Authorization": "Bearer x"}, options)
    due = [index for index, offset in enumerate(openloop.schedule(100, 0.7)) if offset >= 0.2]
    assert result.due == len(due) == len(result.latencies_ms)
    assert result.errors == {}
    assert result.non_2xx == sum(index % 3 == 1 for index in due)


def test_a_schedule_over_two_targets_sends_each_its_slots(server_url: str, second_server_url: str) -> None:
    options = openloop.OpenLoopOptions(rate=100, seconds=0.4, warmup_seconds=0, slot_seconds=0.1)
    first, second = openloop.run([server_url, second_server_url], ["/ok", "/fail"], {}, options)
    offsets = openloop.schedule(100, 0.4)
    to_second = [index for index, offset in enumerate(offsets) if openloop.target_of(offset, 0.1, 2) == 1]
    assert (first.due, second.due) == (len(offsets) - len(to_second), len(to_second))
    assert second.non_2xx == sum(index % 2 == 1 for index in to_second)
