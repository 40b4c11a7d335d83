"""Create, update and read schemas of parameters and their variants.

Value fields (`default_value`, a variant's `value`) accept typed values too and store them as
text: `12` → `"12"`, `True` → `"true"`. Whether a value fits its parameter (data type, range)
is checked by the repository, which knows the parameter.
"""

import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.testspec.enums import DataType
from tasktracker.testspec.formats import ParameterName
from tasktracker.testspec.models.parameters import (
    FiniteFloat,
    ParameterFields,
    ParameterVariantFields,
)
from tasktracker.testspec.values import RequiredValueText, ValueText


class VariantCreate(ParameterVariantFields, Schema):
    pass


class VariantUpdate(Schema):
    """Only the fields that are set are changed; `None` clears the description."""

    name: RequiredText | None = field_of(ParameterVariantFields, "name", default=None)
    value: RequiredValueText | None = field_of(ParameterVariantFields, "value", default=None)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    is_default: bool | None = None


class VariantRead(ParameterVariantFields):
    id: uuid.UUID
    parameter_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ParameterCreate(ParameterFields, Schema):
    """A new parameter, optionally with its variants."""

    variants: list[VariantCreate] = Field(default_factory=list)


class ParameterUpdate(Schema):
    """Only the fields that are set are changed; `None` clears an optional field."""

    name: ParameterName | None = field_of(ParameterFields, "name", default=None)
    description: OptionalText | None = Field(default=None, sa_type=Text)
    data_type: DataType | None = None
    unit: RequiredText | None = field_of(ParameterFields, "unit", default=None)
    default_value: ValueText | None = field_of(ParameterFields, "default_value", default=None)
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    category_id: uuid.UUID | None = None


class ParameterRead(ParameterFields):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
