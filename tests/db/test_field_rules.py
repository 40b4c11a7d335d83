"""Field rules are declared once, on the models: the schemas that repeat a field take its
rules from there (`db.base.field_of`) and enforce exactly those."""

from __future__ import annotations

import annotated_types
import pydantic
import pytest

from tasktracker.accounts.models import User
from tasktracker.accounts.schemas import UserCreate, UserUpdate
from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import RequiredText
from tasktracker.tasks.models import CategoryFields, TaskFields
from tasktracker.tasks.schemas import CategoryUpdate, TaskUpdate
from tasktracker.testspec.models import (
    Requirement,
    RequirementTestLink,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.models.categories import CategoryFields as TestspecCategoryFields
from tasktracker.testspec.models.commands import GenericCommandFields
from tasktracker.testspec.models.parameters import ParameterFields, ParameterVariantFields
from tasktracker.testspec.models.specifications import TestSpecificationFields
from tasktracker.testspec.schemas import exchange
from tasktracker.testspec.schemas.categories import CategoryUpdate as TestspecCategoryUpdate
from tasktracker.testspec.schemas.commands import GenericCommandUpdate
from tasktracker.testspec.schemas.parameters import ParameterUpdate, VariantUpdate
from tasktracker.testspec.schemas.requirements import RequirementUpdate
from tasktracker.testspec.schemas.specifications import (
    ArgumentIn,
    TestSpecificationUpdate,
    TestStepCreate,
)

PAIRS: list[tuple[type[pydantic.BaseModel], type[pydantic.BaseModel]]] = [
    (UserCreate, User),
    (UserUpdate, User),
    (CategoryUpdate, CategoryFields),
    (TaskUpdate, TaskFields),
    (TestspecCategoryUpdate, TestspecCategoryFields),
    (GenericCommandUpdate, GenericCommandFields),
    (ParameterUpdate, ParameterFields),
    (VariantUpdate, ParameterVariantFields),
    (RequirementUpdate, Requirement),
    (TestSpecificationUpdate, TestSpecificationFields),
    (ArgumentIn, TestStepArgument),
    (TestStepCreate, TestStep),
    (exchange.CategoryDocument, TestspecCategoryFields),
    (exchange.VariantDocument, ParameterVariantFields),
    (exchange.ParameterDocument, ParameterFields),
    (exchange.CommandDocument, GenericCommandFields),
    (exchange.RequirementDocument, Requirement),
    (exchange.LinkDocument, RequirementTestLink),
    (exchange.ArgumentDocument, TestStepArgument),
    (exchange.SpecificationDocument, TestSpecificationFields),
]


def _rules(model: type[pydantic.BaseModel], name: str) -> list[object]:
    field = model.model_fields[name]
    return [rule for rule in field.metadata if isinstance(rule, annotated_types.BaseMetadata)]


@pytest.mark.parametrize(("schema", "source"), PAIRS, ids=lambda model: model.__name__)
def test_a_schema_enforces_its_models_rules(
    schema: type[pydantic.BaseModel], source: type[pydantic.BaseModel]
) -> None:
    shared = [name for name in schema.model_fields if name in source.model_fields]
    assert shared
    for name in shared:
        assert _rules(schema, name) == _rules(source, name), f"{schema.__name__}.{name}"
    assert any(_rules(source, name) for name in shared), "a pair with no rule to derive"


def test_field_of_takes_the_rules_and_keeps_its_own_options() -> None:
    class Renamed(Schema):
        title: RequiredText | None = field_of(TaskFields, "title", default=None)

    assert Renamed().title is None
    assert Renamed(title="x" * 200).title == "x" * 200
    with pytest.raises(pydantic.ValidationError) as caught:
        Renamed(title="x" * 201)
    assert [error["type"] for error in caught.value.errors()] == ["too_long"]
    with pytest.raises(pydantic.ValidationError):
        Renamed(title="   ")  # the type's own rule (non-blank) still holds
