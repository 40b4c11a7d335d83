"""The test-engineering table models, one module per concept."""

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.testspec.models.categories import CommandCategory, ParameterCategory
from tasktracker.testspec.models.commands import GenericCommand, GenericCommandParameter
from tasktracker.testspec.models.parameters import Parameter, ParameterVariant
from tasktracker.testspec.models.requirements import Requirement, RequirementTestLink
from tasktracker.testspec.models.runs import TestExecution, TestRun, TestStepResult
from tasktracker.testspec.models.specifications import (
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.models.versions import (
    Baseline,
    BaselineRequirement,
    RequirementVersion,
    TestSpecificationVersion,
)

__all__ = [
    "Baseline",
    "BaselineRequirement",
    "CommandCategory",
    "GenericCommand",
    "GenericCommandParameter",
    "Parameter",
    "ParameterCategory",
    "ParameterVariant",
    "Requirement",
    "RequirementTestLink",
    "RequirementVersion",
    "TestExecution",
    "TestRun",
    "TestSpecification",
    "TestSpecificationVersion",
    "TestStep",
    "TestStepArgument",
    "TestStepResult",
]
