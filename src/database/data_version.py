"""SQLite's `PRAGMA data_version`: a number that changes whenever another connection commits.

It is what lets a process keep answers in memory and still see every write at once, whichever
process or connection made it (the other door, the scheduler, another worker): read it before
using a kept answer, and the answer is only good while the number is the one it was kept under.
"""

from __future__ import annotations

import sqlite3

from src.database.engines import SQLITE_BUSY_TIMEOUT_SECONDS, sqlite_file


class DataVersion:
    """A connection of its own that never writes, so every commit anywhere changes what it reads."""

    def __init__(self, path: str) -> None:
        # Used only on the event loop's thread; check_same_thread off so shutdown may close it anywhere.
        self._connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, check_same_thread=False,
                                           isolation_level=None)

    def read(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self._connection.close()


def open_data_version(database_url: str) -> DataVersion | None:
    """The probe for a SQLite file; None for PostgreSQL and in-memory SQLite (no such number)."""
    database = sqlite_file(database_url)
    return None if database is None else DataVersion(str(database))
