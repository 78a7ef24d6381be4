"""The runs' webhook client (aiohttp) against real loopback servers: framing, the read cap, reuse, the address guard."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from src.config import Settings
from src.integrations.http_client import MAX_READ_BYTES, USER_AGENT, CappedResponse, is_transient
from src.integrations.run_calls import RunCallClient, create_run_call_client, request_url
from tests.certificates import self_signed_certificate

Answer = Callable[[bytes], bytes]


def _settings(allow_private: bool) -> Settings:
    return Settings(_env_file=None, ALLOW_PRIVATE_TARGETS=allow_private)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


class RawServer:
    """A loopback server answering each request head with `answer(head)`; counts connections and requests."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.heads.append(head)
                self.bodies.append(await reader.readexactly(length))
                writer.write(self.answer(head))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _run(server: RawServer, calls: Callable[[RunCallClient, str], Awaitable[Any]], *,
         allow_private: bool = True) -> Any:
    async def main() -> Any:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        client = create_run_call_client(_settings(allow_private))
        try:
            return await calls(client, f"http://127.0.0.1:{port}")
        finally:
            await client.aclose()
            listening.close()

    return asyncio.run(main())


def _post(client: RunCallClient, url: str) -> Awaitable[CappedResponse]:
    return client.send_capped("POST", url, headers={"Content-Type": "application/json"}, content=b'{"a":1}')


def _twice(client: RunCallClient, base: str) -> Awaitable[list[CappedResponse]]:
    async def calls() -> list[CappedResponse]:
        return [await _post(client, base + "/one"), await _post(client, base + "/two")]

    return calls()


def test_a_content_length_answer_is_read_and_its_connection_reused() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nRetry-After: 3\r\n\r\nhello")
    first, second = _run(server, _twice)
    assert (first.status_code, first.text, first.retry_after) == (201, "hello", "3")
    assert second.text == "hello"
    assert server.connections == 1


def test_the_request_carries_host_length_body_and_the_jobs_headers() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("PUT", base + "/p?q=1", headers={"X-Token": "t"}, content=b"body")

    _run(server, call)
    head = server.heads[0].decode()
    assert head.startswith("PUT /p?q=1 HTTP/1.1\r\n")
    assert "Host: 127.0.0.1:" in head and "Content-Length: 4\r\n" in head and "X-Token: t\r\n" in head
    assert server.bodies == [b"body"]
    assert f"User-Agent: {USER_AGENT}\r\n" in head and "Accept-Encoding: gzip, deflate\r\n" in head
    assert "content-type" not in head.lower() and "cookie" not in head.lower()


def test_a_chunked_answer_is_read_whole_and_its_connection_reused() -> None:
    body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"
    server = RawServer(lambda _head: body)
    first, second = _run(server, _twice)
    assert first.text == second.text == "hello world"
    assert server.connections == 1


def test_a_body_larger_than_the_cap_is_cut_and_its_connection_not_reused() -> None:
    """A body still arriving when the cap is reached is not read on: its connection is closed (one that had
    arrived whole may be reused, its framing is intact)."""
    size = 8 * 1024 * 1024
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
    first, second = _run(server, _twice)
    assert len(first.text) <= MAX_READ_BYTES and first.text.startswith("x")
    assert second.status_code == 200
    assert server.connections == 2


def test_an_answer_closed_by_the_server_opens_a_new_connection_next_time() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True)
    first, second = _run(server, _twice)
    assert (first.text, second.text) == ("ok", "ok")
    assert server.connections == 2


def test_a_body_without_length_is_read_until_the_server_closes() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
                       close_after=True)
    answer = _run(server, _post_one)
    assert (answer.text, answer.excerpt) == ("until close", "until close")


def test_a_gzip_answer_is_decoded() -> None:
    packed = gzip.compress(b'{"ok": true}')
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                                     b"Content-Length: %d\r\n\r\n" % len(packed) + packed)
    assert _run(server, _post_one).text == '{"ok": true}'


def test_a_redirect_is_returned_not_followed() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
    assert _run(server, _post_one).status_code == 302
    assert len(server.heads) == 1


def test_loopback_is_refused_when_private_targets_are_off() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(httpx.ConnectError, match="Blocked outbound address"):
        _run(server, _post_one, allow_private=False)
    assert server.connections == 0


def test_a_header_value_with_a_line_break_is_refused_before_sending() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base + "/", headers={"X-A": "1\r\nX-B: 2"}, content=None)

    with pytest.raises(httpx.LocalProtocolError):
        _run(server, call)
    assert server.heads == []


def test_a_silent_server_times_out_as_a_read_timeout() -> None:
    server = RawServer(lambda _head: b"")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base + "/", headers={}, content=None, timeout=0.3)

    with pytest.raises(httpx.ReadTimeout):
        _run(server, call)


def test_a_server_that_stops_reading_the_body_times_out_as_a_write_timeout() -> None:
    """aiohttp has no write timeout of its own; the total bound ends a write the server never takes."""

    class NeverReads(RawServer):
        async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            await asyncio.sleep(10)
            writer.close()

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("POST", base + "/", headers={}, content=b"x" * (64 * 1024 * 1024),
                                        timeout=0.3)

    with pytest.raises(httpx.WriteTimeout):
        _run(NeverReads(lambda _head: b""), call)


def test_a_refused_connection_is_a_connect_error() -> None:
    async def call(client: RunCallClient, _base: str) -> CappedResponse:
        return await client.send_capped("GET", "http://127.0.0.1:1/", headers={}, content=None)

    with pytest.raises(httpx.ConnectError):
        _run(RawServer(lambda _head: b""), call)


def _post_one(client: RunCallClient, base: str) -> Awaitable[CappedResponse]:
    return _post(client, base + "/")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook/1", "https://Example.COM/a-b_c.d~e?x=1&y=two", "http://example.com",
    "https://example.com:443/p", "http://example.com:80/", "http://example.com/a b?c=d e", "http://example.com/%41?q=%20",
    "https://bücher.example/straße", "http://[::1]:9000/x", "https://user:pa%20ss@example.com/x#frag",
    "http://example.com/p;x=(1)?a=b/c?d", "HTTP://EXAMPLE.com:08080/Path", "http://example.com/a%2Fb?x=%2F&y=a+b",
])
def test_a_url_is_sent_as_httpx_sends_it(url: str) -> None:
    target, _authorization = request_url(url)
    parsed = httpx.URL(url)
    default_port = {"http": 80, "https": 443}[parsed.scheme]
    assert (target.scheme, target.raw_host, target.port, target.raw_path_qs) == (
        parsed.scheme, parsed.raw_host.decode(), parsed.port or default_port, parsed.raw_path.decode())


def test_the_user_info_of_a_url_is_sent_as_basic_authorization() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base.replace("//", "//user:secret@") + "/", headers={}, content=None)

    _run(server, call)
    assert b"\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\n" in server.heads[0]


def test_a_jobs_authorization_header_wins_over_the_urls_user_info() -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base.replace("//", "//user:secret@") + "/",
                                         headers={"Authorization": "Bearer t"}, content=None)

    _run(server, call)
    assert b"\r\nAuthorization: Bearer t\r\n" in server.heads[0] and b"Basic" not in server.heads[0]


def test_an_idle_connection_the_server_answered_and_closed_is_not_reused() -> None:
    """A server that sends `408` on an idle connection and closes: the next call must not read that answer."""

    class ClosingWith408(RawServer):
        async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(7)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

    async def calls(client: RunCallClient, base: str) -> list[CappedResponse]:
        first = await _post(client, base + "/")
        await asyncio.sleep(0.2)
        return [first, await _post(client, base + "/")]

    server = ClosingWith408(lambda _head: b"")
    first, second = _run(server, calls)
    assert (first.status_code, second.status_code) == (200, 200)
    assert server.connections == 2


def test_an_idle_connection_past_its_keepalive_is_closed_by_the_client() -> None:
    """An origin not called again keeps no socket open: the server sees the idle connection end."""
    closed = asyncio.Event()

    class NoticesClose(RawServer):
        async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await super().handle(reader, writer)
            closed.set()

    async def main() -> bool:
        server = NoticesClose(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        client = RunCallClient(ssl_context=httpx.create_ssl_context(), guarded=False, timeout=5, max_connections=4,
                               keepalive_seconds=0.2)
        try:
            await _post(client, f"http://127.0.0.1:{port}/")
            await asyncio.wait_for(closed.wait(), 5)
            return closed.is_set()
        finally:
            await client.aclose()
            listening.close()

    assert asyncio.run(main())


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]", "2130706433", "127.1"])
def test_other_spellings_of_loopback_are_refused_when_private_targets_are_off(host: str) -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base.replace("127.0.0.1", host) + "/", headers={}, content=None)

    with pytest.raises((httpx.ConnectError, httpx.InvalidURL)):
        _run(server, call, allow_private=False)
    assert server.connections == 0


@pytest.mark.parametrize("packed", [zlib.compress(b"deflated"), zlib.compress(b"deflated")[2:-4]],
                         ids=["zlib-wrapped", "raw"])
def test_a_deflate_answer_is_decoded_with_or_without_its_zlib_wrapper(packed: bytes) -> None:
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: deflate\r\n"
                                     b"Content-Length: %d\r\n\r\n" % len(packed) + packed)
    assert _run(server, _post_one).text == "deflated"


def test_a_name_resolving_to_loopback_is_refused_and_not_retried() -> None:
    """The guard runs on the addresses a name resolves to (aiohttp's resolver), not only on IP literals."""
    server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async def call(client: RunCallClient, base: str) -> CappedResponse:
        return await client.send_capped("GET", base.replace("127.0.0.1", "localhost") + "/", headers={}, content=None)

    with pytest.raises(httpx.ConnectError, match="Blocked outbound address") as refused:
        _run(server, call, allow_private=False)
    assert server.connections == 0
    assert not is_transient(refused.value)


def test_a_refused_connection_is_transient() -> None:
    async def call(client: RunCallClient, _base: str) -> CappedResponse:
        return await client.send_capped("GET", "http://127.0.0.1:1/", headers={}, content=None)

    with pytest.raises(httpx.ConnectError) as refused:
        _run(RawServer(lambda _head: b""), call)
    assert is_transient(refused.value)


def test_a_malformed_answer_is_a_remote_protocol_error() -> None:
    server = RawServer(lambda _head: b"NOT HTTP AT ALL\r\n\r\n")
    with pytest.raises(httpx.RemoteProtocolError):
        _run(server, _post_one)


def test_a_server_closing_without_an_answer_is_a_remote_protocol_error() -> None:
    server = RawServer(lambda _head: b"", close_after=True)
    with pytest.raises(httpx.RemoteProtocolError):
        _run(server, _post_one)


@pytest.fixture(scope="module")
def localhost_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (openssl), and its key."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "localhost")


def _tls_call(certificate: tuple[Path, Path], host: str, trusted: bool) -> CappedResponse:
    async def main() -> CappedResponse:
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(*certificate)
        server = RawServer(lambda _head: b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntls")
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_context)
        port = listening.sockets[0].getsockname()[1]
        context = ssl.create_default_context(cafile=str(certificate[0])) if trusted else ssl.create_default_context()
        client = RunCallClient(ssl_context=context, guarded=False, timeout=5, max_connections=4)
        try:
            return await client.send_capped("GET", f"https://{host}:{port}/", headers={}, content=None)
        finally:
            await client.aclose()
            listening.close()

    return asyncio.run(main())


def test_an_https_call_verifies_the_certificate_against_the_urls_hostname(
        localhost_certificate: tuple[Path, Path]) -> None:
    assert _tls_call(localhost_certificate, "localhost", trusted=True).text == "tls"


@pytest.mark.parametrize(("host", "trusted"), [("127.0.0.1", True), ("localhost", False)],
                         ids=["another-name", "untrusted"])
def test_an_https_call_with_a_certificate_not_for_it_is_a_connect_error(
        localhost_certificate: tuple[Path, Path], host: str, trusted: bool) -> None:
    with pytest.raises(httpx.ConnectError):
        _tls_call(localhost_certificate, host, trusted)
