"""The asyncio network layer (the shadow-read comparer's): TLS, certificate checks, reused and dropped
connections, resets and timeouts, each against a real loopback server, through an httpx client."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpcore
import httpx
import pytest

from src.integrations.asyncio_network import AsyncioBackend
from tests.certificates import self_signed_certificate
from tests.receivers import FaultyServer

pytestmark = pytest.mark.anyio

LIMITS = httpx.Limits(max_connections=5, max_keepalive_connections=5, keepalive_expiry=30)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")


class HttpServer:
    """An asyncio HTTP/1.1 server answering `ok`; counts connections; may close after each answer."""

    def __init__(self, *, close_after_answer: bool = False) -> None:
        self.close_after_answer = close_after_answer
        self.connections = 0
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        writer.close()


@pytest.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[HttpServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    handler = HttpServer()
    server = await asyncio.start_server(handler.serve, "127.0.0.1", 0, ssl=context)
    handler.port = server.sockets[0].getsockname()[1]
    yield handler
    server.close()


@pytest.fixture
async def closing_server() -> AsyncIterator[HttpServer]:
    handler = HttpServer(close_after_answer=True)
    server = await asyncio.start_server(handler.serve, "127.0.0.1", 0)
    handler.port = server.sockets[0].getsockname()[1]
    yield handler
    server.close()


@pytest.fixture
def silent() -> Iterator[FaultyServer]:
    server = FaultyServer("silent").start()
    yield server
    server.stop()


@pytest.fixture
def resetting() -> Iterator[FaultyServer]:
    server = FaultyServer("reset").start()
    yield server
    server.stop()


def _client(context: ssl.SSLContext | None = None, timeout: float = 5.0) -> httpx.AsyncClient:
    """httpx over a pool with our backend (httpx 0.28 takes no network backend, so its pool is replaced)."""
    context = context or ssl.create_default_context()
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False, limits=LIMITS)
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - see docstring
        ssl_context=context, max_connections=LIMITS.max_connections,
        max_keepalive_connections=LIMITS.max_keepalive_connections, keepalive_expiry=LIMITS.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout)


async def test_an_https_target_is_called_over_tls_with_its_certificate_checked(
    tls_server: HttpServer, certificate: tuple[Path, Path]
) -> None:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    async with _client(context) as client:
        response = await client.get(f"https://127.0.0.1:{tls_server.port}/hook")
    assert (response.status_code, response.text) == (200, "ok")


async def test_an_https_target_with_an_untrusted_certificate_is_refused(tls_server: HttpServer) -> None:
    async with _client() as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"https://127.0.0.1:{tls_server.port}/hook")


async def test_a_connection_the_target_closed_while_idle_is_not_reused(closing_server: HttpServer) -> None:
    async with _client() as client:
        first = await client.get(f"http://127.0.0.1:{closing_server.port}/a")
        await asyncio.sleep(0.1)  # the server's close arrives while the connection is idle
        second = await client.get(f"http://127.0.0.1:{closing_server.port}/b")
    assert (first.status_code, second.status_code, closing_server.connections) == (200, 200, 2)


async def test_a_target_that_never_answers_times_out_as_a_read_timeout(silent: FaultyServer) -> None:
    async with _client(timeout=0.5) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(silent.url())


async def test_a_target_that_resets_the_connection_is_a_transport_error(resetting: FaultyServer) -> None:
    async with _client() as client:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await client.get(resetting.url())


async def test_a_closed_port_is_a_connect_error() -> None:
    from tests.receivers import closed_port_url

    async with _client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(closed_port_url())
