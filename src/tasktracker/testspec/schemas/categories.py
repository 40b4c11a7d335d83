"""Create, update and read schemas of command and parameter categories (one shape for both)."""

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.testspec.models.categories import CategoryFields


class CategoryCreate(CategoryFields, Schema):
    pass


class CategoryUpdate(Schema):
    """Only the fields that are set are changed; `None` clears the description."""

    name: RequiredText | None = field_of(CategoryFields, "name", default=None)
    description: OptionalText | None = Field(default=None, sa_type=Text)


class CategoryRead(CategoryFields):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
