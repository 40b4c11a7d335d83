"""Test runs and what they hold: reading them (one query per listing, whatever the size).

Writing executions and results, with their rules (pinning, variants, steps of the pinned
version), is `services.runs.RunService`.
"""

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import col

from tasktracker.db.errors import NotFoundError
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.testspec.enums import ExecutionStatus, RunStatus
from tasktracker.testspec.models import (
    TestExecution,
    TestRun,
    TestSpecification,
    TestSpecificationVersion,
)
from tasktracker.testspec.schemas.runs import TestRunCreate


@dataclass(frozen=True)
class RunSummary:
    id: uuid.UUID
    name: str
    status: RunStatus
    created_at: datetime
    totals: Mapping[ExecutionStatus, int] = field(default_factory=dict)

    @property
    def executions(self) -> int:
        return sum(self.totals.values())


@dataclass(frozen=True)
class ExecutionRow:
    """One execution of a run, with the version it is pinned to and the latest one."""

    id: uuid.UUID
    specification_id: uuid.UUID
    key: str
    title: str
    combination: str
    version: int
    latest_version: int
    status: ExecutionStatus
    tester: str | None
    duration_ms: int | None
    message: str | None

    @property
    def outdated(self) -> bool:
        """Ran (or is to run) a version older than the specification's latest."""
        return self.version < self.latest_version


def _status_counts() -> list[ColumnElement[int]]:
    return [
        func.count().filter(col(TestExecution.status) == status).label(status.value)
        for status in ExecutionStatus
    ]


class TestRunRepository(TenantRepository[TestRun]):
    model = TestRun

    def create(self, data: TestRunCreate | Mapping[str, Any]) -> TestRun:
        return self.create_from(validated(TestRunCreate, data))

    def find_by_name(self, name: str) -> TestRun | None:
        return self.session.scalars(select(TestRun).where(col(TestRun.name) == name)).one_or_none()

    def get_by_name(self, name: str) -> TestRun:
        found = self.find_by_name(name)
        if found is None:
            raise NotFoundError(f"TestRun {name!r} not found")
        return found

    def list(self) -> builtins.list[RunSummary]:
        """Every run, newest first, with its executions counted by status (one query)."""
        counts = (
            select(col(TestExecution.run_id), *_status_counts())
            .group_by(col(TestExecution.run_id))
            .subquery()
        )
        statement = (
            select(TestRun, *(counts.c[s.value] for s in ExecutionStatus))
            .outerjoin(counts, counts.c.run_id == col(TestRun.id))
            .order_by(col(TestRun.created_at).desc(), col(TestRun.id).desc())
        )
        return [
            RunSummary(
                run.id,
                run.name,
                run.status,
                run.created_at,
                {s: n or 0 for s, n in zip(ExecutionStatus, numbers, strict=True) if n},
            )
            for run, *numbers in self.session.execute(statement)
        ]

    def executions(self, run_id: uuid.UUID) -> builtins.list[ExecutionRow]:
        """The run's executions by specification key and combination (one query)."""
        self.get(run_id)
        latest = (
            select(
                col(TestSpecificationVersion.test_specification_id).label("spec_id"),
                func.max(col(TestSpecificationVersion.version)).label("version"),
            )
            .group_by(col(TestSpecificationVersion.test_specification_id))
            .subquery()
        )
        statement = (
            select(
                TestExecution,
                col(TestSpecification.key),
                col(TestSpecification.title),
                col(TestSpecificationVersion.version),
                latest.c.version,
            )
            .join(
                TestSpecification,
                col(TestSpecification.id) == col(TestExecution.test_specification_id),
            )
            .join(
                TestSpecificationVersion,
                col(TestSpecificationVersion.id) == col(TestExecution.specification_version_id),
            )
            .join(latest, latest.c.spec_id == col(TestExecution.test_specification_id))
            .where(col(TestExecution.run_id) == run_id)
            .order_by(col(TestSpecification.key), col(TestExecution.combination))
        )
        return [
            ExecutionRow(
                execution.id,
                execution.test_specification_id,
                key,
                title,
                execution.combination,
                version,
                latest_version,
                execution.status,
                execution.tester,
                execution.duration_ms,
                execution.message,
            )
            for execution, key, title, version, latest_version in self.session.execute(statement)
        ]
