"""Response bodies of the user endpoints (contract 2.1, 3.8-3.12); password_hash never appears."""

from __future__ import annotations

from collections.abc import Sequence

from src.schemas.common import ApiModel, UtcInstant


class UserOut(ApiModel):
    """A user as every endpoint shows it (contract 2.1)."""

    id: str
    username: str
    email: str
    role: str
    is_active: bool
    created_at: UtcInstant
    updated_at: UtcInstant


class RegisterResponse(ApiModel):
    success: bool = True
    message: str = "User registered successfully"
    user: UserOut


class UserListResponse(ApiModel):
    count: int
    users: list[UserOut]

    @classmethod
    def of(cls, users: Sequence[object]) -> UserListResponse:
        return cls(count=len(users), users=[UserOut.model_validate(u) for u in users])


class UserResponse(ApiModel):
    user: UserOut


class UserUpdatedResponse(ApiModel):
    message: str = "User updated successfully"
    updated_fields: list[str]
    user: UserOut


class DeletedUserOut(ApiModel):
    id: str
    username: str


class UserDeletedResponse(ApiModel):
    message: str = "User deleted successfully"
    deleted_user: DeletedUserOut
