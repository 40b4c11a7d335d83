"""The JSON document of an exported test specification.

Self-contained and free of ids: everything refers to everything else by name (commands,
parameters, variants, categories) or by key (requirements), so it can be imported into any
user's workspace. Lists are sorted (steps by position, requirements by key, the rest by
name), so exporting the same content twice gives the same document.
"""

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from tasktracker.db.base import field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.testspec.enums import (
    DataType,
    Priority,
    RequirementKind,
    RequirementStatus,
    SpecificationStatus,
)
from tasktracker.testspec.formats import CommandName, Key, ParameterName
from tasktracker.testspec.models.categories import CategoryFields
from tasktracker.testspec.models.commands import GenericCommandFields
from tasktracker.testspec.models.parameters import (
    FiniteFloat,
    ParameterFields,
    ParameterVariantFields,
)
from tasktracker.testspec.models.requirements import Requirement, RequirementTestLink
from tasktracker.testspec.models.specifications import TestSpecificationFields, TestStepArgument

FORMAT: Final = "tasktracker.test-specification"
VERSION: Final = 1


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryDocument(_Document):
    name: RequiredText = field_of(CategoryFields, "name")
    description: OptionalText | None = None


class VariantDocument(_Document):
    name: RequiredText = field_of(ParameterVariantFields, "name")
    value: RequiredText = field_of(ParameterVariantFields, "value")
    description: OptionalText | None = None
    is_default: bool = False


class ParameterDocument(_Document):
    name: ParameterName = field_of(ParameterFields, "name")
    description: OptionalText | None = None
    data_type: DataType = DataType.STRING
    unit: RequiredText | None = field_of(ParameterFields, "unit", default=None)
    default_value: OptionalText | None = field_of(ParameterFields, "default_value", default=None)
    min_value: FiniteFloat | None = None
    max_value: FiniteFloat | None = None
    category: RequiredText | None = None
    variants: tuple[VariantDocument, ...] = ()
    """The variants the specification uses, and the default variant."""


class SignatureEntryDocument(_Document):
    parameter: ParameterName
    is_required: bool = True


class CommandDocument(_Document):
    name: CommandName = field_of(GenericCommandFields, "name")
    description: OptionalText | None = None
    syntax: OptionalText | None = field_of(GenericCommandFields, "syntax", default=None)
    category: RequiredText | None = None
    is_active: bool = True
    signature: tuple[SignatureEntryDocument, ...] = ()


class RequirementDocument(_Document):
    key: Key = field_of(Requirement, "key")
    title: RequiredText = field_of(Requirement, "title")
    statement: RequiredText
    rationale: OptionalText | None = None
    kind: RequirementKind = RequirementKind.FUNCTIONAL
    priority: Priority = Priority.MEDIUM
    status: RequirementStatus = RequirementStatus.DRAFT
    source_ref: OptionalText | None = field_of(Requirement, "source_ref", default=None)
    revision: int = field_of(Requirement, "revision", default=1)
    parent: Key | None = None


class LinkDocument(_Document):
    requirement: Key
    verified_revision: int | None = field_of(RequirementTestLink, "verified_revision", default=None)


class ArgumentDocument(_Document):
    """A binding: a literal `value`, a `variant` (by name), or neither (the default)."""

    parameter: ParameterName
    variant: RequiredText | None = None
    value: OptionalText | None = field_of(TestStepArgument, "value", default=None)


class StepDocument(_Document):
    action: RequiredText
    expected_result: OptionalText | None = None
    command: CommandName | None = None
    continue_on_failure: bool = False
    arguments: tuple[ArgumentDocument, ...] = ()


class SpecificationDocument(_Document):
    key: Key = field_of(TestSpecificationFields, "key")
    title: RequiredText = field_of(TestSpecificationFields, "title")
    objective: OptionalText | None = None
    preconditions: OptionalText | None = None
    status: SpecificationStatus = SpecificationStatus.DRAFT
    priority: Priority = Priority.MEDIUM


class TestSpecificationDocument(_Document):
    """A whole test specification and everything it uses, by name."""

    format: Literal["tasktracker.test-specification"] = FORMAT
    version: Literal[1] = VERSION
    specification: SpecificationDocument
    steps: tuple[StepDocument, ...] = ()
    links: tuple[LinkDocument, ...] = ()
    requirements: tuple[RequirementDocument, ...] = ()
    """The linked requirements and their ancestors."""
    commands: tuple[CommandDocument, ...] = ()
    parameters: tuple[ParameterDocument, ...] = ()
    command_categories: tuple[CategoryDocument, ...] = ()
    parameter_categories: tuple[CategoryDocument, ...] = ()
