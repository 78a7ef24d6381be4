"""A loopback webhook receiver that answers every POST after a fixed delay, for the test-run cases.

    .venv/bin/python -m bench.api.slow_receiver --port 9100 [--delay 0.2]

A POST to a path under `/instant` is answered at once: the test-run case that measures the doors'
work rather than the delay. Plain asyncio HTTP/1.1 with keep-alive, so its own cost stays far
below the doors'. `GET /count` answers at once with how many POSTs were answered, so the
benchmark can check that every test-run really reached it (a refused URL still answers 200
`{"ok": false}` on both doors).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

MAX_HEADER_BYTES = 64 * 1024


class Receiver:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.answered = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the client closed or asked to close."""
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            return False
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if length:
            await reader.readexactly(length)
        if request_line.startswith("GET /count"):
            body = json.dumps({"answered": self.answered}).encode()
        else:
            if not request_line.startswith("POST /instant"):
                await asyncio.sleep(self.delay)
            self.answered += 1
            body = b'{"received":true}'
        keep_alive = headers.get("connection", "").lower() != "close"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                     + (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n" + body)
        await writer.drain()
        return keep_alive


async def serve(port: int, delay: float) -> None:
    receiver = Receiver(delay)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.delay))


if __name__ == "__main__":
    main()
