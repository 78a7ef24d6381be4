"""Job categories (contract 6.1–6.4) with the plan's `/categories` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import categories
from src.fastapi_app.dependencies import AdminUser, CurrentUser, JsonBodyDep, SessionDep
from src.fastapi_app.openapi_docs import error_responses, route_doc
from src.schemas.categories import (
    CategoryCreatedResponse,
    CategoryDisabledResponse,
    CategoryListResponse,
    CategoryOut,
    CategoryUpdatedResponse,
)
from src.schemas.slug_table_bodies import CategoryCreateRequest, CategoryUpdateRequest, SlugTableListQuery

router = APIRouter(tags=["categories"])
CREATE_DOC = route_doc(CategoryCreateRequest, 400, 401, 403, 409)
UPDATE_DOC = route_doc(CategoryUpdateRequest, 400, 401, 403, 404, 409)


@router.get("/job-categories", responses=error_responses(401))
@router.get("/categories", responses=error_responses(401))
async def list_categories(
    user: CurrentUser, session: SessionDep, query: Annotated[SlugTableListQuery, Query()]
) -> CategoryListResponse:
    rows = await session.run_sync(lambda s: categories.list_categories(s, user, query.include_inactive))
    return CategoryListResponse(categories=[CategoryOut.model_validate(row) for row in rows])


@router.post("/job-categories", status_code=201, **CREATE_DOC)
@router.post("/categories", status_code=201, **CREATE_DOC)
async def create_category(user: AdminUser, body: JsonBodyDep, session: SessionDep) -> CategoryCreatedResponse:
    category = await session.run_sync(lambda s: categories.create_category(s, body))
    return CategoryCreatedResponse(category=CategoryOut.model_validate(category))


@router.put("/job-categories/{category_id}", **UPDATE_DOC)
@router.put("/categories/{category_id}", **UPDATE_DOC)
async def update_category(
    category_id: str, user: AdminUser, body: JsonBodyDep, session: SessionDep
) -> CategoryUpdatedResponse:
    category, jobs_updated = await session.run_sync(lambda s: categories.update_category(s, category_id, body))
    return CategoryUpdatedResponse(category=CategoryOut.model_validate(category), jobs_updated=jobs_updated)


@router.delete("/job-categories/{category_id}", responses=error_responses(401, 403, 404))
@router.delete("/categories/{category_id}", responses=error_responses(401, 403, 404))
async def disable_category(category_id: str, user: AdminUser, session: SessionDep) -> CategoryDisabledResponse:
    category = await session.run_sync(lambda s: categories.disable_category(s, category_id))
    return CategoryDisabledResponse(category=CategoryOut.model_validate(category))
