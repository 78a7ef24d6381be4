"""Jobs CRUD (contract 4.1–4.5): parse, authorize, call core, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from src.core import jobs
from src.core.job_list_cache import etag_matches, job_list_headers, render_job_query
from src.core.job_queries import job_query
from src.core.job_views import new_job_view, one_job_view
from src.core.roles import ADMIN_OR_USER
from src.flask_app.door import (
    auth_required,
    current_user,
    db_session,
    job_list_cache,
    json_body,
    query_params,
    render,
    settings,
)
from src.schemas.job_bodies import JobListQuery
from src.schemas.jobs import (
    JobCreatedResponse,
    JobDeletedResponse,
    JobDetailResponse,
    JobUpdatedResponse,
    job_page_body,
)

bp = Blueprint("jobs", __name__)


@bp.get("/jobs")
@auth_required()
def list_jobs() -> Response:
    query = job_query(query_params(JobListQuery))
    session = db_session()
    if query is None:
        rendered = job_list_cache().get(session, settings())
    else:
        rendered = render_job_query(session, settings(), query, job_page_body)
    if etag_matches(request.headers.get("If-None-Match"), rendered.etag):
        return Response(status=304, headers=job_list_headers(rendered))
    return Response(rendered.body, mimetype="application/json", headers=job_list_headers(rendered))


@bp.post("/jobs")
@auth_required(roles=ADMIN_OR_USER)
def create_job() -> Response:
    session = db_session()
    job = jobs.create_job(session, settings(), current_user(), json_body())
    return render(JobCreatedResponse.of(new_job_view(settings(), job)), 201)


@bp.get("/jobs/<job_id>")
@auth_required()
def get_job(job_id: str) -> Response:
    session = db_session()
    return render(JobDetailResponse.of(one_job_view(session, settings(), jobs.get_job(session, job_id))))


@bp.put("/jobs/<job_id>")
@auth_required()
def update_job(job_id: str) -> Response:
    session = db_session()
    job = jobs.update_job(session, settings(), current_user(), job_id, json_body)
    return render(JobUpdatedResponse.of(one_job_view(session, settings(), job)))


@bp.delete("/jobs/<job_id>")
@auth_required()
def delete_job(job_id: str) -> Response:
    deleted = jobs.delete_job(db_session(), current_user(), job_id)
    return render(JobDeletedResponse.of(deleted))
