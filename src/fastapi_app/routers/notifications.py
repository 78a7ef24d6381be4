"""The caller's notifications (contract 6.9); literal paths are declared before `{id}` paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import notifications
from src.fastapi_app.dependencies import CurrentUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.notification_queries import NotificationListQuery
from src.schemas.notifications import (
    DeletedCountResponse,
    NotificationDeletedResponse,
    NotificationOut,
    NotificationPageResponse,
    NotificationReadResponse,
    ReadAllResponse,
    UnreadCountResponse,
)
from src.schemas.query_rules import DateRangeQuery

router = APIRouter(tags=["notifications"])


@router.get("/notifications", responses=error_responses(400, 401))
async def list_notifications(
    user: CurrentUser, session: SessionDep, query: Annotated[NotificationListQuery, Query()]
) -> NotificationPageResponse:
    result = await session.run_sync(lambda s: notifications.list_notifications(s, user, query))
    return NotificationPageResponse.model_validate(result)


@router.get("/notifications/unread-count", responses=error_responses(400, 401))
async def unread_count(
    user: CurrentUser, session: SessionDep, query: Annotated[DateRangeQuery, Query()]
) -> UnreadCountResponse:
    result = await session.run_sync(lambda s: notifications.unread_count(s, user, query))
    return UnreadCountResponse.model_validate(result)


@router.put("/notifications/read-all", responses=error_responses(401))
async def mark_all_read(user: CurrentUser, session: SessionDep) -> ReadAllResponse:
    return ReadAllResponse(updated_count=await session.run_write(lambda s: notifications.mark_all_read(s, user)))


@router.delete("/notifications/delete-read", responses=error_responses(400, 401))
@router.delete("/notifications/read", responses=error_responses(400, 401))
async def delete_read(
    user: CurrentUser, session: SessionDep, query: Annotated[DateRangeQuery, Query()]
) -> DeletedCountResponse:
    deleted = await session.run_write(lambda s: notifications.delete_read(s, user, query))
    return DeletedCountResponse(deleted_count=deleted)


@router.put("/notifications/{notification_id}/read", responses=error_responses(401, 403, 404))
async def mark_read(notification_id: str, user: CurrentUser, session: SessionDep) -> NotificationReadResponse:
    notification = await session.run_write(lambda s: notifications.mark_read(s, user, notification_id))
    return NotificationReadResponse(notification=NotificationOut.model_validate(notification))


@router.delete("/notifications/{notification_id}", responses=error_responses(401, 403, 404))
async def delete_notification(
    notification_id: str, user: CurrentUser, session: SessionDep
) -> NotificationDeletedResponse:
    await session.run_write(lambda s: notifications.delete_notification(s, user, notification_id))
    return NotificationDeletedResponse()
