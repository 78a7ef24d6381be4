"""Token hygiene (issue 15): logout ends its login's refresh token, a password change or
deactivation ends every older token, and the last active admin cannot be removed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core import users
from src.core.errors import Conflict
from src.models import User
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD, Factory

REVOKED = {"error": "Token has been revoked", "message": "Token has been revoked"}
LAST_ADMIN = {"error": "Cannot remove the last active admin",
              "message": "At least one active admin must remain; make another user admin first."}


def log_in(api: ApiClient, user: User, password: str = PASSWORD) -> tuple[str, str]:
    body = api.post("/auth/login", json={"username": user.username, "password": password}).json()
    return body["access_token"], body["refresh_token"]


def refreshed(api: ApiClient, refresh_token: str) -> httpx.Response:
    return api.post("/auth/refresh", token=refresh_token)


def assert_revoked(response: httpx.Response) -> None:
    assert (response.status_code, response.json()) == (401, REVOKED)


# --- logout ends the whole login ---------------------------------------------------------------


def test_logout_without_a_body_also_ends_the_refresh_token_of_that_login(api: ApiClient, user: User) -> None:
    access, refresh = log_in(api, user)
    assert api.post("/auth/logout", token=access).status_code == 200  # the SPA sends no body
    assert_revoked(refreshed(api, refresh))


def test_logout_ends_access_tokens_refreshed_from_that_login(api: ApiClient, user: User) -> None:
    access, refresh = log_in(api, user)
    renewed = refreshed(api, refresh).json()["access_token"]
    assert api.post("/auth/logout", token=access).status_code == 200
    assert_revoked(api.get("/auth/me", token=renewed))


def test_logout_leaves_the_users_other_logins_alone(api: ApiClient, user: User) -> None:
    access, _refresh = log_in(api, user)
    other_access, other_refresh = log_in(api, user)
    assert api.post("/auth/logout", token=access).status_code == 200
    assert api.get("/auth/me", token=other_access).status_code == 200
    assert refreshed(api, other_refresh).status_code == 200


# --- a password change or deactivation ends every older token ----------------------------------


def test_a_password_change_ends_every_token_issued_before_it(api: ApiClient, user: User) -> None:
    first_access, first_refresh = log_in(api, user)
    second_access, _ = log_in(api, user)
    response = api.put(f"/auth/users/{user.id}", token=second_access, json={"password": "brand-new-pw"})
    assert response.status_code == 200
    for token in (first_access, second_access):
        assert_revoked(api.get("/auth/me", token=token))
    assert_revoked(refreshed(api, first_refresh))
    new_access, new_refresh = log_in(api, user, "brand-new-pw")
    assert api.get("/auth/me", token=new_access).status_code == 200
    assert refreshed(api, new_refresh).status_code == 200


def test_tokens_of_a_deactivated_user_stay_dead_after_reactivation(
    api: ApiClient, factory: Factory, admin: User, user: User
) -> None:
    admin_token = factory.token(admin)
    access, refresh = log_in(api, user)
    assert api.put(f"/auth/users/{user.id}", token=admin_token, json={"is_active": False}).status_code == 200
    assert api.put(f"/auth/users/{user.id}", token=admin_token, json={"is_active": True}).status_code == 200
    assert_revoked(api.get("/auth/me", token=access))
    assert_revoked(refreshed(api, refresh))
    assert api.get("/auth/me", token=log_in(api, user)[0]).status_code == 200


def test_an_email_change_keeps_tokens(api: ApiClient, user: User) -> None:
    access, _ = log_in(api, user)
    assert api.put(f"/auth/users/{user.id}", token=access, json={"email": "renamed@example.com"}).status_code == 200
    assert api.get("/auth/me", token=access).status_code == 200


# --- the last active admin ---------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "user"}, {"role": "viewer", "is_active": False}])
def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    api: ApiClient, db: Session, factory: Factory, admin: User, change: dict[str, object]
) -> None:
    factory.user("admin", is_active=False)  # an inactive admin does not count
    response = api.put(f"/auth/users/{admin.id}", token=factory.token(admin), json=change)
    assert (response.status_code, response.json()) == (409, LAST_ADMIN)
    db.expire_all()
    assert db.scalars(select(User.role).where(User.id == admin.id, User.is_active.is_(True))).all() == ["admin"]


def test_an_admin_may_be_demoted_while_another_active_admin_remains(
    api: ApiClient, factory: Factory, admin: User
) -> None:
    other = factory.user("admin")
    response = api.put(f"/auth/users/{other.id}", token=factory.token(admin), json={"role": "user"})
    assert response.status_code == 200
    response = api.put(f"/auth/users/{admin.id}", token=factory.token(admin), json={"is_active": False})
    assert (response.status_code, response.json()) == (409, LAST_ADMIN)


def test_the_last_active_admin_cannot_be_deleted(db: Session, factory: Factory, admin: User) -> None:
    # Only reachable when the deleting admin lost that role meanwhile (two admins deleting each
    # other at once): the core refuses it whatever the caller.
    former = factory.user("admin")
    former.is_active = False
    db.commit()
    with pytest.raises(Conflict) as raised:
        users.delete_user(db, former, admin.id)
    assert raised.value.body() == LAST_ADMIN
