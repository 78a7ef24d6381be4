"""What a login attempt reads before its password check, as the users table grows.

    .venv/bin/python -m bench.login_lookup [--database-url URL] [--users 1000,10000,100000]
                                           [--without-index]

For each size the database is recreated (bench.seed's rules: never the development database, never
a protected PostgreSQL one), migrated to head and filled with that many users; then the throttle's
check (`LoginThrottle.assess`: the account lookup, the trust row, the counters) runs for a known
name typed in another case and for an unknown name. `--without-index` drops ix_users_username_lower
first: the cost before migration 0011. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text

from bench.seed import bench_settings, insert_rows, recreate_database
from src.core.login_throttle import LoginThrottle
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import User, utcnow

DEFAULT_URL = "sqlite:////tmp/bench-login-lookup/users.db"
CALLS = 200
# Any valid-looking string: the lookup never verifies it.
PASSWORD_HASH = "$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43


def _median_ms(call: Callable[[], object]) -> float:
    call()
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(database_url: str, users: int, without_index: bool) -> tuple[float, float]:
    """Median ms of one throttle check: (known name in upper case, unknown name)."""
    recreate_database(database_url)
    settings = bench_settings(database_url)
    upgrade_to_head(settings)
    engine = create_sync_engine_from_settings(settings)
    try:
        now = utcnow()
        rows = ({"id": str(uuid.uuid4()), "username": f"user{i}", "email": f"user{i}@example.com",
                 "password_hash": PASSWORD_HASH, "role": "viewer", "is_active": True, "token_version": 0,
                 "created_at": now, "updated_at": now} for i in range(users))
        with engine.begin() as connection:
            insert_rows(connection, User.__table__, rows)
            if without_index:
                connection.execute(text("DROP INDEX ix_users_username_lower"))
            if connection.dialect.name == "postgresql":
                connection.execute(text("ANALYZE users"))
        throttle = LoginThrottle()
        with make_session_factory(engine)() as session:
            known = _median_ms(lambda: throttle.assess(session, f"USER{users - 1}", "127.0.0.1"))
            unknown = _median_ms(lambda: throttle.assess(session, "nobody-by-this-name", "127.0.0.1"))
        return known, unknown
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--users", default="1000,10000,100000", help="comma-separated table sizes")
    parser.add_argument("--without-index", action="store_true", help="drop ix_users_username_lower first")
    args = parser.parse_args(argv)
    index = "without ix_users_username_lower" if args.without_index else "with ix_users_username_lower"
    print(f"throttle check before the password, median of {CALLS} calls, {index}")
    print(f"{'users':>9}  {'known name ms':>13}  {'unknown name ms':>15}")
    for users in (int(n) for n in args.users.split(",")):
        known, unknown = measure(args.database_url, users, args.without_index)
        print(f"{users:>9,}  {known:>13.3f}  {unknown:>15.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
