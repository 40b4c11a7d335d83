"""`parameters` and `parameter_variants`: the typed inputs of generic commands.

A parameter (`supply_voltage`, float, V, 0..30) has named variants (`nominal_12V` = 12,
`low_battery` = 9.5); at most one variant is the default. Every value — the parameter's
`default_value`, a variant's `value`, a step argument's literal — is text that must parse as
the parameter's `data_type` and lie within `min_value..max_value` (see `testspec.values`).

Deleting a parameter deletes its variants (ON DELETE CASCADE), unless a command signature or a
step argument still uses it: those foreign keys are NO ACTION, so the database refuses, and
`ParameterRepository.delete` says first which commands and steps use it.
"""

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import AllowInfNan
from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapper
from sqlmodel import Field, Relationship, SQLModel, col

from tasktracker.db.base import TenantModel, Timestamped
from tasktracker.db.constraints import field_check
from tasktracker.db.errors import FieldError, ValidationError
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType
from tasktracker.testspec.enums import DataType
from tasktracker.testspec.formats import ParameterName, parameter_name_check
from tasktracker.testspec.values import RequiredValueText, ValueRule, ValueText

if TYPE_CHECKING:
    from tasktracker.testspec.models.categories import ParameterCategory
    from tasktracker.testspec.models.commands import GenericCommand, GenericCommandParameter

FiniteFloat = Annotated[float, AllowInfNan(False)]
NUMERIC_TYPES = f"('{DataType.INTEGER.value}', '{DataType.FLOAT.value}')"


class ParameterFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    name: ParameterName = Field(max_length=100)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    data_type: DataType = Field(
        default=DataType.STRING,
        sa_type=StrEnumType(DataType),
        sa_column_kwargs={"server_default": DataType.STRING.value},
    )
    unit: RequiredText | None = Field(default=None, max_length=20)
    default_value: ValueText | None = Field(default=None, max_length=500)
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    category_id: uuid.UUID | None = None

    @property
    def rule(self) -> ValueRule:
        """What every value of this parameter must satisfy."""
        return ValueRule(self.data_type, self.min_value, self.max_value)

    def problems(self) -> list[FieldError]:
        """The rules this row breaks on its own (range and default value), by field."""
        errors: list[FieldError] = []
        if not self.data_type.is_numeric:
            errors.extend(
                FieldError(name, "only integer and float parameters have a range")
                for name in ("min_value", "max_value")
                if getattr(self, name) is not None
            )
        elif (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            errors.append(
                FieldError("max_value", f"must not be below min_value ({self.min_value:g})")
            )
        problem = (
            None if errors or self.default_value is None else self.rule.problem(self.default_value)
        )
        if problem:
            errors.append(FieldError("default_value", problem))
        return errors

    def check(self) -> None:
        """Raise `ValidationError` naming each field that breaks a row rule."""
        if errors := self.problems():
            raise ValidationError(errors, model="Parameter")


class Parameter(ParameterFields, Timestamped, TenantModel, table=True):
    __tablename__ = "parameters"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "category_id"],
            ["parameter_categories.user_id", "parameter_categories.id"],
        ),
        parameter_name_check(),
        field_check(
            "max_value",
            text("min_value IS NULL OR max_value IS NULL OR min_value <= max_value"),
            "not_below_min",
            "must not be below min_value",
        ),
        field_check(
            "min_value",
            text(f"data_type IN {NUMERIC_TYPES} OR (min_value IS NULL AND max_value IS NULL)"),
            "numeric_only",
            "only integer and float parameters have a range",
        ),
        UniqueConstraint(
            "user_id",
            "name",
            name="uq_parameters_user_id_name",
            info={"field": "name", "message": "is already used by another parameter"},
        ),
        Index("ix_parameters_user_id_category_id", "user_id", "category_id"),
    )

    category: Optional["ParameterCategory"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(ParameterCategory.user_id == Parameter.user_id, "
            "ParameterCategory.id == foreign(Parameter.category_id))",
            "lazy": "raise",
        }
    )
    variants: list["ParameterVariant"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == ParameterVariant.user_id, "
            "Parameter.id == foreign(ParameterVariant.parameter_id))",
            "back_populates": "parameter",
            "order_by": "ParameterVariant.name",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )
    default_variant: Optional["ParameterVariant"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == ParameterVariant.user_id, "
            "Parameter.id == foreign(ParameterVariant.parameter_id), "
            "ParameterVariant.is_default)",
            "uselist": False,
            "viewonly": True,
            "lazy": "raise",
        }
    )
    signature_entries: list["GenericCommandParameter"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == GenericCommandParameter.user_id, "
            "Parameter.id == foreign(GenericCommandParameter.parameter_id))",
            "viewonly": True,
            "lazy": "raise",
        }
    )
    commands: list["GenericCommand"] = Relationship(
        sa_relationship_kwargs={
            "secondary": "generic_command_parameters",
            "primaryjoin": "and_(Parameter.user_id == GenericCommandParameter.user_id, "
            "Parameter.id == GenericCommandParameter.parameter_id)",
            "secondaryjoin": "and_(GenericCommand.user_id == GenericCommandParameter.user_id, "
            "GenericCommand.id == GenericCommandParameter.command_id)",
            "order_by": "GenericCommand.name",
            "viewonly": True,
            "lazy": "raise",
        }
    )

    @hybrid_property
    def variant_count(self) -> int:
        """How many variants the parameter has (load `variants` first); usable in queries."""
        return len(self.variants)

    @variant_count.inplace.expression
    @classmethod
    def _variant_count_expression(cls) -> ColumnElement[int]:
        return (
            select(func.count())
            .where(
                col(ParameterVariant.user_id) == cls.user_id,
                col(ParameterVariant.parameter_id) == cls.id,
            )
            .correlate_except(ParameterVariant)
            .scalar_subquery()
        )


class ParameterVariantFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    name: RequiredText = Field(max_length=100)
    value: RequiredValueText = Field(max_length=500)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class ParameterVariant(ParameterVariantFields, Timestamped, TenantModel, table=True):
    """A named value of a parameter, e.g. `low_battery` = 9.5 for `supply_voltage`."""

    __tablename__ = "parameter_variants"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            ondelete="CASCADE",
        ),
        # The target of the step arguments' (user_id, parameter_id, variant_id) key, which is
        # what makes the database refuse a variant of another parameter.
        UniqueConstraint(
            "user_id", "parameter_id", "id", name="uq_parameter_variants_user_id_parameter_id_id"
        ),
        UniqueConstraint(
            "user_id",
            "parameter_id",
            "name",
            name="uq_parameter_variants_user_id_parameter_id_name",
            info={"field": "name", "message": "is taken by another variant of the parameter"},
        ),
        Index(
            "uq_parameter_variants_user_id_parameter_id_default",
            "user_id",
            "parameter_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
            info={"field": "is_default", "message": "is already set on another variant"},
        ),
    )

    parameter_id: uuid.UUID

    parameter: Parameter = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == ParameterVariant.user_id, "
            "Parameter.id == foreign(ParameterVariant.parameter_id))",
            "back_populates": "variants",
            "lazy": "raise",
        }
    )


@event.listens_for(Parameter, "before_insert")
@event.listens_for(Parameter, "before_update")
def _check_before_write(mapper: Mapper[Any], connection: Any, target: Parameter) -> None:
    """A last line of defence for direct ORM use; repositories check before anything is sent."""
    target.check()
