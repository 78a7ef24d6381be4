"""The outbound client's small connection pools: a burst to one host spreads over them, each within its cap."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from src.config import Settings
from src.integrations.http_client import CONNECTIONS_PER_POOL, PooledTransports, create_http_client, send_capped
from tests.receivers import Receiver

BURST = 3 * CONNECTIONS_PER_POOL


@pytest.fixture
def loopback() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def _burst(receiver: Receiver) -> tuple[list[int], list[int], list[int]]:
    """Send BURST concurrent slow requests; statuses, then connections per pool, then busy counts after."""
    for _ in range(BURST):
        receiver.respond("/slow", 200, b"ok", delay=0.3)
    settings = Settings(_env_file=None, ALLOW_PRIVATE_TARGETS=True)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field

    async def main() -> tuple[list[int], list[int], list[int]]:
        async with create_http_client(settings) as client:
            pooled = client._transport  # noqa: SLF001 - the test looks inside the pools
            assert isinstance(pooled, PooledTransports)
            answers = await asyncio.gather(*(send_capped(client, "GET", f"{receiver.url}/slow") for _ in range(BURST)))
            sizes = [len(t._pool.connections) for t in pooled.transports]
            return [a.status_code for a in answers], sizes, list(pooled.busy)

    return asyncio.run(main())


def test_a_burst_to_one_host_is_spread_over_pools_each_within_its_cap(loopback: Receiver) -> None:
    statuses, sizes, _busy = _burst(loopback)
    assert statuses == [200] * BURST
    assert max(sizes) <= CONNECTIONS_PER_POOL
    assert sum(1 for size in sizes if size) >= BURST // CONNECTIONS_PER_POOL


def test_every_pool_is_free_again_once_the_answers_are_read(loopback: Receiver) -> None:
    _statuses, _sizes, busy = _burst(loopback)
    assert set(busy) == {0}
