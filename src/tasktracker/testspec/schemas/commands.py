"""Create, update and read schemas of generic commands and their signatures."""

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText
from tasktracker.testspec.formats import CommandName
from tasktracker.testspec.models.commands import GenericCommandFields


class SignatureEntry(Schema):
    """One parameter of a command's signature; positions follow the list order."""

    parameter_id: uuid.UUID
    is_required: bool = True


class SignatureEntryRead(SQLModel):
    parameter_id: uuid.UUID
    position: int
    is_required: bool


class GenericCommandCreate(GenericCommandFields, Schema):
    """A new command with its ordered signature."""

    signature: list[SignatureEntry] = Field(default_factory=list)


class GenericCommandUpdate(Schema):
    """Only the fields that are set are changed; `signature`, when set, replaces the whole list."""

    name: CommandName | None = field_of(GenericCommandFields, "name", default=None)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    syntax: OptionalText | None = field_of(GenericCommandFields, "syntax", default=None)
    category_id: uuid.UUID | None = None
    is_active: bool | None = None
    signature: list[SignatureEntry] | None = None


class GenericCommandRead(GenericCommandFields):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
