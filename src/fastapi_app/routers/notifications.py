"""The caller's notifications (contract 6.9); literal paths are declared before `{id}` paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import notifications
from src.core.request_parsing import query_bool
from src.fastapi_app.dependencies import CurrentUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.notifications import (
    DeletedCountResponse,
    NotificationDeletedResponse,
    NotificationOut,
    NotificationPageResponse,
    NotificationReadResponse,
    ReadAllResponse,
    UnreadCountResponse,
)

router = APIRouter(tags=["notifications"])
QueryText = Annotated[str | None, Query()]
FromQuery = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO 8601 (inclusive)")]
ToQuery = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (day included) or ISO 8601 (exclusive)")]


@router.get("/notifications", responses=error_responses(400, 401))
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    page: QueryText = None,
    per_page: QueryText = None,
    unread_only: QueryText = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> NotificationPageResponse:
    result = await session.run_sync(
        lambda s: notifications.list_notifications(
            s, user, page=page, per_page=per_page, unread_only=query_bool(unread_only),
            date_from=date_from, date_to=date_to,
        )
    )
    return NotificationPageResponse.model_validate(result)


@router.get("/notifications/unread-count", responses=error_responses(400, 401))
async def unread_count(
    user: CurrentUser, session: SessionDep, date_from: FromQuery = None, date_to: ToQuery = None
) -> UnreadCountResponse:
    result = await session.run_sync(
        lambda s: notifications.unread_count(s, user, date_from=date_from, date_to=date_to)
    )
    return UnreadCountResponse.model_validate(result)


@router.put("/notifications/read-all", responses=error_responses(401))
async def mark_all_read(user: CurrentUser, session: SessionDep) -> ReadAllResponse:
    return ReadAllResponse(updated_count=await session.run_sync(lambda s: notifications.mark_all_read(s, user)))


@router.delete("/notifications/delete-read", responses=error_responses(400, 401))
@router.delete("/notifications/read", responses=error_responses(400, 401))
async def delete_read(
    user: CurrentUser, session: SessionDep, date_from: FromQuery = None, date_to: ToQuery = None
) -> DeletedCountResponse:
    deleted = await session.run_sync(
        lambda s: notifications.delete_read(s, user, date_from=date_from, date_to=date_to)
    )
    return DeletedCountResponse(deleted_count=deleted)


@router.put("/notifications/{notification_id}/read", responses=error_responses(401, 403, 404))
async def mark_read(notification_id: str, user: CurrentUser, session: SessionDep) -> NotificationReadResponse:
    notification = await session.run_sync(lambda s: notifications.mark_read(s, user, notification_id))
    return NotificationReadResponse(notification=NotificationOut.model_validate(notification))


@router.delete("/notifications/{notification_id}", responses=error_responses(401, 403, 404))
async def delete_notification(
    notification_id: str, user: CurrentUser, session: SessionDep
) -> NotificationDeletedResponse:
    await session.run_sync(lambda s: notifications.delete_notification(s, user, notification_id))
    return NotificationDeletedResponse()
