"""`users`: the accounts every other row belongs to."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, StringConstraints
from sqlalchemy import Index, text
from sqlmodel import Field

from tasktracker.accounts.passwords import hash_password, verify_password
from tasktracker.db.base import ScopeRoot, Timestamped
from tasktracker.db.caseless import caseless
from tasktracker.db.text import NonBlank

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class User(Timestamped, ScopeRoot, table=True):
    __tablename__ = "users"
    __table_args__ = (
        Index(
            "uq_users_email_lower",
            caseless(text("email")),
            unique=True,
            info={"field": "email", "message": "is already registered"},
        ),
        Index(
            "uq_users_username_lower",
            caseless(text("username")),
            unique=True,
            info={"field": "username", "message": "is already taken"},
        ),
    )

    email: Annotated[EmailStr, NonBlank()] = Field(max_length=320)
    username: Annotated[str, StringConstraints(pattern=USERNAME_PATTERN), NonBlank()] = Field(
        min_length=3, max_length=50
    )
    password_hash: str = Field(max_length=255, repr=False, exclude=True)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})

    def set_password(self, password: str) -> None:
        """Hash and store `password` (8 to 1,024 characters)."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        """Verify in constant time; a hash made with outdated parameters is upgraded."""
        matches, upgraded = verify_password(password, self.password_hash)
        if matches and upgraded:
            self.password_hash = upgraded
        return matches
