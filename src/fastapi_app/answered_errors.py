"""An unexpected error that was already answered (the 500 envelope sent) ends in the app.

Starlette's ServerErrorMiddleware sends the 500 envelope and then re-raises for the server to
log; uvicorn answers a re-raised exception by closing the connection. Behind nginx that is a
kept-alive upstream connection: nginx sent the next request (another client's) on it and got
"Connection reset by peer", a 503 for a client that did nothing wrong (issue 15, item 2).
The envelope handler has logged the traceback already, so nothing is lost by stopping it here.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AnsweredErrorsEndHere:
    """Outermost ASGI wrapper: swallow an exception raised after its response was fully sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def send_watched(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True

        try:
            await self.app(scope, receive, send_watched)
        except Exception:
            if not answered:
                raise  # no answer yet: the server's own 500 (and close) is all that is left


class KeepAliveDoor(FastAPI):
    """FastAPI whose middleware stack is wrapped in AnsweredErrorsEndHere."""

    def build_middleware_stack(self) -> ASGIApp:
        return AnsweredErrorsEndHere(super().build_middleware_stack())
