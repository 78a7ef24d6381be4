"""User administration and per-user preferences (contract 3.9–3.16)."""

from __future__ import annotations

from fastapi import APIRouter

from src.core import preferences, users
from src.fastapi_app.dependencies import AdminUser, BodyReaderDep, CurrentUser, JsonBodyDep, SessionDep
from src.fastapi_app.openapi_docs import error_responses, json_body
from src.schemas.preferences import (
    NotificationPreferencesOut,
    NotificationPreferencesUpdateRequest,
    PreferencesResponse,
    PreferencesUpdatedResponse,
    UiPreferencesResponse,
    UiPreferencesUpdateRequest,
)
from src.schemas.user_bodies import UserUpdateRequest
from src.schemas.users import (
    DeletedUserOut,
    UserDeletedResponse,
    UserListResponse,
    UserOut,
    UserResponse,
    UserUpdatedResponse,
)

router = APIRouter(tags=["users"])


@router.get("/auth/users", responses=error_responses(401, 403))
async def list_users(user: AdminUser, session: SessionDep) -> UserListResponse:
    return UserListResponse.of(await session.run_sync(users.list_users))


@router.get("/auth/users/{user_id}", responses=error_responses(401, 403, 404))
async def get_user(user_id: str, user: CurrentUser, session: SessionDep) -> UserResponse:
    found = await session.run_sync(lambda s: users.get_user(s, user, user_id))
    return UserResponse(user=UserOut.model_validate(found))


@router.put(
    "/auth/users/{user_id}", responses=error_responses(400, 401, 403, 404, 409),
    openapi_extra=json_body(UserUpdateRequest),
)
async def update_user(user_id: str, user: CurrentUser, body: JsonBodyDep, session: SessionDep) -> UserUpdatedResponse:
    updated, fields = await session.run_sync(lambda s: users.update_user(s, s.merge(user, load=False), user_id, body))
    return UserUpdatedResponse(updated_fields=fields, user=UserOut.model_validate(updated))


@router.delete("/auth/users/{user_id}", responses=error_responses(400, 401, 403, 404))
async def delete_user(user_id: str, user: AdminUser, session: SessionDep) -> UserDeletedResponse:
    deleted = await session.run_sync(lambda s: users.delete_user(s, user, user_id))
    return UserDeletedResponse(deleted_user=DeletedUserOut.model_validate(deleted))


@router.get("/auth/users/{user_id}/preferences", responses=error_responses(401, 403, 404))
async def get_preferences(user_id: str, user: CurrentUser, session: SessionDep) -> PreferencesResponse:
    row = await session.run_sync(lambda s: preferences.get_notification_preferences(s, user, user_id))
    return PreferencesResponse(preferences=NotificationPreferencesOut.model_validate(row))


@router.put(
    "/auth/users/{user_id}/preferences", responses=error_responses(400, 401, 403, 404),
    openapi_extra=json_body(NotificationPreferencesUpdateRequest),
)
async def update_preferences(
    user_id: str, user: CurrentUser, read_body: BodyReaderDep, session: SessionDep
) -> PreferencesUpdatedResponse:
    row = await session.run_sync(lambda s: preferences.update_notification_preferences(s, user, user_id, read_body))
    return PreferencesUpdatedResponse(preferences=NotificationPreferencesOut.model_validate(row))


@router.get("/auth/users/{user_id}/ui-preferences", responses=error_responses(401, 403, 404))
async def get_ui_preferences(user_id: str, user: CurrentUser, session: SessionDep) -> UiPreferencesResponse:
    prefs = await session.run_sync(lambda s: preferences.get_ui_preferences(s, user, user_id))
    return UiPreferencesResponse.model_validate({"preferences": prefs})


@router.put(
    "/auth/users/{user_id}/ui-preferences", responses=error_responses(400, 401, 403, 404),
    openapi_extra=json_body(UiPreferencesUpdateRequest),
)
async def update_ui_preferences(
    user_id: str, user: CurrentUser, read_body: BodyReaderDep, session: SessionDep
) -> UiPreferencesResponse:
    prefs = await session.run_sync(lambda s: preferences.replace_ui_preferences(s, user, user_id, read_body))
    return UiPreferencesResponse.model_validate({"preferences": prefs})
