"""The shadow-read parity report for operators (contract 6.12, FastAPI door only)."""

from __future__ import annotations

from fastapi import APIRouter

from src.core import parity
from src.fastapi_app.dependencies import AdminUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.parity import ParityReportResponse

router = APIRouter(tags=["admin"])


@router.get("/admin/parity", responses=error_responses(400, 401, 403))
async def parity_report(
    user: AdminUser, session: SessionDep, since: str = parity.DEFAULT_WINDOW
) -> ParityReportResponse:
    window = parity.parse_window(since)
    body = await session.run_sync(lambda s: parity.parity_report(s, window))
    return ParityReportResponse.model_validate(body)
