"""Runs and executions: what was run, on which version, with which result.

An execution is pinned to the specification's version current when it is added
(`VersionService.current_specification_version`), so its step results are checked against
the steps of that version: a result for a position the version does not have is refused
(`ValidationError` on `steps[i].position`). Recording on an execution whose version is no
longer the latest is allowed and said so (`Recorded.outdated`). A run can be expanded over
parameter variants: one execution per combination of the chosen parameters' variants, as
the data set of a parametrised test.
"""

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlmodel import col

from tasktracker.db.errors import ValidationError
from tasktracker.db.repository import validated, write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.models import (
    Parameter,
    TestExecution,
    TestRun,
    TestSpecification,
    TestSpecificationVersion,
    TestStepResult,
)
from tasktracker.testspec.repositories.common import require
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.schemas.runs import ExecutionResultIn, StepResultIn
from tasktracker.testspec.services.versions import VersionService


@dataclass(frozen=True)
class Recorded:
    """A recorded execution; `outdated` when its pinned version is not the latest."""

    execution: TestExecution
    version: int
    latest_version: int

    @property
    def outdated(self) -> bool:
        return self.version < self.latest_version


def combination_text(variants: Mapping[str, str]) -> str:
    """`supply_voltage=low_battery,channel=ch2`: the pairs in the order given."""
    return ",".join(f"{name}={variant}" for name, variant in variants.items())


def version_positions(version: TestSpecificationVersion) -> set[int]:
    """The step positions a specification version has."""
    steps: list[dict[str, Any]] = version.content["steps"]  # type: ignore[assignment]
    return {int(step["position"]) for step in steps}


class RunService:
    """Add executions to the user's runs and record their results."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)
        self.runs = TestRunRepository(session)
        self.versions = VersionService(session)

    def add_execution(
        self,
        run_id: uuid.UUID,
        specification_id: uuid.UUID,
        *,
        variants: Mapping[str, str] | None = None,
    ) -> TestExecution:
        """A `not_run` execution of the specification's current version in the run."""
        return self._add(self.runs.get(run_id), specification_id, [variants or {}])[0]

    def expand(
        self, run_id: uuid.UUID, specification_id: uuid.UUID, parameters: Sequence[str]
    ) -> list[TestExecution]:
        """One execution per combination of the variants of `parameters` (by name), each
        combination named `parameter=variant,...` in the order of `parameters`."""
        run = self.runs.get(run_id)
        statement = (
            select(Parameter)
            .where(col(Parameter.name).in_(parameters))
            .options(selectinload(Parameter.variants))  # type: ignore[arg-type]
        )
        found = {p.name: p for p in self.session.scalars(statement)}
        choices: list[list[tuple[str, str]]] = []
        for index, name in enumerate(parameters):
            parameter = found.get(name)
            if parameter is None or not parameter.variants:
                problem = "no such parameter" if parameter is None else "has no variants"
                raise ValidationError.single(
                    f"parameters[{index}]", f"{name!r}: {problem}", model="TestExecution"
                )
            choices.append([(name, variant.name) for variant in parameter.variants])
        combinations = [dict(pairs) for pairs in itertools.product(*choices)]
        return self._add(run, specification_id, combinations)

    def record(
        self,
        execution_id: uuid.UUID,
        result: ExecutionResultIn | Mapping[str, Any],
        steps: Sequence[StepResultIn | Mapping[str, Any]] = (),
    ) -> Recorded:
        """Set the execution's result (the fields given) and its steps' results (a step's
        earlier result is replaced), all or nothing."""
        result = validated(ExecutionResultIn, result)
        checked = [validated(StepResultIn, step) for step in steps]
        execution = self._execution(execution_id)
        pinned = self._version(execution.specification_version_id)
        self._check_positions(pinned, checked)
        latest = self.versions.current_specification_version(execution.test_specification_id)
        with write(self.session):
            for name, value in result.model_dump(exclude_unset=True).items():
                setattr(execution, name, value)
            for step in checked:
                self._put_step(execution.id, step)
        return Recorded(execution, pinned.version, latest.version)

    def step_results(self, execution_id: uuid.UUID) -> list[TestStepResult]:
        """The execution's step results by position."""
        self._execution(execution_id)
        statement = (
            select(TestStepResult)
            .where(col(TestStepResult.execution_id) == execution_id)
            .order_by(col(TestStepResult.position))
        )
        return list(self.session.scalars(statement))

    def _add(
        self,
        run: TestRun,
        specification_id: uuid.UUID,
        combinations: Sequence[Mapping[str, str]],
    ) -> list[TestExecution]:
        require(
            self.session,
            TestSpecification,
            specification_id,
            field="test_specification_id",
            owner="TestExecution",
        )
        version = self.versions.current_specification_version(specification_id)
        executions = [
            TestExecution(
                user_id=self.user_id,
                run_id=run.id,
                test_specification_id=specification_id,
                specification_version_id=version.id,
                combination=combination_text(variants),
                variants=dict(variants) or None,
            )
            for variants in combinations
        ]
        with write(self.session):
            self.session.add_all(executions)
        return executions

    def _execution(self, id: uuid.UUID) -> TestExecution:
        return require(self.session, TestExecution, id, field="execution_id", owner="TestExecution")

    def _version(self, id: uuid.UUID) -> TestSpecificationVersion:
        found = self.session.get(TestSpecificationVersion, (self.user_id, id))
        assert found is not None  # the composite foreign key
        return found

    @staticmethod
    def _check_positions(version: TestSpecificationVersion, steps: Sequence[StepResultIn]) -> None:
        positions = version_positions(version)
        for index, step in enumerate(steps):
            if step.position not in positions:
                raise ValidationError.single(
                    f"steps[{index}].position",
                    f"step {step.position} is not in version {version.version} of "
                    f"{version.key} ({len(positions)} step(s))",
                    model="TestStepResult",
                )

    def _put_step(self, execution_id: uuid.UUID, step: StepResultIn) -> None:
        key = (self.user_id, execution_id, step.position)
        existing = self.session.get(TestStepResult, key)
        values = step.model_dump(exclude={"position"})
        if existing is None:
            self.session.add(
                TestStepResult(
                    user_id=self.user_id,
                    execution_id=execution_id,
                    position=step.position,
                    **values,
                )
            )
            return
        for name, value in values.items():
            setattr(existing, name, value)
