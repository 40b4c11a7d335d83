"""Create, update and read schemas of requirements and their links to test specifications."""

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.testspec.enums import Priority, RequirementKind, RequirementStatus
from tasktracker.testspec.formats import Key
from tasktracker.testspec.models.requirements import RequirementFields


class RequirementCreate(RequirementFields, Schema):
    pass


class RequirementUpdate(Schema):
    """Only the fields that are set are changed; `None` clears an optional field.

    `revision` is not settable: it goes up by itself when `title` or `statement` changes.
    """

    key: Key | None = field_of(RequirementFields, "key", default=None)
    title: RequiredText | None = field_of(RequirementFields, "title", default=None)
    statement: RequiredText | None = Field(default=None, sa_type=Text)
    rationale: OptionalText | None = Field(default=None, sa_type=Text)
    kind: RequirementKind | None = None
    priority: Priority | None = None
    status: RequirementStatus | None = None
    source_ref: OptionalText | None = field_of(RequirementFields, "source_ref", default=None)
    parent_id: uuid.UUID | None = None


class RequirementRead(RequirementFields):
    id: uuid.UUID
    revision: int
    created_at: datetime
    updated_at: datetime


class RequirementTestLinkRead(SQLModel):
    requirement_id: uuid.UUID
    test_specification_id: uuid.UUID
    verified_revision: int | None
    created_at: datetime
