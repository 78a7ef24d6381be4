"""Job categories (contract 6.1-6.4), with the plan's /categories aliases."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import categories
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, current_user, db_session, json_body, query_params, render
from src.schemas.categories import (
    CategoryCreatedResponse,
    CategoryDisabledResponse,
    CategoryListResponse,
    CategoryOut,
    CategoryUpdatedResponse,
)
from src.schemas.slug_table_bodies import SlugTableListQuery

bp = Blueprint("categories", __name__)


@bp.get("/job-categories")
@bp.get("/categories")
@auth_required()
def list_categories() -> Response:
    rows = categories.list_categories(
        db_session(), current_user(), query_params(SlugTableListQuery).include_inactive
    )
    return render(CategoryListResponse(categories=[CategoryOut.model_validate(row) for row in rows]))


@bp.post("/job-categories")
@bp.post("/categories")
@auth_required(roles=ADMIN)
def create_category() -> Response:
    category = categories.create_category(db_session(), json_body())
    return render(CategoryCreatedResponse(category=CategoryOut.model_validate(category)), 201)


@bp.put("/job-categories/<category_id>")
@bp.put("/categories/<category_id>")
@auth_required(roles=ADMIN)
def update_category(category_id: str) -> Response:
    category, jobs_updated = categories.update_category(db_session(), category_id, json_body())
    return render(
        CategoryUpdatedResponse(category=CategoryOut.model_validate(category), jobs_updated=jobs_updated)
    )


@bp.delete("/job-categories/<category_id>")
@bp.delete("/categories/<category_id>")
@auth_required(roles=ADMIN)
def disable_category(category_id: str) -> Response:
    category = categories.disable_category(db_session(), category_id)
    return render(CategoryDisabledResponse(category=CategoryOut.model_validate(category)))
