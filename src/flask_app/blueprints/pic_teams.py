"""PIC teams (contract 6.5-6.8), with the plan's /teams aliases."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import pic_teams
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, current_user, db_session, json_body, query_params, render
from src.schemas.pic_teams import (
    PicTeamCreatedResponse,
    PicTeamDisabledResponse,
    PicTeamListResponse,
    PicTeamOut,
    PicTeamUpdatedResponse,
)
from src.schemas.slug_table_bodies import SlugTableListQuery

bp = Blueprint("pic_teams", __name__)


@bp.get("/pic-teams")
@bp.get("/teams")
@auth_required()
def list_teams() -> Response:
    rows = pic_teams.list_teams(db_session(), current_user(), query_params(SlugTableListQuery).include_inactive)
    return render(PicTeamListResponse(pic_teams=[PicTeamOut.model_validate(row) for row in rows]))


@bp.post("/pic-teams")
@bp.post("/teams")
@auth_required(roles=ADMIN)
def create_team() -> Response:
    team = pic_teams.create_team(db_session(), json_body())
    return render(PicTeamCreatedResponse(pic_team=PicTeamOut.model_validate(team)), 201)


@bp.put("/pic-teams/<team_id>")
@bp.put("/teams/<team_id>")
@auth_required(roles=ADMIN)
def update_team(team_id: str) -> Response:
    team, jobs_updated = pic_teams.update_team(db_session(), team_id, json_body())
    return render(PicTeamUpdatedResponse(pic_team=PicTeamOut.model_validate(team), jobs_updated=jobs_updated))


@bp.delete("/pic-teams/<team_id>")
@bp.delete("/teams/<team_id>")
@auth_required(roles=ADMIN)
def disable_team(team_id: str) -> Response:
    team = pic_teams.disable_team(db_session(), team_id)
    return render(PicTeamDisabledResponse(pic_team=PicTeamOut.model_validate(team)))
