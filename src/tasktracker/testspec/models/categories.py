"""`command_categories` and `parameter_categories`: named groups of commands and of parameters.

Deleting a category leaves its members uncategorised: the members' `category_id` is set to
NULL by a BEFORE DELETE trigger (see `migrations/ddl.py`), never by an ON DELETE SET NULL key.
Names are unique per user regardless of case, like task categories.
"""

from typing import TYPE_CHECKING

from sqlalchemy import Index, Text, text
from sqlmodel import Field, Relationship, SQLModel

from tasktracker.db.base import TenantModel, Timestamped
from tasktracker.db.caseless import caseless
from tasktracker.db.text import OptionalText, RequiredText

if TYPE_CHECKING:
    from tasktracker.testspec.models.commands import GenericCommand
    from tasktracker.testspec.models.parameters import Parameter


class CategoryFields(SQLModel):
    """The fields a caller provides, shared by both category models and their schemas."""

    name: RequiredText = Field(max_length=100)
    description: OptionalText | None = Field(default=None, sa_type=Text)


def _unique_name(table: str) -> Index:
    return Index(
        f"uq_{table}_user_id_name_lower",
        "user_id",
        caseless(text("name")),
        unique=True,
        info={"field": "name", "message": "is already used by another category"},
    )


class CommandCategory(CategoryFields, Timestamped, TenantModel, table=True):
    __tablename__ = "command_categories"
    __table_args__ = (_unique_name("command_categories"),)

    commands: list["GenericCommand"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(CommandCategory.user_id == GenericCommand.user_id, "
            "CommandCategory.id == foreign(GenericCommand.category_id))",
            "order_by": "GenericCommand.name",
            "viewonly": True,
            "lazy": "raise",
        }
    )


class ParameterCategory(CategoryFields, Timestamped, TenantModel, table=True):
    __tablename__ = "parameter_categories"
    __table_args__ = (_unique_name("parameter_categories"),)

    parameters: list["Parameter"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(ParameterCategory.user_id == Parameter.user_id, "
            "ParameterCategory.id == foreign(Parameter.category_id))",
            "order_by": "Parameter.name",
            "viewonly": True,
            "lazy": "raise",
        }
    )
