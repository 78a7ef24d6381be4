"""Real loopback servers for outbound tests: an HTTP receiver that records requests, an SMTP sink,
and TCP servers that reset or never answer (FaultyServer).

Import the fixtures into a test module: `from tests.receivers import receiver, smtp  # noqa: F401`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from aiosmtpd.smtp import SMTP, Envelope


class _LoopbackHTTPServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a wave of 50+ dispatches overflowed it, and the
    # dropped handshakes' retransmits pushed answers past the scheduler's read timeout.
    request_queue_size = 512
    daemon_threads = True


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Held until the test sets it: a target that answers only when released.
    gate: threading.Event | None = None


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers per path."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: dict[str, list[Reply]] = {}
        self.default = Reply()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append(
                    Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                reply = receiver._reply_for(self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.gate is not None:
                    reply.gate.wait(120)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (e.g. its timeout fired)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = _LoopbackHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _reply_for(self, path: str) -> Reply:
        queue = self.replies.get(path.split("?", 1)[0])
        if not queue:
            return self.default
        # The last reply for a path keeps answering once the earlier ones are used up.
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def respond(
        self, path: str, status: int = 200, body: bytes | str = b"ok", *, delay: float = 0.0,
        gate: threading.Event | None = None, **headers: str
    ) -> None:
        """Queue a reply for `path` (several calls answer successive requests in order)."""
        raw = body.encode() if isinstance(body, str) else body
        self.replies.setdefault(path, []).append(Reply(status, raw, headers, delay, gate))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


class FaultyServer:
    """A TCP server on 127.0.0.1 that accepts connections and then misbehaves.

    `reset`: reads what the client sends, then closes with a TCP reset (SO_LINGER 0).
    `silent`: reads what the client sends and never answers (the connection stays open until
    `stop`), like a frozen server or a black hole past the handshake. Also used as a "database"
    that accepts TCP but never speaks.
    """

    def __init__(self, mode: Literal["reset", "silent"], port: int = 0) -> None:
        self.mode = mode
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            connection.settimeout(0.5)
            with contextlib.suppress(OSError):
                connection.recv(65536)  # the request (or a startup packet) has arrived
            if self.mode == "reset":
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            else:
                self._held.append(connection)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FaultyServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def resetting_server() -> Iterator[FaultyServer]:
    server = FaultyServer("reset").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def silent_server() -> Iterator[FaultyServer]:
    server = FaultyServer("silent").start()
    try:
        yield server
    finally:
        server.stop()


def closed_port_url(path: str = "/hook") -> str:
    """A loopback URL nothing listens on (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


# --- SMTP ----------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: Message

    @property
    def subject(self) -> str:
        from email.header import decode_header, make_header

        return str(make_header(decode_header(self.message["Subject"] or "")))

    def parts(self) -> dict[str, str]:
        """Body text by content type (`text/plain`, `text/html`)."""
        found: dict[str, str] = {}
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                payload = part.get_payload(decode=True) or b""
                found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
        return found


class SmtpSink:
    """An aiosmtpd server on its own loop thread, collecting every accepted message.

    `data_reply` is the answer to each message; a 5xx one refuses it (nothing is collected).
    """

    def __init__(self, data_reply: str = "250 Message accepted") -> None:
        self.data_reply = data_reply
        self.mails: list[Mail] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def handle_DATA(self, _server: SMTP, _session: Any, envelope: Envelope) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        self.mails.append(Mail(envelope.mail_from or "", list(envelope.rcpt_tos), message_from_bytes(data)))
        return self.data_reply

    def start(self) -> SmtpSink:
        self.thread.start()

        async def serve() -> asyncio.base_events.Server:
            return await self.loop.create_server(lambda: SMTP(self, hostname="sink.test"), "127.0.0.1", 0)

        self._server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()
