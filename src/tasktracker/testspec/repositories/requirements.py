"""Requirements and their hierarchy.

`revision` is never set by callers: it goes up by one whenever `title` or `statement`
changes (see `models.requirements`). A requirement's parent must be another requirement of
the same user that is not below it: the hierarchy never loops. Deleting a requirement
leaves its children at the top level (the database's trigger; mirrored in the session).
"""

import builtins
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import select
from sqlmodel import col

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.listing import Listing, ListingFilter, OneOf
from tasktracker.db.pagination import Ordering, Page, SortKey
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.search import SearchHit, search
from tasktracker.testspec.enums import RequirementKind, RequirementStatus
from tasktracker.testspec.models import Requirement
from tasktracker.testspec.models.requirements import REQUIREMENT_SEARCH
from tasktracker.testspec.repositories.common import detach_in_session, require
from tasktracker.testspec.schemas import RequirementCreate, RequirementUpdate
from tasktracker.testspec.services.versions import VersionService


class RequirementFilter(ListingFilter):
    kind: Annotated[Sequence[RequirementKind] | None, OneOf(Requirement.kind)] = None
    status: Annotated[Sequence[RequirementStatus] | None, OneOf(Requirement.status)] = None


# The key is unique per user (`uq_requirements_user_id_key`), so it orders by itself, and
# that index yields the order with no sort step.
_REQUIREMENTS = Listing(
    Requirement,
    RequirementFilter,
    {"key": Ordering("requirements-key", (SortKey(Requirement.key),))},  # type: ignore[arg-type]
)


class RequirementRepository(TenantRepository[Requirement]):
    model = Requirement

    def create(self, data: RequirementCreate | Mapping[str, Any]) -> Requirement:
        """A new requirement at revision 1."""
        data = validated(RequirementCreate, data)
        if data.parent_id is not None:
            require(
                self.session, Requirement, data.parent_id, field="parent_id", owner="Requirement"
            )
        requirement = self.create_from(data)
        VersionService(self.session).record_requirement(requirement)
        return requirement

    def update(
        self,
        id: uuid.UUID,
        changes: RequirementUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Requirement:
        """Change the fields set in `changes`; a new title or statement makes a new revision
        (and so makes the requirement's links suspect until they are reviewed)."""
        changes = validated(RequirementUpdate, changes)
        if "parent_id" in changes.model_fields_set and changes.parent_id is not None:
            self._check_parent(id, changes.parent_id)
        requirement = self.update_from(id, changes, expected_updated_at=expected_updated_at)
        VersionService(self.session).record_requirement(requirement)  # a new revision's
        return requirement

    def delete(self, id: uuid.UUID) -> None:
        """Delete the requirement and its links; its children move to the top level."""
        super().delete(id)
        detach_in_session(self.session, Requirement, "parent_id", id, "parent")

    def get_by_key(self, key: str) -> Requirement:
        found = self.find_by_key(key)
        if found is None:
            raise NotFoundError(f"Requirement {key!r} not found")
        return found

    def find_by_key(self, key: str) -> Requirement | None:
        statement = select(Requirement).where(col(Requirement.key) == key)
        return self.session.scalars(statement).one_or_none()

    def list(
        self,
        *,
        kinds: Sequence[RequirementKind] | None = None,
        statuses: Sequence[RequirementStatus] | None = None,
    ) -> builtins.list[Requirement]:
        """Requirements by key, optionally only some kinds and statuses."""
        filter = RequirementFilter(kind=kinds, status=statuses)
        statement = _REQUIREMENTS.ordered(select(Requirement), filter, sort="key")
        return builtins.list(self.session.scalars(statement))

    def search(
        self,
        query: str,
        *,
        kinds: Sequence[RequirementKind] | None = None,
        statuses: Sequence[RequirementStatus] | None = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
    ) -> Page[SearchHit]:
        """Requirements matching `query` (key and title, then statement, then rationale),
        best first, optionally only some kinds and statuses; see docs/search.md."""
        criteria = RequirementFilter(kind=kinds, status=statuses).criteria()
        return search(
            self.session,
            [(REQUIREMENT_SEARCH, criteria)],
            query,
            limit=limit,
            cursor=cursor,
            prefix=prefix,
        )

    def children(self, id: uuid.UUID) -> builtins.list[Requirement]:
        """The direct children, by key."""
        statement = (
            select(Requirement)
            .where(col(Requirement.parent_id) == id)
            .order_by(col(Requirement.key))
        )
        return builtins.list(self.session.scalars(statement))

    def ancestors(self, id: uuid.UUID) -> builtins.list[Requirement]:
        """The parent, its parent, ... up to the top (one recursive query)."""
        return self._lineage(id, self.with_ancestors([id]))[1:]

    def with_ancestors(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Requirement]:
        """These requirements and all their ancestors, by id (one recursive query).

        The recursion is a UNION, so it ends even on a loop made by plain SQL.
        """
        lineage = (
            select(col(Requirement.id), col(Requirement.parent_id))
            .where(col(Requirement.id).in_(ids))
            .cte("lineage", recursive=True)
        )
        lineage = lineage.union(
            select(col(Requirement.id), col(Requirement.parent_id)).join(
                lineage, col(Requirement.id) == lineage.c.parent_id
            )
        )
        statement = select(Requirement).where(col(Requirement.id).in_(select(lineage.c.id)))
        return {requirement.id: requirement for requirement in self.session.scalars(statement)}

    @staticmethod
    def _lineage(
        id: uuid.UUID, known: Mapping[uuid.UUID, Requirement]
    ) -> builtins.list[Requirement]:
        """[the requirement, its parent, ...] as far as `known` goes, stopping at a loop."""
        chain: builtins.list[Requirement] = []
        current = known.get(id)
        while current is not None and current not in chain:
            chain.append(current)
            current = known.get(current.parent_id) if current.parent_id else None
        return chain

    def _check_parent(self, id: uuid.UUID, parent_id: uuid.UUID) -> None:
        requirement = self.get(id)
        if parent_id == id:
            raise ValidationError.single(
                "parent_id", "a requirement cannot be its own parent", model="Requirement"
            )
        require(self.session, Requirement, parent_id, field="parent_id", owner="Requirement")
        lineage = self._lineage(parent_id, self.with_ancestors([parent_id]))
        if requirement in lineage:
            path = " → ".join(r.key for r in reversed(lineage[: lineage.index(requirement) + 1]))
            raise ValidationError.single(
                "parent_id",
                f"would make {requirement.key} its own ancestor ({path} → {requirement.key})",
                model="Requirement",
            )
