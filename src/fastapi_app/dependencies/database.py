"""The request's AsyncSession (opened by TransactionalRoute), settings and run services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from src.config import Settings
from src.scheduler.services import RunServices


def get_session(request: Request) -> AsyncSession:
    return request.state.db  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_services(request: Request) -> RunServices:
    return request.app.state.services  # type: ignore[no-any-return]


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[RunServices, Depends(get_services)]
