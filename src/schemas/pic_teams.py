"""Response bodies of the PIC-team endpoints (contract 2.6, 6.5-6.8)."""

from __future__ import annotations

from src.schemas.common import ApiModel, UtcInstant


class PicTeamOut(ApiModel):
    id: str
    slug: str
    name: str
    slack_handle: str | None
    is_active: bool
    created_at: UtcInstant
    updated_at: UtcInstant


class PicTeamListResponse(ApiModel):
    pic_teams: list[PicTeamOut]


class PicTeamCreatedResponse(ApiModel):
    message: str = "PIC team created"
    pic_team: PicTeamOut


class PicTeamUpdatedResponse(ApiModel):
    message: str = "PIC team updated"
    pic_team: PicTeamOut
    jobs_updated: int = 0


class PicTeamDisabledResponse(ApiModel):
    message: str = "PIC team disabled"
    pic_team: PicTeamOut
