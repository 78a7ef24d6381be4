"""PIC teams (contract 6.5–6.8) with the plan's `/teams` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import pic_teams
from src.fastapi_app.dependencies import AdminUser, CurrentUser, JsonBodyDep, SessionDep
from src.fastapi_app.openapi_docs import error_responses, route_doc
from src.schemas.pic_teams import (
    PicTeamCreatedResponse,
    PicTeamDisabledResponse,
    PicTeamListResponse,
    PicTeamOut,
    PicTeamUpdatedResponse,
)
from src.schemas.slug_table_bodies import PicTeamCreateRequest, PicTeamUpdateRequest, SlugTableListQuery

router = APIRouter(tags=["pic-teams"])
CREATE_DOC = route_doc(PicTeamCreateRequest, 400, 401, 403, 409)
UPDATE_DOC = route_doc(PicTeamUpdateRequest, 400, 401, 403, 404, 409)


@router.get("/pic-teams", responses=error_responses(401))
@router.get("/teams", responses=error_responses(401))
async def list_teams(
    user: CurrentUser, session: SessionDep, query: Annotated[SlugTableListQuery, Query()]
) -> PicTeamListResponse:
    rows = await session.run_sync(lambda s: pic_teams.list_teams(s, user, query.include_inactive))
    return PicTeamListResponse(pic_teams=[PicTeamOut.model_validate(row) for row in rows])


@router.post("/pic-teams", status_code=201, **CREATE_DOC)
@router.post("/teams", status_code=201, **CREATE_DOC)
async def create_team(user: AdminUser, body: JsonBodyDep, session: SessionDep) -> PicTeamCreatedResponse:
    team = await session.run_sync(lambda s: pic_teams.create_team(s, body))
    return PicTeamCreatedResponse(pic_team=PicTeamOut.model_validate(team))


@router.put("/pic-teams/{team_id}", **UPDATE_DOC)
@router.put("/teams/{team_id}", **UPDATE_DOC)
async def update_team(team_id: str, user: AdminUser, body: JsonBodyDep, session: SessionDep) -> PicTeamUpdatedResponse:
    team, jobs_updated = await session.run_sync(lambda s: pic_teams.update_team(s, team_id, body))
    return PicTeamUpdatedResponse(pic_team=PicTeamOut.model_validate(team), jobs_updated=jobs_updated)


@router.delete("/pic-teams/{team_id}", responses=error_responses(401, 403, 404))
@router.delete("/teams/{team_id}", responses=error_responses(401, 403, 404))
async def disable_team(team_id: str, user: AdminUser, session: SessionDep) -> PicTeamDisabledResponse:
    team = await session.run_sync(lambda s: pic_teams.disable_team(s, team_id))
    return PicTeamDisabledResponse(pic_team=PicTeamOut.model_validate(team))
