"""Dependencies as Annotated aliases, so route signatures read like the contract's role column."""

from src.fastapi_app.dependencies.auth import (
    AdminUser,
    CurrentUser,
    RefreshUser,
    WriterUser,
    get_current_user,
    require_role,
)
from src.fastapi_app.dependencies.body import BodyReaderDep, JsonBodyDep
from src.fastapi_app.dependencies.database import JobListCacheDep, ServicesDep, SessionDep, SettingsDep

__all__ = [
    "AdminUser",
    "BodyReaderDep",
    "CurrentUser",
    "JobListCacheDep",
    "JsonBodyDep",
    "RefreshUser",
    "ServicesDep",
    "SessionDep",
    "SettingsDep",
    "WriterUser",
    "get_current_user",
    "require_role",
]
