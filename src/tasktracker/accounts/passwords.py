"""Password hashing with Argon2id (pwdlib); the only module that sees a plain password."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from tasktracker.db.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 1024

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError.single(
            "password", f"must be {MIN_LENGTH} to {MAX_LENGTH} characters", model="User"
        )
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one used outdated parameters). Constant time."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False, None
    return _hasher.verify_and_update(password, password_hash)


@cache
def _stand_in_hash() -> str:
    return _hasher.hash("a stand-in that matches no password: tasktracker")


def verify_against_nothing(password: str) -> None:
    """Spend one verification's time without a stored hash, so that a sign-in with an
    unknown or inactive login takes as long as one with a wrong password: the answer's
    timing does not tell which logins exist."""
    verify_password(password, _stand_in_hash())
