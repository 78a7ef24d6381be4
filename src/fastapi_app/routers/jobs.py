"""Jobs CRUD (contract 4.1–4.5): parse, authorize, call core, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from src.core import jobs
from src.core.job_list_cache import etag_matches, job_list_headers, render_job_query
from src.core.job_queries import job_query
from src.core.job_views import new_job_view, one_job_view
from src.fastapi_app.dependencies import (
    BodyReaderDep,
    CurrentUser,
    JobListCacheDep,
    JsonBodyDep,
    SessionDep,
    SettingsDep,
    WriterUser,
)
from src.fastapi_app.openapi_docs import error_responses, json_body
from src.schemas.job_bodies import JobCreateRequest, JobListQuery, JobUpdateRequest
from src.schemas.jobs import (
    JobCreatedResponse,
    JobDeletedResponse,
    JobDetailResponse,
    JobListDoc,
    JobUpdatedResponse,
    job_page_body,
)

router = APIRouter(tags=["jobs"])


@router.get(
    "/jobs",
    response_model=JobListDoc,
    responses=error_responses(400, 401),
    description="Without query parameters: every job. With any: the matching page (contract 4.1).",
)
async def list_jobs(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep, job_list: JobListCacheDep,
    params: Annotated[JobListQuery, Query()],
) -> Response:
    query = job_query(params)
    rendered = await session.run_sync(
        lambda s: job_list.get(s, settings) if query is None else render_job_query(s, settings, query, job_page_body)
    )
    if etag_matches(request.headers.get("If-None-Match"), rendered.etag):
        return Response(status_code=304, headers=job_list_headers(rendered))
    return Response(rendered.body, media_type="application/json", headers=job_list_headers(rendered))


@router.post(
    "/jobs", status_code=201, responses=error_responses(400, 401, 403), openapi_extra=json_body(JobCreateRequest)
)
async def create_job(
    user: WriterUser, body: JsonBodyDep, session: SessionDep, settings: SettingsDep
) -> JobCreatedResponse:
    def create(s):
        return JobCreatedResponse.of(new_job_view(settings, jobs.create_job(s, settings, user, body)))

    return await session.run_write(create)


@router.get("/jobs/{job_id}", responses=error_responses(401, 404))
async def get_job(job_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> JobDetailResponse:
    return await session.run_sync(lambda s: JobDetailResponse.of(one_job_view(s, settings, jobs.get_job(s, job_id))))


@router.put(
    "/jobs/{job_id}", responses=error_responses(400, 401, 403, 404), openapi_extra=json_body(JobUpdateRequest)
)
async def update_job(
    job_id: str, user: CurrentUser, read_body: BodyReaderDep, session: SessionDep, settings: SettingsDep
) -> JobUpdatedResponse:
    def update(s):
        return JobUpdatedResponse.of(one_job_view(s, settings, jobs.update_job(s, settings, user, job_id, read_body)))

    return await session.run_write(update)


@router.delete("/jobs/{job_id}", responses=error_responses(401, 403, 404))
async def delete_job(job_id: str, user: CurrentUser, session: SessionDep) -> JobDeletedResponse:
    deleted = await session.run_write(lambda s: jobs.delete_job(s, user, job_id))
    return JobDeletedResponse.of(deleted)
