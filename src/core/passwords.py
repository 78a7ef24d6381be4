"""Password hashing: pbkdf2_sha256 in passlib's modular-crypt format, shared by both doors.

passlib reads and writes the format (`$pbkdf2-sha256$<rounds>$<salt>$<checksum>`); the derivation
itself runs in `cryptography`'s OpenSSL, which computes the same PBKDF2-HMAC-SHA256 about twice as
fast as the interpreter's OpenSSL 3.0 that passlib would call (docs/PERFORMANCE.md, ninth pass).
Same hash, same rounds, same stored strings: only the CPU per login changes.
"""

from __future__ import annotations

import hmac
import os

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from passlib.hash import pbkdf2_sha256

# passlib's defaults, written out: every stored hash so far was made with them.
ROUNDS = 29_000
SALT_BYTES = 16
CHECKSUM_BYTES = 32


def _derive(password: str, salt: bytes, rounds: int, length: int) -> bytes:
    # HMAC hashes a key longer than a block once, so a long password costs no more per round:
    # no length cap is needed to keep a login's cost bounded.
    return PBKDF2HMAC(SHA256(), length, salt, rounds).derive(password.encode("utf-8"))


def hash_password(password: str) -> str:
    salt = os.urandom(SALT_BYTES)
    checksum = _derive(password, salt, ROUNDS, CHECKSUM_BYTES)
    return str(pbkdf2_sha256(rounds=ROUNDS, salt=salt, checksum=checksum).to_string())  # passlib ships no types


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches; a hash that does not parse matches nothing."""
    try:
        stored = pbkdf2_sha256.from_string(password_hash)
    except (ValueError, TypeError):
        return False
    checksum: bytes | None = stored.checksum
    if not checksum:  # a bare `$pbkdf2-sha256$<rounds>$<salt>` parses, but is no hash
        return False
    return hmac.compare_digest(_derive(password, stored.salt, stored.rounds, len(checksum)), checksum)
