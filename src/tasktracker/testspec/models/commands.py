"""`generic_commands` and `generic_command_parameters` (a command's ordered signature).

A generic command (`SET_VOLTAGE`) is what a bench can be told to do; its signature is an
ordered list of parameters, each required or optional, and its optional `syntax` template
(`SET_VOLTAGE {channel} {supply_voltage}`) may only name parameters of that signature.
Deleting a command deletes its signature (ON DELETE CASCADE) but is refused while steps still
use it; a command is retired with `is_active = false` instead.
"""

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKeyConstraint, Index, Text, UniqueConstraint, text
from sqlmodel import Field, Relationship, SQLModel

from tasktracker.db.base import Created, TenantModel, Timestamped, UserOwned
from tasktracker.db.errors import FieldError
from tasktracker.db.text import OptionalText
from tasktracker.testspec.formats import CommandName, command_name_check, placeholders

if TYPE_CHECKING:
    from tasktracker.testspec.models.categories import CommandCategory
    from tasktracker.testspec.models.parameters import Parameter
    from tasktracker.testspec.models.specifications import TestStep

SYNTAX_MAX_LENGTH = 500


class GenericCommandFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    name: CommandName = Field(max_length=100)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    syntax: OptionalText | None = Field(default=None, max_length=SYNTAX_MAX_LENGTH)
    category_id: uuid.UUID | None = None
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})

    def syntax_problems(self, parameter_names: Iterable[str]) -> list[FieldError]:
        """Placeholders of `syntax` that are not parameters of the given signature."""
        if self.syntax is None:
            return []
        known = set(parameter_names)
        unknown = [name for name in placeholders(self.syntax) if name not in known]
        if not unknown:
            return []
        listed = ", ".join(f"{{{name}}}" for name in dict.fromkeys(unknown))
        return [FieldError("syntax", f"{listed} not in the command's signature")]


class GenericCommand(GenericCommandFields, Timestamped, TenantModel, table=True):
    __tablename__ = "generic_commands"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "category_id"],
            ["command_categories.user_id", "command_categories.id"],
        ),
        command_name_check(),
        UniqueConstraint(
            "user_id",
            "name",
            name="uq_generic_commands_user_id_name",
            info={"field": "name", "message": "is already used by another command"},
        ),
        Index("ix_generic_commands_user_id_category_id", "user_id", "category_id"),
    )

    category: Optional["CommandCategory"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(CommandCategory.user_id == GenericCommand.user_id, "
            "CommandCategory.id == foreign(GenericCommand.category_id))",
            "lazy": "raise",
        }
    )
    signature: list["GenericCommandParameter"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(GenericCommand.user_id == GenericCommandParameter.user_id, "
            "GenericCommand.id == foreign(GenericCommandParameter.command_id))",
            "back_populates": "command",
            "order_by": "GenericCommandParameter.position",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )
    parameters: list["Parameter"] = Relationship(
        sa_relationship_kwargs={
            "secondary": "generic_command_parameters",
            "primaryjoin": "and_(GenericCommand.user_id == GenericCommandParameter.user_id, "
            "GenericCommand.id == GenericCommandParameter.command_id)",
            "secondaryjoin": "and_(Parameter.user_id == GenericCommandParameter.user_id, "
            "Parameter.id == GenericCommandParameter.parameter_id)",
            "order_by": "GenericCommandParameter.position",
            "viewonly": True,
            "lazy": "raise",
        }
    )
    steps: list["TestStep"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(GenericCommand.user_id == TestStep.user_id, "
            "GenericCommand.id == foreign(TestStep.command_id))",
            "viewonly": True,
            "lazy": "raise",
        }
    )


class GenericCommandParameter(Created, UserOwned, table=True):
    """One entry of a command's signature: a parameter at a position, required or not."""

    __tablename__ = "generic_command_parameters"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "command_id"],
            ["generic_commands.user_id", "generic_commands.id"],
            ondelete="CASCADE",
            name="fk_generic_command_parameters_command",
        ),
        ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            name="fk_generic_command_parameters_parameter",
        ),
        UniqueConstraint(
            "user_id",
            "command_id",
            "position",
            name="uq_generic_command_parameters_position",
            info={"field": "position", "message": "is already taken in this signature"},
        ),
        Index("ix_generic_command_parameters_user_id_parameter_id", "user_id", "parameter_id"),
    )

    command_id: uuid.UUID = Field(primary_key=True)
    parameter_id: uuid.UUID = Field(primary_key=True)
    position: int = Field(ge=1)
    is_required: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})

    command: GenericCommand = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(GenericCommand.user_id == GenericCommandParameter.user_id, "
            "GenericCommand.id == foreign(GenericCommandParameter.command_id))",
            "back_populates": "signature",
            "lazy": "raise",
        }
    )
    parameter: "Parameter" = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == GenericCommandParameter.user_id, "
            "Parameter.id == foreign(GenericCommandParameter.parameter_id))",
            "lazy": "raise",
        }
    )
