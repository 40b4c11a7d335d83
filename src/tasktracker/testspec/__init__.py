"""Test engineering: requirements traced to test specifications made of ordered steps that
invoke generic commands with typed, named parameters and their variants.

Where to find what:

- `models/` — the tables, one module per concept (`requirements`, `specifications`,
  `commands`, `parameters`, `categories`); `schemas/` — their create/update/read schemas and
  the export document (`schemas.exchange`).
- `repositories/` — reading and writing each entity, with the checks that span entities
  (a parameter's variants still fit, a command's steps still fit its signature, deletes
  refused while something uses the row); `repositories.usage` — who uses a parameter,
  a variant or a command.
- `services/steps` — inserting, moving and removing steps (positions stay 1..n);
  `services/arguments` — the rules of step arguments; `services/resolution` — the value each
  step argument resolves to; `services/traceability` — links, suspect links, uncovered
  requirements, the traceability matrix; `services/exchange` — export/import as JSON.
- `services/versions` — requirement and specification versions, their diffs;
  `services/baselines` — frozen sets of requirement versions; `repositories/runs` and
  `services/runs` — test runs, executions pinned to a version, results per step;
  `services/coverage` — coverage by results; `services/junit` — JUnit XML in and out.
- `formats` (key and name formats) and `values` (parsing values by data type).
"""

from tasktracker.testspec.enums import (
    DataType,
    Priority,
    RequirementKind,
    RequirementStatus,
    SpecificationStatus,
)
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    Requirement,
    RequirementTestLink,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.repositories.usage import UsageQueries
from tasktracker.testspec.services.baselines import BaselineService
from tasktracker.testspec.services.coverage import CoverageReport, CoverageService, Verdict
from tasktracker.testspec.services.exchange import ImportReport, SpecificationExchange
from tasktracker.testspec.services.resolution import (
    ResolvedArgument,
    ResolvedSpecification,
    ResolvedStep,
    ValueSource,
    resolve_specification,
    resolve_step,
)
from tasktracker.testspec.services.runs import RunService
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import (
    Coverage,
    TraceabilityMatrix,
    TraceabilityService,
)
from tasktracker.testspec.services.versions import VersionDiff, VersionService

__all__ = [
    "BaselineService",
    "CommandCategory",
    "CommandCategoryRepository",
    "Coverage",
    "CoverageReport",
    "CoverageService",
    "DataType",
    "GenericCommand",
    "GenericCommandParameter",
    "GenericCommandRepository",
    "ImportReport",
    "Parameter",
    "ParameterCategory",
    "ParameterCategoryRepository",
    "ParameterRepository",
    "ParameterVariant",
    "Priority",
    "Requirement",
    "RequirementKind",
    "RequirementRepository",
    "RequirementStatus",
    "RequirementTestLink",
    "ResolvedArgument",
    "ResolvedSpecification",
    "ResolvedStep",
    "RunService",
    "SpecificationExchange",
    "SpecificationStatus",
    "StepService",
    "TestRunRepository",
    "TestSpecification",
    "TestSpecificationRepository",
    "TestStep",
    "TestStepArgument",
    "TraceabilityMatrix",
    "TraceabilityService",
    "UsageQueries",
    "ValueSource",
    "VariantRepository",
    "Verdict",
    "VersionDiff",
    "VersionService",
    "resolve_specification",
    "resolve_step",
]
