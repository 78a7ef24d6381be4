"""Cron tools (contract 4.8, 4.9, 4.11) with the plan's `/cron/*` aliases."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import cron_tools
from src.flask_app.door import auth_required, json_model, render, settings
from src.schemas.cron_bodies import CronExpressionRequest, CronPreviewRequest
from src.schemas.jobs import CronDescriptionResponse, CronPreviewResponse, CronValidationResponse

bp = Blueprint("cron", __name__)


@bp.post("/jobs/validate-cron")
@bp.post("/cron/validate")
@auth_required()
def validate_cron() -> Response:
    return render(CronValidationResponse.of(cron_tools.validate_cron(json_model(CronExpressionRequest))))


@bp.post("/jobs/cron-preview")
@bp.post("/cron/next-runs")
@auth_required()
def cron_preview() -> Response:
    return render(CronPreviewResponse.of(cron_tools.cron_preview(json_model(CronPreviewRequest), settings())))


@bp.post("/jobs/cron-description")
@auth_required()
def cron_description() -> Response:
    described = cron_tools.cron_description(json_model(CronExpressionRequest), settings())
    return render(CronDescriptionResponse.of(described))
