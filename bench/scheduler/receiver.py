"""Loopback webhook receiver for the scheduler benchmark: answers 200 at once, records arrivals.

Runs as its own process (`python -m bench.scheduler.receiver --port N`) so its work does not
share the scheduler's event loop. Raw asyncio HTTP/1.1 with keep-alive, because a framework's
per-request cost would be measured as scheduler lag. Every request except the control path is
recorded as (path, wall-clock arrival time); `GET /_arrivals` returns them all as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

CONTROL_PATH = "/_arrivals"
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Arrivals:
    """Every recorded request: path and `time.time()` when its body had been read."""

    def __init__(self) -> None:
        self.items: list[tuple[str, float]] = []

    def response(self) -> bytes:
        body = json.dumps({"arrivals": self.items}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str] | None:
    """Method and path of the next request on the connection (body consumed); None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return method, path


def handler(arrivals: Arrivals):  # type: ignore[no-untyped-def]  # returns a handler class built inside
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                _method, path = request
                if path == CONTROL_PATH:
                    writer.write(arrivals.response())
                else:
                    arrivals.items.append((path, time.time()))
                    writer.write(_OK)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return handle


async def serve(port: int) -> None:
    arrivals = Arrivals()
    server = await asyncio.start_server(handler(arrivals), "127.0.0.1", port, backlog=4096)
    print(f"receiver listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
