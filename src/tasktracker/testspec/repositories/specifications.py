"""Test specifications: writing them, listing them, and loading one whole.

`load` fetches a specification with its ordered steps, their commands (with signatures,
parameters and default variants), their arguments (with variants) and its requirement links
in five statements, whatever the number of steps: every relationship is `lazy="raise"`, so a
missing loader option is an error, never a silent N+1. `read_resolved` is the fast path for
callers that only need what a run sends (`services.resolution.ResolvedSpecification`): a
fixed number of compiled statements, read rows, no ORM objects. Steps themselves are
written through `services.steps.StepService`, which keeps their positions 1..n. Every
write records the specification's new version (`services.versions`), if it changed.
"""

import builtins
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import ColumnElement, select
from sqlmodel import col

from tasktracker.db.errors import NotFoundError
from tasktracker.db.fastpath.steps import Steps, run_steps
from tasktracker.db.listing import Listing, ListingFilter, OneOf
from tasktracker.db.pagination import Ordering, Page, SortKey
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.search import SearchHit, Source, search
from tasktracker.testspec.enums import SpecificationStatus
from tasktracker.testspec.models import (
    TestSpecification,
    TestStep,
)
from tasktracker.testspec.models.specifications import SPECIFICATION_SEARCH, STEP_SEARCH
from tasktracker.testspec.repositories.whole import tracked_whole, whole
from tasktracker.testspec.schemas import TestSpecificationCreate, TestSpecificationUpdate
from tasktracker.testspec.services.resolution import (
    ResolvedSpecification,
    resolved_specification,
)
from tasktracker.testspec.services.versions import VersionService


class SpecificationFilter(ListingFilter):
    status: Annotated[Sequence[SpecificationStatus] | None, OneOf(TestSpecification.status)] = None


# The key is unique per user (`uq_test_specifications_user_id_key`), so it orders by
# itself, and that index yields the order with no sort step.
_SPECIFICATIONS = Listing(
    TestSpecification,
    SpecificationFilter,
    {"key": Ordering("specifications-key", (SortKey(TestSpecification.key),))},  # type: ignore[arg-type]
)


class TestSpecificationRepository(TenantRepository[TestSpecification]):
    model = TestSpecification

    def create(self, data: TestSpecificationCreate | Mapping[str, Any]) -> TestSpecification:
        specification = self.create_from(validated(TestSpecificationCreate, data))
        VersionService(self.session).record_specification(specification.id)
        return specification

    def update(
        self,
        id: uuid.UUID,
        changes: TestSpecificationUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> TestSpecification:
        changes = validated(TestSpecificationUpdate, changes)
        specification = self.update_from(id, changes, expected_updated_at=expected_updated_at)
        VersionService(self.session).record_specification(id)
        return specification

    def delete(self, id: uuid.UUID) -> None:
        """Delete the specification, its steps, their arguments and its requirement links."""
        super().delete(id)

    def get_by_key(self, key: str) -> TestSpecification:
        found = self.find_by_key(key)
        if found is None:
            raise NotFoundError(f"TestSpecification {key!r} not found")
        return found

    def find_by_key(self, key: str) -> TestSpecification | None:
        statement = select(TestSpecification).where(col(TestSpecification.key) == key)
        return self.session.scalars(statement).one_or_none()

    def list(
        self, *, statuses: Sequence[SpecificationStatus] | None = None
    ) -> builtins.list[tuple[TestSpecification, int]]:
        """Specifications by key, each with its number of steps (one query)."""
        step_count: ColumnElement[int] = TestSpecification.step_count  # type: ignore[assignment]
        filter = SpecificationFilter(status=statuses)
        statement = _SPECIFICATIONS.ordered(
            select(TestSpecification, step_count), filter, sort="key"
        )
        return [(spec, count) for spec, count in self.session.execute(statement)]

    def search(
        self,
        query: str,
        *,
        statuses: Sequence[SpecificationStatus] | None = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
    ) -> Page[SearchHit]:
        """Specifications and steps matching `query`, best first, as one listing: a
        `specification` hit (key and title, then objective) or a `test_step` hit (action,
        then expected result), whose `parent_id` is its specification; optionally only the
        specifications (and steps of those) of some statuses. See docs/search.md."""
        criteria = SpecificationFilter(status=statuses).criteria()
        in_specifications = (
            [
                col(TestStep.test_specification_id).in_(
                    select(col(TestSpecification.id)).where(*criteria)
                )
            ]
            if criteria
            else []
        )
        sources: list[Source] = [
            (SPECIFICATION_SEARCH, criteria),
            (STEP_SEARCH, in_specifications),
        ]
        return search(self.session, sources, query, limit=limit, cursor=cursor, prefix=prefix)

    def load(self, id: uuid.UUID) -> TestSpecification:
        """The specification with everything a run needs loaded (`LOAD_STATEMENTS` queries)."""
        return self._load(col(TestSpecification.id) == id, str(id), id=id)

    def read_resolved(self, id: uuid.UUID) -> ResolvedSpecification:
        """The specification resolved for a run (the fast path: no identity map), equal to
        `resolve_specification(load(id))`, or `NotFoundError`. `READ_RESOLVED_STATEMENTS`
        compiled statements whatever the number of steps, in a read-only unit too."""
        return run_steps(self.session, self._read_resolved(id))

    def _read_resolved(self, id: uuid.UUID) -> Steps[ResolvedSpecification]:
        return resolved_specification(id)

    def load_by_key(self, key: str) -> TestSpecification:
        return self._load(col(TestSpecification.key) == key, repr(key), key=key)

    def _load(
        self,
        criterion: ColumnElement[bool],
        label: str,
        *,
        id: uuid.UUID | None = None,
        key: str | None = None,
    ) -> TestSpecification:
        found = tracked_whole(self.session, id=id, key=key)
        if found is None:
            statement = select(TestSpecification).where(criterion).options(*whole())
            found = self.session.scalars(statement).one_or_none()
        if found is None:
            raise NotFoundError(f"TestSpecification {label} not found")
        return found
