"""An open-loop load generator: requests go out on a fixed schedule, latency counts from the intended send time.

wrk is a closed loop: a connection sends its next request only after the previous answer, so a
stall delays the very requests that would have measured it (coordinated omission), and a
saturating run's p99 is the length of its queue. Here request i is due at start + i / rate
(wrk2's constant throughput); one that cannot go at its time (no free connection, the generator
itself late) still counts from that time, so a stall costs every request it delays. One schedule
can alternate between servers slot by slot (bench.api.shadow: the mirror off and on), so a
machine shared with other work slows both alike.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Started requests wait this long before the first is due, so the schedule does not begin late.
START_DELAY_SECONDS = 0.05


@dataclass(frozen=True)
class OpenLoopOptions:
    rate: float  # requests per second
    seconds: float  # measured window
    warmup_seconds: float = 1.0  # sent at the same rate before the window, not counted
    max_connections: int = 64  # keep-alive connections per target at most; beyond, requests wait (and that counts)
    # With several targets: requests due in slot k (of this length) go to target k mod n, so the
    # targets share the machine's drift; 0 sends everything to the first.
    slot_seconds: float = 0.0
    # Requests due this soon after a slot starts are sent but not counted: work the previous
    # target's requests left behind (the comparer's replays) would otherwise count for this one.
    guard_seconds: float = 0.0
    timeout_seconds: float = 30.0


@dataclass
class OpenLoopResult:
    """Latencies (ms, from the intended send time) of the answered requests due in the measured window."""

    latencies_ms: list[float]
    due: int  # requests due in the window
    non_2xx: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # by exception name: timeouts, resets
    send_lag_ms: list[float] = field(default_factory=list)  # how late each request went out
    cpu_seconds: float = 0.0  # the generator's own CPU time, warm-up included (split evenly over targets)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def send_lag_p99_ms(self) -> float:
        return percentile(self.send_lag_ms, 99)

    @property
    def failed(self) -> int:
        return self.non_2xx + sum(self.errors.values())


def schedule(rate: float, seconds: float) -> list[float]:
    """Offsets (s) from the start at which requests are due: a constant rate, the first at 0."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(math.ceil(rate * seconds - 1e-9))]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (NaN for no values): the smallest value with q% at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class _Request:
    host: str
    port: int
    paths: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]

    def encode(self, index: int) -> bytes:
        path = self.paths[index % len(self.paths)]
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{name}: {value}" for name, value in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response to its end; its status and whether the connection can be reused."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status = head[0].split(" ", 2)[:2]
    headers = {name.strip().lower(): value.strip().lower()
               for name, _, value in (line.partition(":") for line in head[1:] if line)}
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF (the last: no trailers)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status), version == "HTTP/1.1" and headers.get("connection") != "close"


class _Pool:
    """Keep-alive connections to one server, at most `limit` at once."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(limit)

    async def acquire(self) -> _Connection:
        await self.slots.acquire()
        if self.idle:
            return self.idle.pop()
        try:
            return await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self.slots.release()
            raise

    def release(self, connection: _Connection, reusable: bool) -> None:
        if reusable:
            self.idle.append(connection)
        else:
            connection[1].close()
        self.slots.release()

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _generate(requests: list[_Request], options: OpenLoopOptions) -> list[OpenLoopResult]:
    loop = asyncio.get_running_loop()
    pools = [_Pool(request.host, request.port, options.max_connections) for request in requests]
    results = [OpenLoopResult(latencies_ms=[], due=0) for _ in requests]
    offsets = schedule(options.rate, options.warmup_seconds + options.seconds)
    start = loop.time() + START_DELAY_SECONDS

    async def one(index: int, due: float, target: int, measured: bool) -> None:
        pool, result, connection = pools[target], results[target], None
        try:
            async with asyncio.timeout(options.timeout_seconds):
                connection = await pool.acquire()
                sent = loop.time()
                connection[1].write(requests[target].encode(index))
                status, reusable = await read_response(connection[0])
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            if connection is not None:
                pool.release(connection, reusable=False)
            if measured:
                name = type(error).__name__
                result.errors[name] = result.errors.get(name, 0) + 1
            return
        pool.release(connection, reusable)
        if measured:
            result.latencies_ms.append(1000 * (loop.time() - due))
            result.send_lag_ms.append(1000 * (sent - due))
            result.non_2xx += not 200 <= status < 300

    tasks = []
    for index, offset in enumerate(offsets):
        due = start + offset
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        measured = counted(offset, options)
        target = target_of(offset, options.slot_seconds, len(requests))
        results[target].due += measured
        tasks.append(asyncio.create_task(one(index, due, target, measured)))
    await asyncio.gather(*tasks)
    for pool in pools:
        pool.close()
    return results


def target_of(offset: float, slot_seconds: float, targets: int) -> int:
    """Which target a request due at `offset` goes to: slots of `slot_seconds` take the targets in turn."""
    if targets == 1 or slot_seconds <= 0:
        return 0
    return int(offset / slot_seconds + 1e-9) % targets


def counted(offset: float, options: OpenLoopOptions) -> bool:
    """Whether the request due at `offset` is measured: after the warm-up, outside a slot's guard."""
    if offset < options.warmup_seconds:
        return False
    if options.slot_seconds <= 0 or options.guard_seconds <= 0:
        return True
    return offset + 1e-9 - options.slot_seconds * int(offset / options.slot_seconds + 1e-9) >= options.guard_seconds


def run(urls: Sequence[str], paths: Sequence[str], headers: dict[str, str],
        options: OpenLoopOptions) -> list[OpenLoopResult]:
    """GET `paths` in turn at `options.rate` per second, sent to `urls` (scheme, host, port) slot by slot.

    One result per URL; blocks until every request is answered or timed out.
    """
    requests = []
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None, url
        requests.append(_Request(parts.hostname, parts.port, tuple(paths),
                                 tuple({"Accept": "application/json", **headers}.items())))
    started = time.process_time()
    try:
        import uvloop
    except ImportError:  # the generator's own cost is alike for every target; uvloop only makes it smaller
        results = asyncio.run(_generate(requests, options))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(_generate(requests, options))
    cpu_seconds = time.process_time() - started
    for result in results:
        result.cpu_seconds = cpu_seconds / len(results)
    return results
