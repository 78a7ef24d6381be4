"""Password hashing: passlib pbkdf2_sha256 in modular-crypt format, shared by both doors."""

from __future__ import annotations

from passlib.hash import pbkdf2_sha256


def hash_password(password: str) -> str:
    return str(pbkdf2_sha256.hash(password))  # passlib ships no types


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(pbkdf2_sha256.verify(password, password_hash))  # passlib ships no types
    except (ValueError, TypeError):
        return False
