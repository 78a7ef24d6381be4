"""gunicorn's threaded worker whose pool adds a thread while one of its threads waits on a run.

The legacy door's manual execute and test run are synchronous (contract 4.6): the request thread
waits, for as long as the target takes, on work running on the process's event loop. With a
fixed pool of `threads`, a few slow targets held every thread and `/api/health` queued behind
them (24 runs against an 8 s target: health took 6.6 s). A view about to wait enters
`environ[WAITING_ON_RUN]()` (a context manager); while it is inside, the pool may run one more
thread, so `threads` stay free for everything else. The waits hold no database connection.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from src.core.server_refusals import refusal_response

# The WSGI environ key of the wait hint (read by src/flask_app/door.py).
WAITING_ON_RUN = "cronjobs.waiting_on_run"


class CompensatingThreadPool:
    """A thread pool of `size` threads, plus one for each thread inside `waiting()`."""

    def __init__(self, size: int, name: str = "gunicorn-request") -> None:
        self._size = max(1, size)
        self._name = name
        self._cond = threading.Condition()
        self._tasks: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()
        self._threads = 0
        self._idle = 0
        self._waiting = 0
        self._stopping = False

    def _capacity(self) -> int:
        return self._size + self._waiting

    def _staff(self) -> None:
        """Under the lock: start a thread when queued work outnumbers idle threads and there is room."""
        if len(self._tasks) > self._idle and self._threads < self._capacity():
            self._threads += 1
            threading.Thread(target=self._work, name=f"{self._name}-{self._threads}", daemon=True).start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("cannot submit after shutdown")
            self._tasks.append((future, fn, args))
            self._staff()
            self._cond.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._tasks:
                    if self._stopping or self._threads > self._capacity():
                        self._threads -= 1
                        return
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                future, fn, args = self._tasks.popleft()
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:  # handed to the future, as ThreadPoolExecutor does
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            with self._cond:
                # A thread back from waiting made the pool one too many: the first free one leaves.
                if self._threads > self._capacity():
                    self._threads -= 1
                    return

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a pool thread's long wait: the pool may run one more thread meanwhile."""
        with self._cond:
            self._waiting += 1
            self._staff()
        try:
            yield
        finally:
            with self._cond:
                self._waiting -= 1

    def shutdown(self, wait: bool = True) -> None:
        """No new work; idle threads leave, busy ones after their task (they are daemon threads)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()


class EnvelopeErrorSocket:
    """The client socket as gunicorn's error writer sees it: its HTML page becomes the envelope.

    gunicorn writes each refusal (bad request line or header, too many headers, 500) as one HTML
    response through the socket it is handed; only the status is kept from it.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def sendall(self, data: bytes) -> None:
        status_line = data.split(b"\r\n", 1)[0].split()
        status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 400
        self._client.sendall(refusal_response(status))

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class CompensatingThreadWorker(ThreadWorker):
    """gthread with a CompensatingThreadPool, offered to the app as `environ[WAITING_ON_RUN]`."""

    def get_thread_pool(self) -> CompensatingThreadPool:
        return CompensatingThreadPool(self.cfg.threads)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's own refusal (status and logging decided by gunicorn), sent as the JSON envelope."""
        super().handle_error(req, EnvelopeErrorSocket(client), addr, exc)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = self.wsgi  # type: ignore[has-type]  # set by gunicorn's untyped base class

        def with_wait_hint(environ: dict[str, Any], start_response: Any) -> Any:
            environ[WAITING_ON_RUN] = self.tpool.waiting
            return app(environ, start_response)

        self.wsgi = with_wait_hint
