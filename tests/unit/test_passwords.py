"""Password hashes: passlib's pbkdf2_sha256 format, derived by cryptography (src/core/passwords.py)."""

from __future__ import annotations

import pytest
from passlib.hash import pbkdf2_sha256

from src.core.passwords import ROUNDS, hash_password, verify_password


def test_a_new_hash_is_passlib_pbkdf2_sha256_with_passlibs_default_rounds() -> None:
    stored = hash_password("s3cret-pass")
    assert stored.startswith(f"$pbkdf2-sha256${ROUNDS}$")
    assert pbkdf2_sha256.default_rounds == ROUNDS
    assert pbkdf2_sha256.verify("s3cret-pass", stored)
    assert not pbkdf2_sha256.verify("s3cret-pasS", stored)


@pytest.mark.parametrize("rounds", [1_000, ROUNDS])
def test_a_hash_passlib_made_verifies_with_the_rounds_it_names(rounds: int) -> None:
    stored = pbkdf2_sha256.using(rounds=rounds).hash("pässword ✓")
    assert verify_password("pässword ✓", stored)
    assert not verify_password("passwörd ✓", stored)


def test_two_hashes_of_one_password_differ_by_their_salt() -> None:
    first, second = hash_password("same-password"), hash_password("same-password")
    assert first != second
    assert verify_password("same-password", first) and verify_password("same-password", second)


def test_a_password_of_5000_characters_hashes_and_verifies() -> None:
    stored = hash_password("x" * 5000)
    assert verify_password("x" * 5000, stored)
    assert not verify_password("x" * 4999, stored)


@pytest.mark.parametrize("stored", ["", "garbage", "$pbkdf2-sha256$x$c2FsdA$c3Vt", "$pbkdf2-sha256$29000$c2FsdHNhbHQ",
                                    "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"])
def test_a_stored_value_that_is_no_pbkdf2_sha256_hash_matches_nothing(stored: str) -> None:
    assert not verify_password("anything", stored)
