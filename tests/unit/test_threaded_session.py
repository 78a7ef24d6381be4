"""The FastAPI door's request sessions under more concurrent requests than the pool has connections."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from src.config import Settings
from src.fastapi_app.main import create_app
from tests.conftest import Factory


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_sixty_concurrent_requests_all_answer_with_a_pool_of_fifteen(settings: Settings, factory: Factory) -> None:
    token = factory.token(factory.user("viewer"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://door", timeout=20) as client:
            responses = await asyncio.gather(*(
                client.get("/api/v2/auth/me", headers={"Authorization": f"Bearer {token}"}) for _ in range(60)
            ))
    assert [response.status_code for response in responses] == [200] * 60
