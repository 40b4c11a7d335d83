"""`test_specifications`, their ordered `test_steps` and the steps' `test_step_arguments`.

A specification is an ordered list of steps, positions `1..n` (unique per specification;
`services.steps` keeps them gapless). A step may invoke a generic command and binds the
command's parameters through arguments: a literal `value`, a `variant_id`, or neither (the
parameter's default). Deleting a specification deletes its steps, their arguments and its
requirement links (ON DELETE CASCADE all the way down).
"""

import uuid
from typing import TYPE_CHECKING, Optional

from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlmodel import Field, Relationship, SQLModel, col

from tasktracker.db.base import Created, TenantModel, Timestamped, UserOwned
from tasktracker.db.constraints import field_check
from tasktracker.db.search import SearchIndex
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType
from tasktracker.testspec.enums import Priority, SpecificationStatus
from tasktracker.testspec.formats import Key, key_check
from tasktracker.testspec.values import ValueText

if TYPE_CHECKING:
    from tasktracker.testspec.models.commands import GenericCommand
    from tasktracker.testspec.models.parameters import Parameter, ParameterVariant
    from tasktracker.testspec.models.requirements import Requirement, RequirementTestLink


class TestSpecificationFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    key: Key = Field(max_length=50)
    title: RequiredText = Field(max_length=200)
    objective: OptionalText | None = Field(default=None, sa_type=Text)
    preconditions: OptionalText | None = Field(default=None, sa_type=Text)
    status: SpecificationStatus = Field(
        default=SpecificationStatus.DRAFT,
        sa_type=StrEnumType(SpecificationStatus),
        sa_column_kwargs={"server_default": SpecificationStatus.DRAFT.value},
    )
    priority: Priority = Field(
        default=Priority.MEDIUM,
        sa_type=StrEnumType(Priority),
        sa_column_kwargs={"server_default": Priority.MEDIUM.value},
    )


class TestSpecification(TestSpecificationFields, Timestamped, TenantModel, table=True):
    __tablename__ = "test_specifications"
    __table_args__ = (
        key_check(),
        UniqueConstraint(
            "user_id",
            "key",
            name="uq_test_specifications_user_id_key",
            info={"field": "key", "message": "is already used by another test specification"},
        ),
    )

    steps: list["TestStep"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestSpecification.user_id == TestStep.user_id, "
            "TestSpecification.id == foreign(TestStep.test_specification_id))",
            "back_populates": "specification",
            "order_by": "TestStep.position",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )
    requirement_links: list["RequirementTestLink"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestSpecification.user_id == RequirementTestLink.user_id, "
            "TestSpecification.id == foreign(RequirementTestLink.test_specification_id))",
            "back_populates": "test_specification",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )
    requirements: list["Requirement"] = Relationship(
        sa_relationship_kwargs={
            "secondary": "requirement_test_links",
            "primaryjoin": "and_(TestSpecification.user_id == RequirementTestLink.user_id, "
            "TestSpecification.id == RequirementTestLink.test_specification_id)",
            "secondaryjoin": "and_(Requirement.user_id == RequirementTestLink.user_id, "
            "Requirement.id == RequirementTestLink.requirement_id)",
            "order_by": "Requirement.key",
            "viewonly": True,
            "lazy": "raise",
        }
    )

    @hybrid_property
    def step_count(self) -> int:
        """How many steps the specification has (load `steps` first); usable in queries."""
        return len(self.steps)

    @step_count.inplace.expression
    @classmethod
    def _step_count_expression(cls) -> ColumnElement[int]:
        return (
            select(func.count())
            .where(
                col(TestStep.user_id) == cls.user_id,
                col(TestStep.test_specification_id) == cls.id,
            )
            .correlate_except(TestStep)
            .scalar_subquery()
        )


class TestStepFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    action: RequiredText = Field(sa_type=Text)
    expected_result: OptionalText | None = Field(default=None, sa_type=Text)
    command_id: uuid.UUID | None = None
    continue_on_failure: bool = Field(
        default=False, sa_column_kwargs={"server_default": text("false")}
    )


class TestStep(TestStepFields, Timestamped, TenantModel, table=True):
    __tablename__ = "test_steps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            ondelete="CASCADE",
            name="fk_test_steps_test_specification",
        ),
        ForeignKeyConstraint(
            ["user_id", "command_id"],
            ["generic_commands.user_id", "generic_commands.id"],
            name="fk_test_steps_command",
        ),
        UniqueConstraint(
            "user_id",
            "test_specification_id",
            "position",
            name="uq_test_steps_position",
            info={"field": "position", "message": "is already taken in this specification"},
        ),
        Index("ix_test_steps_user_id_command_id", "user_id", "command_id"),
    )

    test_specification_id: uuid.UUID
    position: int = Field(ge=1)

    specification: TestSpecification = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestSpecification.user_id == TestStep.user_id, "
            "TestSpecification.id == foreign(TestStep.test_specification_id))",
            "back_populates": "steps",
            "lazy": "raise",
        }
    )
    command: Optional["GenericCommand"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(GenericCommand.user_id == TestStep.user_id, "
            "GenericCommand.id == foreign(TestStep.command_id))",
            "lazy": "raise",
        }
    )
    arguments: list["TestStepArgument"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestStep.user_id == TestStepArgument.user_id, "
            "TestStep.id == foreign(TestStepArgument.test_step_id))",
            "back_populates": "step",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )


class TestStepArgument(Created, UserOwned, table=True):
    """A step's binding of one command parameter: a literal, a variant, or the default."""

    __tablename__ = "test_step_arguments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "test_step_id"],
            ["test_steps.user_id", "test_steps.id"],
            ondelete="CASCADE",
            name="fk_test_step_arguments_test_step",
        ),
        ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            name="fk_test_step_arguments_parameter",
        ),
        # Includes parameter_id: the variant must belong to this very parameter.
        ForeignKeyConstraint(
            ["user_id", "parameter_id", "variant_id"],
            [
                "parameter_variants.user_id",
                "parameter_variants.parameter_id",
                "parameter_variants.id",
            ],
            name="fk_test_step_arguments_variant",
        ),
        field_check(
            "value",
            text("variant_id IS NULL OR value IS NULL"),
            "or_variant",
            "give either a literal value or a variant, not both",
        ),
        Index(
            "ix_test_step_arguments_user_id_parameter_id_variant_id",
            "user_id",
            "parameter_id",
            "variant_id",
        ),
    )

    test_step_id: uuid.UUID = Field(primary_key=True)
    parameter_id: uuid.UUID = Field(primary_key=True)
    variant_id: uuid.UUID | None = None
    value: ValueText | None = Field(default=None, max_length=500)

    step: TestStep = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestStep.user_id == TestStepArgument.user_id, "
            "TestStep.id == foreign(TestStepArgument.test_step_id))",
            "back_populates": "arguments",
            "lazy": "raise",
        }
    )
    parameter: "Parameter" = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Parameter.user_id == TestStepArgument.user_id, "
            "Parameter.id == foreign(TestStepArgument.parameter_id))",
            "lazy": "raise",
        }
    )
    variant: Optional["ParameterVariant"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(ParameterVariant.user_id == TestStepArgument.user_id, "
            "ParameterVariant.parameter_id == TestStepArgument.parameter_id, "
            "ParameterVariant.id == foreign(TestStepArgument.variant_id))",
            "lazy": "raise",
        }
    )


SPECIFICATION_SEARCH = SearchIndex(
    "specification",
    TestSpecification,
    {"key": "A", "title": "A", "objective": "B"},
    title="title",
)
"""Specifications are searched by key and title, then objective; their steps apart."""

STEP_SEARCH = SearchIndex(
    "test_step",
    TestStep,
    {"action": "B", "expected_result": "C"},
    parent="test_specification_id",
)
"""Steps are searched by action, then expected result; a hit's parent is its specification."""
