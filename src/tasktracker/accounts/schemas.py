"""Schemas for accounts. None of them has a field for the password hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, SecretStr, StringConstraints
from sqlmodel import Field, SQLModel

from tasktracker.accounts.models import USERNAME_PATTERN, User
from tasktracker.db.base import Schema, field_of

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]


class UserCreate(Schema):
    email: EmailStr = field_of(User, "email")
    username: Username = field_of(User, "username")
    password: SecretStr = Field(min_length=8, max_length=1024)


class UserUpdate(Schema):
    email: EmailStr | None = field_of(User, "email", default=None)
    username: Username | None = field_of(User, "username", default=None)
    is_active: bool | None = None


class UserRead(SQLModel):
    id: uuid.UUID
    email: str
    username: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
