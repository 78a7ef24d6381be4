"""httpcore's network layer on plain asyncio streams, for the shadow-read comparer's pool.

httpcore's default backend goes through anyio: a cancel scope per read and write, and a fresh
attribute table each time the pool asks whether an idle connection is still usable. Under a
burst of webhook calls (when they still went through httpx) that was a large share of each
call's CPU on the event loop that also fires the schedule (py-spy, scheduler benchmark). Same
contract as httpcore's backends: timeouts and socket errors come out as httpcore's exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
from httpcore._utils import is_socket_readable  # the check httpcore's own backends use

# Enough for a capped response body (4 KB) and its headers in one or two reads.
READ_LIMIT = 64 * 1024


@contextmanager
def _mapped(timeout_error: type[Exception], os_error: type[Exception]) -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise timeout_error(str(exc)) from exc
    except (OSError, EOFError, ssl.SSLError) as exc:
        raise os_error(str(exc) or type(exc).__name__) from exc


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as asyncio's reader and writer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._socket = writer.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):  # the peer already went away: closed either way
            await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except Exception:
            await self.aclose()
            raise
        return AsyncioStream(self._reader, self._writer)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            # An idle connection with something to read was closed by the server (or broken).
            reader = self._reader
            return reader.at_eof() or reader.exception() is not None or is_socket_readable(self._socket)
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._socket
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections with asyncio (TCP_NODELAY on, as httpcore's backends do)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, limit=READ_LIMIT,
                    local_addr=(local_address, 0) if local_address else None,
                )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for outbound calls")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
