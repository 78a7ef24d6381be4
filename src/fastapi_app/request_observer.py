"""Every request's id, `X-Served-By`, metrics and log line, as a plain ASGI middleware.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) wraps each response in a stream and
extra tasks, a cost docs/PERFORMANCE.md measured on /auth/me. This does the same work by
watching the `http.response.start` message go by.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.core.request_log import REQUEST_ID_HEADER, log_request, request_id_from
from src.observability.json_logs import bind_request_id, unbind_request_id
from src.observability.metrics import Metrics

_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")


class RequestObserver:
    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, route_template: Callable[[BaseRoute | None], str]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.route_template = route_template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = next((value for key, value in scope["headers"] if key == _REQUEST_ID_KEY), None)
        request_id = request_id_from(sent_id.decode("latin-1") if sent_id is not None else None)
        bound = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500  # an exception no handler turned into a response
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            seconds = time.perf_counter() - started
            route = self.route_template(scope.get("route"))
            self.metrics.observe_request("fastapi", scope["method"], route, status, seconds)
            log_request("fastapi", request_id, scope["method"], scope["path"], route, status, seconds * 1000)

        async def send_marked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Served-By"] = "fastapi"
                headers[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Before the last bytes leave: a client that got its answer finds the line logged.
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        finally:
            if not recorded:
                record()
            unbind_request_id(bound)
