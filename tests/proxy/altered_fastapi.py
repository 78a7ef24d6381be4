"""A test build of the FastAPI door that answers one route differently (issue 18, item 2).

`uvicorn --factory tests.proxy.altered_fastapi:create_app`: the real app, with each category's
`slug` upper-cased in `GET /api/v2/job-categories` answers: a deliberate parity break for the
comparer to find. Never used outside tests.
"""

from __future__ import annotations

import json
from typing import Any

from src.fastapi_app.main import create_app as create_real_app

ALTERED_PATH = "/api/v2/job-categories"


class UpperCaseCategorySlugs:
    """ASGI wrapper: rewrites the JSON body of GET ALTERED_PATH, passes everything else through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != ALTERED_PATH:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.loads(b"".join(chunks))
            for category in body.get("categories", []):
                category["slug"] = category["slug"].upper()
            encoded = json.dumps(body).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(encoded)).encode())]})
            await send({"type": "http.response.body", "body": encoded})

        await self.app(scope, receive, capture)


def create_app() -> Any:
    app = create_real_app()
    # The lifespan and app.state stay the real app's: uvicorn forwards lifespan events through.
    return UpperCaseCategorySlugs(app)
