"""The door's one way to run core code (ThreadedUnitOfWork), settings and run services.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, a
thread hop per request for what is an attribute lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from src.config import Settings
from src.core.job_list_cache import JobListCache
from src.fastapi_app.threaded_unit_of_work import ThreadedUnitOfWork
from src.scheduler.services import ExecutionServices


async def get_session(request: Request) -> ThreadedUnitOfWork:
    return request.app.state.unit_of_work


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_services(request: Request) -> ExecutionServices:
    return request.app.state.services


async def get_job_list_cache(request: Request) -> JobListCache:
    return request.app.state.job_list_cache


SessionDep = Annotated[ThreadedUnitOfWork, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[ExecutionServices, Depends(get_services)]
JobListCacheDep = Annotated[JobListCache, Depends(get_job_list_cache)]
