"""The shadow-read parity report for operators (contract 6.12, FastAPI door only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import parity
from src.fastapi_app.dependencies import AdminUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.parity import ParityReportResponse

router = APIRouter(tags=["admin"])


@router.get("/admin/parity", responses=error_responses(400, 401, 403))
async def parity_report(
    user: AdminUser,
    session: SessionDep,
    # The pattern documents parse_window's rule; the core refuses with the contract's own 400.
    since: Annotated[str, Query(
        description="A window such as 30m, 24h or 7d (n >= 1)", json_schema_extra={"pattern": parity.WINDOW_PATTERN},
    )] = parity.DEFAULT_WINDOW,
) -> ParityReportResponse:
    window = parity.parse_window(since)
    body = await session.run_sync(lambda s: parity.parity_report(s, window))
    return ParityReportResponse.model_validate(body)
