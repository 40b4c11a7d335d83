"""Create, update and read schemas of test specifications, their steps and step arguments."""

import uuid
from datetime import datetime

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.testspec.enums import Priority, SpecificationStatus
from tasktracker.testspec.formats import Key
from tasktracker.testspec.models.specifications import (
    TestSpecificationFields,
    TestStep,
    TestStepArgument,
    TestStepFields,
)
from tasktracker.testspec.values import ValueText


class TestSpecificationCreate(TestSpecificationFields, Schema):
    pass


class TestSpecificationUpdate(Schema):
    """Only the fields that are set are changed; `None` clears an optional field."""

    key: Key | None = field_of(TestSpecificationFields, "key", default=None)
    title: RequiredText | None = field_of(TestSpecificationFields, "title", default=None)
    objective: OptionalText | None = Field(default=None, sa_type=Text)
    preconditions: OptionalText | None = Field(default=None, sa_type=Text)
    status: SpecificationStatus | None = None
    priority: Priority | None = None


class TestSpecificationRead(TestSpecificationFields):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ArgumentIn(Schema):
    """A step's binding of a parameter: a literal `value`, a `variant_id`, or neither (default)."""

    parameter_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    value: ValueText | None = field_of(TestStepArgument, "value", default=None)

    @field_validator("value")
    @classmethod
    def _value_or_variant(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("variant_id") is not None:
            raise PydanticCustomError(
                "value_or_variant", "give either a value or a variant, not both"
            )
        return value


class ArgumentRead(SQLModel):
    test_step_id: uuid.UUID
    parameter_id: uuid.UUID
    variant_id: uuid.UUID | None
    value: str | None
    created_at: datetime


class TestStepCreate(TestStepFields, Schema):
    """A new step; without `position` it is appended, otherwise the steps from there move down."""

    position: int | None = field_of(TestStep, "position", default=None)
    arguments: list[ArgumentIn] = Field(default_factory=list)


class TestStepUpdate(Schema):
    """Only the fields that are set are changed.

    `arguments`, when set, replaces every argument of the step. Changing `command_id` without
    giving `arguments` clears them (the old bindings belong to the old command's signature).
    Positions change through `StepService.move`.
    """

    action: RequiredText | None = Field(default=None, sa_type=Text)
    expected_result: OptionalText | None = Field(default=None, sa_type=Text)
    command_id: uuid.UUID | None = None
    continue_on_failure: bool | None = None
    arguments: list[ArgumentIn] | None = None


class TestStepRead(TestStepFields):
    id: uuid.UUID
    test_specification_id: uuid.UUID
    position: int
    created_at: datetime
    updated_at: datetime
