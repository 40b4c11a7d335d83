"""Coverage that knows results: per requirement, linked / executed / passed on its current
revision / failed / suspect, and the requirement x specification matrix, in one query.

A link counts by its specification's *latest* execution that ran (status other than
`not_run`; the latest by `created_at`, then id) — of one run with `run_id`, of any run
otherwise — found by a correlated lookup per link on the executions' index. A link is
suspect when it was verified against an older revision than the requirement's (with a
baseline: than the baseline's revision of it) or never verified; a pass counts as "passed
on the current revision" only on a link that is not suspect. A requirement's verdict:
`uncovered` (no link), `failed` (a linked specification failed or erred), `passed` (every
link passed on the current revision), `suspect`, `not_run`, else `partial`.
"""

import enum
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ScalarSelect, Select, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.testspec.enums import ExecutionStatus
from tasktracker.testspec.models import (
    BaselineRequirement,
    Requirement,
    RequirementTestLink,
    TestExecution,
    TestSpecification,
)

_FAILED = (ExecutionStatus.FAILED, ExecutionStatus.ERROR)


class Verdict(enum.StrEnum):
    UNCOVERED = "uncovered"
    FAILED = "failed"
    PASSED = "passed"
    SUSPECT = "suspect"
    NOT_RUN = "not_run"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Cell:
    """One link of the matrix: the specification and what its latest execution came to."""

    specification_key: str
    status: ExecutionStatus | None
    suspect: bool

    @property
    def passed(self) -> bool:
        return self.status == ExecutionStatus.PASSED and not self.suspect


@dataclass(frozen=True)
class RequirementCoverage:
    key: str
    title: str
    revision: int
    cells: tuple[Cell, ...] = ()

    @property
    def linked(self) -> int:
        return len(self.cells)

    @property
    def executed(self) -> int:
        return sum(cell.status is not None for cell in self.cells)

    @property
    def passed(self) -> int:
        return sum(cell.passed for cell in self.cells)

    @property
    def failed(self) -> int:
        return sum(cell.status in _FAILED for cell in self.cells)

    @property
    def suspect(self) -> int:
        return sum(cell.suspect for cell in self.cells)

    @property
    def verdict(self) -> Verdict:
        if not self.cells:
            return Verdict.UNCOVERED
        if self.failed:
            return Verdict.FAILED
        if self.passed == self.linked:
            return Verdict.PASSED
        if self.suspect:
            return Verdict.SUSPECT
        return Verdict.NOT_RUN if not self.executed else Verdict.PARTIAL


@dataclass(frozen=True)
class CoverageReport:
    requirements: tuple[RequirementCoverage, ...] = ()
    totals: dict[Verdict, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.requirements)


def latest_status(run_id: uuid.UUID | None = None) -> ScalarSelect[str]:
    """The status of the latest execution that ran of the link's specification (of the
    run, with one): a correlated lookup, one index seek per link."""
    statement = (
        select(col(TestExecution.status))
        .where(
            col(TestExecution.test_specification_id)
            == col(RequirementTestLink.test_specification_id),
            col(TestExecution.status) != ExecutionStatus.NOT_RUN,
        )
        .order_by(col(TestExecution.created_at).desc(), col(TestExecution.id).desc())
        .limit(1)
    )
    if run_id is not None:
        statement = statement.where(col(TestExecution.run_id) == run_id)
    return statement.correlate(RequirementTestLink).scalar_subquery()


def coverage_statement(
    *, run_id: uuid.UUID | None = None, baseline_id: uuid.UUID | None = None
) -> Select[*tuple[Any, ...]]:
    """The matrix as rows: requirement key, title, revision (the baseline's with one), then
    per link the specification key, the verified revision and the latest status."""
    frozen = baseline_id is not None
    revision = col(BaselineRequirement.revision if frozen else Requirement.revision)
    statement = select(
        col(Requirement.key),
        col(Requirement.title),
        revision,
        col(TestSpecification.key),
        col(RequirementTestLink.verified_revision),
        latest_status(run_id),
    ).select_from(Requirement)
    if frozen:
        statement = statement.join(
            BaselineRequirement,
            (col(BaselineRequirement.requirement_id) == col(Requirement.id))
            & (col(BaselineRequirement.baseline_id) == baseline_id),
        )
    return (
        statement.outerjoin(
            RequirementTestLink, col(RequirementTestLink.requirement_id) == col(Requirement.id)
        )
        .outerjoin(
            TestSpecification,
            col(TestSpecification.id) == col(RequirementTestLink.test_specification_id),
        )
        .order_by(col(Requirement.key), col(TestSpecification.key))
    )


class CoverageService:
    """Coverage of the user's requirements by results (all runs, one run, a baseline)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def report(
        self, *, run_id: uuid.UUID | None = None, baseline_id: uuid.UUID | None = None
    ) -> CoverageReport:
        """Every requirement (of the baseline, with one) with its cells and verdict, and
        the verdicts counted: one query."""
        rows: dict[str, tuple[str, int, list[Cell]]] = {}
        statement = coverage_statement(run_id=run_id, baseline_id=baseline_id)
        for key, title, revision, spec_key, verified, status in self.session.execute(statement):
            _, _, cells = rows.setdefault(key, (title, revision, []))
            if spec_key is not None:
                suspect = verified is None or verified < revision
                known = None if status is None else ExecutionStatus(status)
                cells.append(Cell(spec_key, known, suspect))
        requirements = tuple(
            RequirementCoverage(key, title, revision, tuple(cells))
            for key, (title, revision, cells) in rows.items()
        )
        totals = Counter(requirement.verdict for requirement in requirements)
        return CoverageReport(requirements, dict(totals))
