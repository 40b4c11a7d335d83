"""Steps of a test specification: written with their arguments, kept at positions 1..n.

Inserting, moving or removing a step renumbers the others in the same transaction, so the
positions of a specification are always exactly 1..n. Neither backend can defer the unique
`(user_id, test_specification_id, position)` check (SQLite cannot at all; PostgreSQL only
for a DEFERRABLE constraint), and a plain `position = position + 1` may collide half-way
through. So a block of steps moves in two statements: first out of the way, above every
position in use, then to its place. A step that moves alone is parked above the others
while they shift. The specification row is locked first (PostgreSQL), so concurrent edits
of one specification queue up instead of colliding.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.repository import validated, write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.models import (
    GenericCommand,
    ParameterVariant,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.common import require
from tasktracker.testspec.schemas import ArgumentIn, TestStepCreate, TestStepUpdate
from tasktracker.testspec.services.arguments import (
    Slot,
    binding_problems,
    position_problem,
)
from tasktracker.testspec.services.versions import VersionService


class StepService:
    """Insert, change, move and remove the steps of the user's specifications."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)
        self.commands = GenericCommandRepository(session)
        self.versions = VersionService(session)

    def insert(
        self, specification_id: uuid.UUID, data: TestStepCreate | Mapping[str, Any]
    ) -> TestStep:
        """Add a step at `data.position` (the steps from there move down) or at the end."""
        data = validated(TestStepCreate, data)
        specification = self._locked(specification_id)
        count = self._count(specification_id)
        position = count + 1 if data.position is None else data.position
        if problem := position_problem(position, count + 1):
            raise ValidationError.single("position", problem, model="TestStep")
        self._check_arguments(data.command_id, data.arguments)
        with write(self.session):  # the renumbering and the new step, as one
            if position <= count:
                self._shift(specification_id, position, count, 1, count)
            step = TestStep(
                test_specification_id=specification_id,
                position=position,
                **data.model_dump(exclude={"position", "arguments"}),
            )
            step.arguments = [TestStepArgument(**a.model_dump()) for a in data.arguments]
            self.session.add(step)
        self._forget_order(specification)
        self.versions.record_specification(specification_id)
        return step

    def update(self, step_id: uuid.UUID, changes: TestStepUpdate | Mapping[str, Any]) -> TestStep:
        """Change the fields set in `changes`. New `arguments` replace the old ones; a new
        `command_id` without `arguments` clears them. Either way they are checked first."""
        changes = validated(TestStepUpdate, changes)
        step = self._step(step_id)
        values = changes.model_dump(exclude_unset=True, exclude={"arguments"})
        new_command = "command_id" in values and values["command_id"] != step.command_id
        replaces = changes.arguments is not None or new_command
        arguments = changes.arguments or []
        if replaces:
            self._check_arguments(values.get("command_id", step.command_id), arguments)
        with write(self.session):
            if replaces:
                self._replace_arguments(step, arguments)
            for name, value in values.items():
                setattr(step, name, value)
        if new_command and "command" not in inspect(step).unloaded:
            self.session.expire(step, ["command"])
        self.versions.record_specification(step.test_specification_id)
        return step

    def move(self, step_id: uuid.UUID, position: int) -> TestStep:
        """Move a step to `position` (1..n); the steps in between close up."""
        step = self._step(step_id)
        self._locked(step.test_specification_id)
        count = self._count(step.test_specification_id)
        if problem := position_problem(position, count):
            raise ValidationError.single("position", problem, model="TestStep")
        old = step.position
        if position == old:
            return step
        with write(self.session):  # parked, the others shifted, then placed: as one
            step.position = count + 1
            self.session.flush()
            if position < old:
                self._shift(step.test_specification_id, position, old - 1, 1, count)
            else:
                self._shift(step.test_specification_id, old + 1, position, -1, count)
            step.position = position
        self.versions.record_specification(step.test_specification_id)
        return step

    def remove(self, step_id: uuid.UUID) -> None:
        """Delete a step and its arguments; the steps after it move up."""
        step = self._step(step_id)
        specification = self._locked(step.test_specification_id)
        count = self._count(step.test_specification_id)
        position = step.position
        with write(self.session):  # the deletion and the renumbering, as one
            self.session.delete(step)
            self.session.flush()
            if position < count:
                self._shift(specification.id, position + 1, count, -1, count)
        self._forget_order(specification)
        self.versions.record_specification(specification.id)

    def steps(self, specification_id: uuid.UUID) -> list[TestStep]:
        """The specification's steps in order."""
        statement = (
            select(TestStep)
            .where(col(TestStep.test_specification_id) == specification_id)
            .order_by(col(TestStep.position))
        )
        return list(self.session.scalars(statement))

    def _shift(
        self, specification_id: uuid.UUID, first: int, last: int, by: int, count: int
    ) -> None:
        """Move the steps at positions first..last by `by`, never colliding on the way."""
        away = count + 1  # above every position in use, and above a parked step
        of_spec = col(TestStep.test_specification_id) == specification_id
        position = col(TestStep.position)
        for criterion, offset in (
            (position.between(first, last), away),
            (position >= first + away, by - away),
        ):
            self.session.execute(
                update(TestStep)
                .where(of_spec, criterion)
                .values(position=position + offset)
                .execution_options(synchronize_session="fetch")
            )

    def _check_arguments(
        self, command_id: uuid.UUID | None, arguments: Sequence[ArgumentIn]
    ) -> None:
        name: str | None = None
        slots: list[Slot] = []
        if command_id is not None:
            command = require(
                self.session, GenericCommand, command_id, field="command_id", owner="TestStep"
            )
            name, slots = command.name, self.commands.slots(self.commands.signature(command_id))
        variant_ids = [a.variant_id for a in arguments if a.variant_id is not None]
        variants = (
            {
                variant.id: variant
                for variant in self.session.scalars(
                    select(ParameterVariant).where(col(ParameterVariant.id).in_(variant_ids))
                )
            }
            if variant_ids
            else {}
        )
        if errors := binding_problems(name, slots, arguments, variants):
            raise ValidationError(errors, model="TestStep")

    def _replace_arguments(self, step: TestStep, arguments: Sequence[ArgumentIn]) -> None:
        self.session.execute(
            delete(TestStepArgument)
            .where(col(TestStepArgument.test_step_id) == step.id)
            .execution_options(synchronize_session="fetch")
        )
        self.session.add_all(
            TestStepArgument(test_step_id=step.id, **a.model_dump()) for a in arguments
        )
        if "arguments" not in inspect(step).unloaded:
            self.session.expire(step, ["arguments"])

    def _step(self, step_id: uuid.UUID) -> TestStep:
        step = self.session.get(TestStep, (self.user_id, step_id))
        if step is None:
            raise NotFoundError(f"TestStep {step_id} not found")
        return step

    def _locked(self, specification_id: uuid.UUID) -> TestSpecification:
        specification = self.session.get(
            TestSpecification, (self.user_id, specification_id), with_for_update=True
        )
        if specification is None:
            raise NotFoundError(f"TestSpecification {specification_id} not found")
        return specification

    def _count(self, specification_id: uuid.UUID) -> int:
        statement = (
            select(func.count())
            .select_from(TestStep)
            .where(col(TestStep.test_specification_id) == specification_id)
        )
        return self.session.scalar(statement) or 0

    def _forget_order(self, specification: TestSpecification) -> None:
        """A loaded `steps` collection no longer matches the database: unload it."""
        if "steps" not in inspect(specification).unloaded:
            self.session.expire(specification, ["steps"])
