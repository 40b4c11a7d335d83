"""`AsyncUnit`: the session of an async unit of work, carrying the async facades.

`async with adb.user_scope(user_id) as unit: await unit.tasks.read_page(...)`. It is an
`AsyncSession`, so `await unit.execute(...)`, `unit.add(...)` and `await run(unit, fn)` work
as on a plain one. Its attributes are `Unit`'s, each the facade of the sync class there
(`tests/units/test_async_surface.py` holds the two to one list), built on first use and
kept for the unit's life.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from tasktracker.units.facades.accounts import AsyncUserRepository
from tasktracker.units.facades.chat import AsyncConversationRepository
from tasktracker.units.facades.tasks import (
    AsyncCategoryRepository,
    AsyncLabelRepository,
    AsyncReminderRepository,
    AsyncTaskRepository,
)
from tasktracker.units.facades.testspec import (
    AsyncBaselineService,
    AsyncCommandCategoryRepository,
    AsyncCoverageService,
    AsyncGenericCommandRepository,
    AsyncJUnitService,
    AsyncParameterCategoryRepository,
    AsyncParameterRepository,
    AsyncRequirementRepository,
    AsyncRunService,
    AsyncSpecificationExchange,
    AsyncStepService,
    AsyncTestRunRepository,
    AsyncTestSpecificationRepository,
    AsyncTraceabilityService,
    AsyncUsageQueries,
    AsyncVariantRepository,
    AsyncVersionService,
)
from tasktracker.units.facades.units import AsyncSearchService


class AsyncUnit(AsyncSession):
    """An async unit of work's session with the async repositories on it. A tenant
    repository needs a user scope: in `adb.session()`, its calls raise `ScopeError`."""

    @cached_property
    def users(self) -> AsyncUserRepository:
        return AsyncUserRepository(self)

    @cached_property
    def categories(self) -> AsyncCategoryRepository:
        return AsyncCategoryRepository(self)

    @cached_property
    def tasks(self) -> AsyncTaskRepository:
        return AsyncTaskRepository(self)

    @cached_property
    def reminders(self) -> AsyncReminderRepository:
        return AsyncReminderRepository(self)

    @cached_property
    def labels(self) -> AsyncLabelRepository:
        return AsyncLabelRepository(self)

    @cached_property
    def conversations(self) -> AsyncConversationRepository:
        return AsyncConversationRepository(self)

    @cached_property
    def requirements(self) -> AsyncRequirementRepository:
        return AsyncRequirementRepository(self)

    @cached_property
    def specifications(self) -> AsyncTestSpecificationRepository:
        return AsyncTestSpecificationRepository(self)

    @cached_property
    def steps(self) -> AsyncStepService:
        return AsyncStepService(self)

    @cached_property
    def commands(self) -> AsyncGenericCommandRepository:
        return AsyncGenericCommandRepository(self)

    @cached_property
    def command_categories(self) -> AsyncCommandCategoryRepository:
        return AsyncCommandCategoryRepository(self)

    @cached_property
    def parameters(self) -> AsyncParameterRepository:
        return AsyncParameterRepository(self)

    @cached_property
    def variants(self) -> AsyncVariantRepository:
        return AsyncVariantRepository(self)

    @cached_property
    def parameter_categories(self) -> AsyncParameterCategoryRepository:
        return AsyncParameterCategoryRepository(self)

    @cached_property
    def usage(self) -> AsyncUsageQueries:
        return AsyncUsageQueries(self)

    @cached_property
    def traceability(self) -> AsyncTraceabilityService:
        return AsyncTraceabilityService(self)

    @cached_property
    def versions(self) -> AsyncVersionService:
        return AsyncVersionService(self)

    @cached_property
    def baselines(self) -> AsyncBaselineService:
        return AsyncBaselineService(self)

    @cached_property
    def runs(self) -> AsyncTestRunRepository:
        return AsyncTestRunRepository(self)

    @cached_property
    def executions(self) -> AsyncRunService:
        return AsyncRunService(self)

    @cached_property
    def coverage(self) -> AsyncCoverageService:
        return AsyncCoverageService(self)

    @cached_property
    def junit(self) -> AsyncJUnitService:
        return AsyncJUnitService(self)

    @cached_property
    def exchange(self) -> AsyncSpecificationExchange:
        return AsyncSpecificationExchange(self)

    @cached_property
    def search(self) -> AsyncSearchService:
        return AsyncSearchService(self)
