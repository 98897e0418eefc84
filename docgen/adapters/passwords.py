"""Password hashing with Argon2id (argon2-cffi).

The parameters are RFC 9106's second recommended set (argon2-cffi's default profile: 64 MiB,
3 passes, 4 lanes), above OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane). A hash made
with weaker parameters is rehashed at the next successful sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16, type=Type.ID)
# Verified against when an account does not exist, so a missing account takes as long as a wrong password.
_ABSENT = _HASHER.hash("no such account: this hash only keeps the timing even")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (an Argon2 hash); None (no account) never matches."""
    try:
        return _HASHER.verify(stored or _ABSENT, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
