"""`Unit`: the session of a sync unit of work, carrying the domains' repositories and services.

`with db.user_scope(user_id) as unit: unit.tasks.read_page(...)`. Each attribute is built on
first use, on this unit, and kept for its life. This class is also the registry of what a
unit carries: `scripts/generate_async_facades.py` writes one async facade per attribute, and
`AsyncUnit` carries those under the same names (a test holds the two to one list).
"""

from __future__ import annotations

from functools import cached_property

from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.tenancy import TaskTrackerSession
from tasktracker.tasks.label_repository import LabelRepository
from tasktracker.tasks.reminders import ReminderRepository
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
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
from tasktracker.testspec.services.coverage import CoverageService
from tasktracker.testspec.services.exchange import SpecificationExchange
from tasktracker.testspec.services.junit import JUnitService
from tasktracker.testspec.services.runs import RunService
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tasktracker.testspec.services.versions import VersionService
from tasktracker.units.search import SearchService


class Unit(TaskTrackerSession):
    """A unit of work's session with the repositories on it. A tenant repository needs a
    user scope: in `db.session()`, reading `unit.tasks` raises `ScopeError`."""

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self)

    @cached_property
    def categories(self) -> CategoryRepository:
        return CategoryRepository(self)

    @cached_property
    def tasks(self) -> TaskRepository:
        return TaskRepository(self)

    @cached_property
    def reminders(self) -> ReminderRepository:
        return ReminderRepository(self)

    @cached_property
    def labels(self) -> LabelRepository:
        return LabelRepository(self)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self)

    @cached_property
    def requirements(self) -> RequirementRepository:
        return RequirementRepository(self)

    @cached_property
    def specifications(self) -> TestSpecificationRepository:
        return TestSpecificationRepository(self)

    @cached_property
    def steps(self) -> StepService:
        return StepService(self)

    @cached_property
    def commands(self) -> GenericCommandRepository:
        return GenericCommandRepository(self)

    @cached_property
    def command_categories(self) -> CommandCategoryRepository:
        return CommandCategoryRepository(self)

    @cached_property
    def parameters(self) -> ParameterRepository:
        return ParameterRepository(self)

    @cached_property
    def variants(self) -> VariantRepository:
        return VariantRepository(self)

    @cached_property
    def parameter_categories(self) -> ParameterCategoryRepository:
        return ParameterCategoryRepository(self)

    @cached_property
    def usage(self) -> UsageQueries:
        return UsageQueries(self)

    @cached_property
    def traceability(self) -> TraceabilityService:
        return TraceabilityService(self)

    @cached_property
    def versions(self) -> VersionService:
        return VersionService(self)

    @cached_property
    def baselines(self) -> BaselineService:
        return BaselineService(self)

    @cached_property
    def runs(self) -> TestRunRepository:
        return TestRunRepository(self)

    @cached_property
    def executions(self) -> RunService:
        return RunService(self)

    @cached_property
    def coverage(self) -> CoverageService:
        return CoverageService(self)

    @cached_property
    def junit(self) -> JUnitService:
        return JUnitService(self)

    @cached_property
    def exchange(self) -> SpecificationExchange:
        return SpecificationExchange(self)

    @cached_property
    def search(self) -> SearchService:
        return SearchService(self)
