"""The soak's webhook target: a small asyncio HTTP/1.1 server recording (job, arrival time).

It runs on its own thread and event loop, so the traffic clients never delay an arrival's
timestamp. Every request is answered `200 ok`; keep-alive is honoured, as the scheduler's
httpx client reuses connections. The job is the last path segment (`/fire/<job>`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
_MAX_HEADER_LINES = 100


@dataclass(frozen=True)
class Arrival:
    path: str
    job: str
    at: float  # epoch seconds (time.time())


class SoakReceiver:
    """Start with `start()`, read `arrivals`, stop with `stop()`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SoakReceiver:
        self._thread = threading.Thread(target=self._run, name="soak-receiver", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("soak receiver did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def snapshot(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)

    def count_since(self, path_prefix: str, since: float) -> Counter[str]:
        """Arrivals per job on paths starting with `path_prefix` at or after `since`."""
        return Counter(a.job for a in self.snapshot() if a.path.startswith(path_prefix) and a.at >= since)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._serve, self.host, 0, backlog=1024))
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                at = time.time()
                parts = request_line.decode("latin-1").split()
                if len(parts) < 2:
                    return
                length, keep_alive = 0, not parts[-1].endswith("1.0")
                for _ in range(_MAX_HEADER_LINES):
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip().lower()
                    if name == "content-length":
                        length = int(value or 0)
                    elif name == "connection":
                        keep_alive = value != "close"
                if length:
                    await reader.readexactly(length)
                path = parts[1].split("?", 1)[0]
                with self._lock:
                    self.arrivals.append(Arrival(path, path.rstrip("/").rsplit("/", 1)[-1], at))
                writer.write(_ANSWER)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()
