"""Baselines: a named, frozen set of requirement versions ("release 1.2"), and how today
differs from it.

Freezing records each chosen requirement's current version (`VersionService`) and keeps
the baseline's reference to it; the baseline never changes after. Deleting a requirement
deletes its versions, and so its place in the baselines (ON DELETE CASCADE): a baseline
holds the requirements that still exist.
"""

import builtins
import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.errors import NotFoundError
from tasktracker.db.repository import validated, write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.models import Baseline, BaselineRequirement, Requirement
from tasktracker.testspec.schemas.runs import BaselineCreate
from tasktracker.testspec.services.versions import VersionService


class BaselineChange(enum.StrEnum):
    UNCHANGED = "unchanged"
    REVISED = "revised"  # a newer revision today
    ADDED = "added"  # a requirement made after the baseline (or left out of it)


@dataclass(frozen=True)
class BaselineEntry:
    key: str
    title: str
    baseline_revision: int | None
    revision: int
    change: BaselineChange


class BaselineService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)
        self.versions = VersionService(session)

    def freeze(
        self,
        data: BaselineCreate | Mapping[str, Any],
        requirement_ids: Sequence[uuid.UUID] | None = None,
    ) -> Baseline:
        """A new baseline of the requirements' current versions (all of them by default)."""
        data = validated(BaselineCreate, data)
        statement = select(Requirement).order_by(col(Requirement.key))
        if requirement_ids is not None:
            statement = statement.where(col(Requirement.id).in_(requirement_ids))
        requirements = list(self.session.scalars(statement))
        missing = set(requirement_ids or ()) - {r.id for r in requirements}
        if missing:
            raise NotFoundError(f"Requirement {sorted(missing)[0]} not found")
        baseline = Baseline(user_id=self.user_id, **data.model_dump())
        versions = [self.versions.record_requirement(r) for r in requirements]
        with write(self.session):
            self.session.add(baseline)
            self.session.flush()
            self.session.add_all(
                BaselineRequirement(
                    user_id=self.user_id,
                    baseline_id=baseline.id,
                    requirement_id=version.requirement_id,
                    requirement_version_id=version.id,
                    revision=version.revision,
                )
                for version in versions
            )
        return baseline

    def get_by_name(self, name: str) -> Baseline:
        found = self.session.scalars(
            select(Baseline).where(col(Baseline.name) == name)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"Baseline {name!r} not found")
        return found

    def list(self) -> list[Baseline]:
        return list(self.session.scalars(select(Baseline).order_by(col(Baseline.name))))

    def compare(self, baseline_id: uuid.UUID) -> builtins.list[BaselineEntry]:
        """Every requirement today against the baseline, by key (one query)."""
        statement = (
            select(
                col(Requirement.key),
                col(Requirement.title),
                col(BaselineRequirement.revision),
                col(Requirement.revision),
            )
            .outerjoin(
                BaselineRequirement,
                (col(BaselineRequirement.requirement_id) == col(Requirement.id))
                & (col(BaselineRequirement.baseline_id) == baseline_id),
            )
            .order_by(col(Requirement.key))
        )
        return [
            BaselineEntry(key, title, frozen, revision, _change(frozen, revision))
            for key, title, frozen, revision in self.session.execute(statement)
        ]


def _change(frozen: int | None, revision: int) -> BaselineChange:
    if frozen is None:
        return BaselineChange.ADDED
    return BaselineChange.UNCHANGED if frozen == revision else BaselineChange.REVISED
