"""The connection lost at the door's commit, after the handler answered: still the 503 envelope on
both doors, not a 500 (Flask commits in after_request, outside its view's error handlers).

Stopping a real server at exactly that moment cannot be timed, so the commit itself fails here,
with the error the driver gives for a dropped connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from src.core.errors import DATABASE_RETRY_AFTER_SECONDS
from src.models import User
from tests.api.conftest import ApiClient
from tests.conftest import Factory


@pytest.fixture
def commits_fail() -> Iterator[None]:
    def lose_connection(_session: Session) -> None:
        raise OperationalError("COMMIT", None, ConnectionError("server closed the connection unexpectedly"))

    event.listen(Session, "before_commit", lose_connection)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", lose_connection)


def test_connection_lost_at_commit_answers_the_503_envelope(
    api: ApiClient, factory: Factory, user: User, request: pytest.FixtureRequest
) -> None:
    token = factory.token(user)
    request.getfixturevalue("commits_fail")  # after the arranging commits above
    response = api.get("/jobs", token=token)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": "Service unavailable", "message": "Database unavailable, retry shortly."}
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
