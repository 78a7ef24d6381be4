"""Hardening tests run through both doors with the HTTP suite's fixtures (tests/api/conftest.py)."""

from tests.api.conftest import admin, api, team, user, viewer  # noqa: F401  (re-exported fixtures)
