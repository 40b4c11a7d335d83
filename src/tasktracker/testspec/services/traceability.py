"""Traceability: which test specifications verify which requirements, and how well.

A link remembers the requirement revision it was reviewed against. When a requirement's
title or statement changes, its revision goes up and its links become suspect until someone
reviews them again (`mark_reviewed`). The matrix reads both ways — requirement → its
specifications, specification → its requirements — with coverage per requirement kind and
status, in four statements whatever the size of the workspace.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session, joinedload
from sqlmodel import col

from tasktracker.db.errors import NotFoundError
from tasktracker.db.repository import write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.enums import RequirementKind, RequirementStatus, SpecificationStatus
from tasktracker.testspec.models import Requirement, RequirementTestLink, TestSpecification
from tasktracker.testspec.repositories.common import require

E = TypeVar("E", RequirementKind, RequirementStatus)


@dataclass(frozen=True)
class Coverage:
    total: int = 0
    covered: int = 0

    @property
    def uncovered(self) -> int:
        return self.total - self.covered

    @property
    def ratio(self) -> float:
        """Covered share in 0..1 (1 when there is nothing to cover)."""
        return self.covered / self.total if self.total else 1.0


@dataclass(frozen=True)
class TraceLink:
    """One (requirement, specification) pair of the matrix."""

    requirement_key: str
    specification_key: str
    verified_revision: int | None
    revision: int

    @property
    def is_suspect(self) -> bool:
        return self.verified_revision is None or self.verified_revision < self.revision


@dataclass(frozen=True)
class RequirementTrace:
    key: str
    title: str
    kind: RequirementKind
    status: RequirementStatus
    revision: int
    links: tuple[TraceLink, ...] = ()

    @property
    def is_covered(self) -> bool:
        return bool(self.links)


@dataclass(frozen=True)
class SpecificationTrace:
    key: str
    title: str
    status: SpecificationStatus
    links: tuple[TraceLink, ...] = ()


@dataclass(frozen=True)
class TraceabilityMatrix:
    requirements: tuple[RequirementTrace, ...]
    specifications: tuple[SpecificationTrace, ...]
    by_kind: dict[RequirementKind, Coverage] = field(default_factory=dict)
    by_status: dict[RequirementStatus, Coverage] = field(default_factory=dict)

    @property
    def overall(self) -> Coverage:
        return Coverage(
            sum(c.total for c in self.by_kind.values()),
            sum(c.covered for c in self.by_kind.values()),
        )


def _current_revision() -> ColumnElement[int]:
    return (
        select(col(Requirement.revision))
        .where(
            col(Requirement.user_id) == col(RequirementTestLink.user_id),
            col(Requirement.id) == col(RequirementTestLink.requirement_id),
        )
        .scalar_subquery()
    )


class TraceabilityService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)

    def link(
        self, requirement_id: uuid.UUID, specification_id: uuid.UUID, *, reviewed: bool = True
    ) -> RequirementTestLink:
        """Record that the specification verifies the requirement.

        `reviewed` (the default) means against the requirement's current revision; linking
        an already linked pair returns the existing link unchanged.
        """
        requirement = require(
            self.session,
            Requirement,
            requirement_id,
            field="requirement_id",
            owner="RequirementTestLink",
        )
        require(
            self.session,
            TestSpecification,
            specification_id,
            field="test_specification_id",
            owner="RequirementTestLink",
        )
        existing = self.session.get(
            RequirementTestLink, (self.user_id, requirement_id, specification_id)
        )
        if existing is not None:
            return existing
        link = RequirementTestLink(  # type: ignore[call-arg]  # user_id: the scope's, at flush
            requirement_id=requirement_id,
            test_specification_id=specification_id,
            verified_revision=requirement.revision if reviewed else None,
        )
        with write(self.session):
            self.session.add(link)
        return link

    def unlink(self, requirement_id: uuid.UUID, specification_id: uuid.UUID) -> None:
        link = self.session.get(
            RequirementTestLink, (self.user_id, requirement_id, specification_id)
        )
        if link is None:
            raise NotFoundError("no link between this requirement and this specification")
        with write(self.session):
            self.session.delete(link)

    def mark_reviewed(
        self, requirement_id: uuid.UUID, specification_id: uuid.UUID | None = None
    ) -> int:
        """The link (or every link of the requirement) reviewed against the current revision.

        Returns how many links were marked; one UPDATE statement.
        """
        criteria = [col(RequirementTestLink.requirement_id) == requirement_id]
        if specification_id is not None:
            criteria.append(col(RequirementTestLink.test_specification_id) == specification_id)
        with write(self.session):
            result = self.session.execute(
                update(RequirementTestLink)
                .where(*criteria)
                .values(verified_revision=_current_revision())
                .execution_options(synchronize_session="fetch")
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def suspect_links(self) -> list[RequirementTestLink]:
        """Links never reviewed or reviewed against an older revision, by requirement key."""
        is_suspect: ColumnElement[bool] = RequirementTestLink.is_suspect  # type: ignore[assignment]
        statement = (
            select(RequirementTestLink)
            .join(RequirementTestLink.requirement)  # type: ignore[arg-type]
            .join(RequirementTestLink.test_specification)  # type: ignore[arg-type]
            .where(is_suspect)
            .options(
                joinedload(RequirementTestLink.requirement),  # type: ignore[arg-type]
                joinedload(RequirementTestLink.test_specification),  # type: ignore[arg-type]
            )
            .order_by(col(Requirement.key), col(TestSpecification.key))
        )
        return list(self.session.scalars(statement).unique())

    def uncovered_requirements(
        self, *, statuses: list[RequirementStatus] | None = None
    ) -> list[Requirement]:
        """Requirements no specification verifies, by key (optionally only some statuses)."""
        is_covered: ColumnElement[bool] = Requirement.is_covered  # type: ignore[assignment]
        statement = select(Requirement).where(~is_covered).order_by(col(Requirement.key))
        if statuses:
            statement = statement.where(col(Requirement.status).in_(statuses))
        return list(self.session.scalars(statement))

    def matrix(self) -> TraceabilityMatrix:
        """Both directions of the traceability, with coverage per kind and per status."""
        rows = self.session.execute(
            select(Requirement, TestSpecification.key, RequirementTestLink.verified_revision)  # type: ignore[call-overload]
            .outerjoin(Requirement.test_links)
            .outerjoin(RequirementTestLink.test_specification)
            .order_by(col(Requirement.key), col(TestSpecification.key))
        ).all()
        specifications = self.session.scalars(
            select(TestSpecification).order_by(col(TestSpecification.key))
        ).all()
        by_requirement: dict[uuid.UUID, list[TraceLink]] = defaultdict(list)
        by_specification: dict[str, list[TraceLink]] = defaultdict(list)
        requirements: dict[uuid.UUID, Requirement] = {}
        for requirement, specification_key, verified in rows:
            requirements[requirement.id] = requirement
            if specification_key is not None:
                link = TraceLink(requirement.key, specification_key, verified, requirement.revision)
                by_requirement[requirement.id].append(link)
                by_specification[specification_key].append(link)
        return TraceabilityMatrix(
            requirements=tuple(
                RequirementTrace(
                    r.key, r.title, r.kind, r.status, r.revision, tuple(by_requirement[r.id])
                )
                for r in requirements.values()
            ),
            specifications=tuple(
                SpecificationTrace(s.key, s.title, s.status, tuple(by_specification[s.key]))
                for s in specifications
            ),
            by_kind=self._coverage(col(Requirement.kind), RequirementKind),
            by_status=self._coverage(col(Requirement.status), RequirementStatus),
        )

    def _coverage(self, column: Any, members: type[E]) -> dict[E, Coverage]:
        is_covered: ColumnElement[bool] = Requirement.is_covered  # type: ignore[assignment]
        rows = self.session.execute(
            select(column, func.count(), func.sum(case((is_covered, 1), else_=0))).group_by(column)
        ).all()
        coverage = dict.fromkeys(members, Coverage())
        coverage.update(
            {members(key): Coverage(total, covered or 0) for key, total, covered in rows}
        )
        return coverage
