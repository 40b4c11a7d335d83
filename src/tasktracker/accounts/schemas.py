"""Schemas for accounts. None of them has a field for the password hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, SecretStr, StringConstraints
from sqlmodel import Field, SQLModel

from tasktracker.accounts.models import USERNAME_PATTERN
from tasktracker.db.base import Schema

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]


class UserCreate(Schema):
    email: EmailStr = Field(max_length=320)
    username: Username = Field(min_length=3, max_length=50)
    password: SecretStr = Field(min_length=8, max_length=1024)


class UserUpdate(Schema):
    email: EmailStr | None = Field(default=None, max_length=320)
    username: Username | None = Field(default=None, min_length=3, max_length=50)
    is_active: bool | None = None


class UserRead(SQLModel):
    id: uuid.UUID
    email: str
    username: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
