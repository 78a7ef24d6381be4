"""Failed-login limits kept in the database (contract 1.3, 429): both doors, one count."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.login_throttle import ACCOUNT_LIMIT, CLIENT_LIMIT, MAX_FAILURES, TRUST_REFRESH, WINDOW, LoginThrottle
from src.models import LoginFailure, TrustedLoginClient, User
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD, legacy_door

TOO_MANY = "Too many attempts"


def login(api: ApiClient, username: str, password: str = "wrong-password") -> httpx.Response:
    return api.post("/auth/login", json={"username": username, "password": password})


def fail_times(api: ApiClient, username: str, times: int) -> None:
    for _ in range(times):
        assert login(api, username).status_code == 401


def assert_throttled(response: httpx.Response, max_wait: int) -> None:
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == TOO_MANY
    assert 1 <= int(response.headers["Retry-After"]) <= max_wait


def seed_failures(db: Session, identifier: str, clients: list[str]) -> None:
    """Failures from other client addresses, recorded through the same core the doors use."""
    throttle = LoginThrottle()
    for client in clients:
        throttle.record_failure(db, identifier, client)
    db.commit()


def rewind(db: Session, by: timedelta) -> None:
    """Move every recorded failure into the past: the clock advancing, without sleeping."""
    # Row by row in Python: date arithmetic in SQL differs between SQLite and PostgreSQL.
    db.expire_all()
    for row in db.scalars(select(LoginFailure)):
        row.last_failure_at -= by
    db.commit()


def test_a_failed_login_is_counted_in_the_database_despite_the_401(api: ApiClient, user: User, db: Session) -> None:
    fail_times(api, user.username, 2)
    db.expire_all()
    counts = dict(db.execute(select(LoginFailure.scope, LoginFailure.failures)).all())
    assert counts == {"pair": 2, "client": 2, "account": 2}


def test_pair_limit_answers_429_with_retry_after_even_for_the_right_password(api: ApiClient, user: User) -> None:
    fail_times(api, user.username, MAX_FAILURES)
    assert_throttled(login(api, user.username, PASSWORD), int(WINDOW.total_seconds()))


def test_refused_attempts_are_not_counted(api: ApiClient, user: User, db: Session) -> None:
    fail_times(api, user.username, MAX_FAILURES)
    for _ in range(3):
        assert login(api, user.username).status_code == 429
    db.expire_all()
    assert db.scalar(select(LoginFailure.failures).where(LoginFailure.scope == "pair")) == MAX_FAILURES


def test_lockout_expires_a_window_after_the_last_failure(api: ApiClient, user: User, db: Session) -> None:
    fail_times(api, user.username, MAX_FAILURES)
    rewind(db, WINDOW)
    assert login(api, user.username, PASSWORD).status_code == 200


def test_success_clears_the_pair_count(api: ApiClient, user: User) -> None:
    fail_times(api, user.username, MAX_FAILURES - 1)
    assert login(api, user.username, PASSWORD).status_code == 200
    fail_times(api, user.username, MAX_FAILURES - 1)
    assert login(api, user.username, PASSWORD).status_code == 200


def test_a_success_writes_no_failure_row(api: ApiClient, user: User, db: Session) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200
    db.expire_all()
    assert db.scalars(select(LoginFailure)).all() == []


def trust_row(db: Session) -> TrustedLoginClient:
    db.expire_all()
    return db.scalars(select(TrustedLoginClient)).one()


def test_a_second_login_within_the_refresh_interval_leaves_the_trust_row_as_it_was(
    api: ApiClient, user: User, db: Session
) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200
    first = trust_row(db).last_success_at
    assert login(api, user.username, PASSWORD).status_code == 200
    assert trust_row(db).last_success_at == first


def test_a_login_after_the_refresh_interval_moves_the_trust_row(api: ApiClient, user: User, db: Session) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200
    row = trust_row(db)
    row.last_success_at -= TRUST_REFRESH
    db.commit()
    rewound = row.last_success_at
    assert login(api, user.username, PASSWORD).status_code == 200
    assert trust_row(db).last_success_at > rewound


def test_a_trusted_clients_success_after_failures_clears_its_pair(api: ApiClient, user: User, db: Session) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200
    fail_times(api, user.username, 2)
    assert login(api, user.username, PASSWORD).status_code == 200
    db.expire_all()
    assert db.scalars(select(LoginFailure).where(LoginFailure.scope == "pair")).all() == []


def test_another_client_locked_out_of_the_account_does_not_block_this_client(
    api: ApiClient, user: User, db: Session
) -> None:
    seed_failures(db, user.username, ["203.0.113.9"] * (MAX_FAILURES + 5))
    assert login(api, user.username, PASSWORD).status_code == 200


def test_per_account_cap_blocks_guesses_from_every_client(api: ApiClient, user: User, db: Session) -> None:
    # A distributed guesser: each address stays under the pair limit, the account counter does not.
    seed_failures(db, user.username, [f"198.51.100.{n}" for n in range(ACCOUNT_LIMIT + 8)])
    assert_throttled(login(api, user.username, PASSWORD), 300)


def test_per_account_backoff_is_capped(api: ApiClient, user: User, db: Session) -> None:
    seed_failures(db, user.username, [f"198.51.100.{n}" for n in range(ACCOUNT_LIMIT + 50)])
    response = login(api, user.username, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) <= 300
    rewind(db, timedelta(minutes=5))
    assert login(api, user.username, PASSWORD).status_code == 200


def test_a_locked_account_leaves_other_accounts_alone(api: ApiClient, user: User, viewer: User) -> None:
    fail_times(api, user.username, MAX_FAILURES)
    assert login(api, viewer.username, PASSWORD).status_code == 200


def test_concurrent_failures_are_all_counted(api: ApiClient, user: User, db: Session) -> None:
    # Sequential seeding from threads: the upsert must not lose increments under contention.
    throttle = LoginThrottle()
    engine = db.get_bind()

    def one(n: int) -> None:
        with Session(engine) as session:
            throttle.record_failure(session, user.username, f"192.0.2.{n}")
            session.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(24)))
    db.expire_all()
    assert db.scalar(select(LoginFailure.failures).where(LoginFailure.scope == "account")) == 24


# --- one count across both doors ---------------------------------------------------------------

CLIENT = "198.51.100.77"


@contextmanager
def both_doors(settings: Settings) -> Iterator[dict[str, httpx.Client]]:
    """Both apps on one database, seen from the same client address."""
    from fastapi.testclient import TestClient

    from src.fastapi_app.main import create_app as create_fastapi
    from src.flask_app import create_app as create_flask

    flask_app = create_flask(settings)
    try:
        transport = httpx.WSGITransport(app=flask_app, remote_addr=CLIENT)
        with httpx.Client(transport=transport, base_url="http://testserver/api") as flask_client, \
                TestClient(create_fastapi(settings), base_url="http://testserver/api/v2",
                           client=(CLIENT, 50000)) as fastapi_client:
            yield {"flask": flask_client, "fastapi": fastapi_client}
    finally:
        flask_app.extensions["runtime"].close()


@legacy_door
@pytest.mark.parametrize(("first", "second"), [("flask", "fastapi"), ("fastapi", "flask")])
def test_failures_on_one_door_count_on_the_other(settings: Settings, user: User, first: str, second: str) -> None:
    with both_doors(settings) as doors:
        half = MAX_FAILURES // 2
        for door, times in ((first, half), (second, MAX_FAILURES - half)):
            for _ in range(times):
                response = doors[door].post("/auth/login", json={"username": user.username, "password": "nope"})
                assert response.status_code == 401
        for door in (first, second):
            response = doors[door].post("/auth/login", json={"username": user.username, "password": PASSWORD})
            assert_throttled(response, int(WINDOW.total_seconds()))


def test_nul_byte_in_the_identifier_is_the_same_400_on_every_database(api: ApiClient, user: User) -> None:
    # NUL is refused where the body is parsed, so SQLite (which would store it) answers as PostgreSQL.
    response = login(api, "a\x00b")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid payload"


# --- one account, one counter; no lockout by strangers (issue 15) ------------------------------


def test_every_spelling_of_an_account_shares_one_counter(api: ApiClient, user: User, db: Session) -> None:
    spellings = [user.username, user.email.upper(), user.username.upper(), f"  {user.email}  "]
    for attempt in range(MAX_FAILURES):
        identifier = spellings[attempt % len(spellings)]
        key = "email" if "@" in identifier else "username"
        assert api.post("/auth/login", json={key: identifier, "password": "wrong"}).status_code == 401
    assert_throttled(login(api, user.username, PASSWORD), int(WINDOW.total_seconds()))
    assert_throttled(api.post("/auth/login", json={"email": user.email, "password": PASSWORD}),
                     int(WINDOW.total_seconds()))
    db.expire_all()
    assert db.scalars(select(LoginFailure.failures).where(LoginFailure.scope == "account")).all() == [MAX_FAILURES]


def test_a_stranger_elsewhere_cannot_lock_a_user_out_of_where_they_log_in(
    api: ApiClient, user: User, db: Session
) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200  # this client is now trusted
    # A stranger keeps failing from many addresses, far past the account limit, spelled as email.
    seed_failures(db, user.email, [f"198.51.100.{n}" for n in range(ACCOUNT_LIMIT + 60)])
    assert login(api, user.username, PASSWORD).status_code == 200
    # From any other address the account's capped backoff still holds a distributed guesser back.
    db.expire_all()
    wait = LoginThrottle().retry_after(db, user.username, "203.0.113.50")
    assert wait is not None and wait <= 300


def test_a_burst_of_unknown_names_from_an_address_does_not_block_its_users(
    api: ApiClient, user: User
) -> None:
    assert login(api, user.username, PASSWORD).status_code == 200
    for n in range(CLIENT_LIMIT):
        assert login(api, f"nobody-{n}").status_code == 401
    assert_throttled(login(api, "nobody-else"), int(WINDOW.total_seconds()))  # the spray is stopped
    assert login(api, user.username, PASSWORD).status_code == 200
