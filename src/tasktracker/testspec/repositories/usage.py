"""Where is it used? The commands and steps that use a parameter, a variant or a command.

These answer a test engineer's "what breaks if I change this?", and they are what the
repositories consult before refusing a delete with a message that names the users.
Steps come with their specification loaded, ordered by specification key and position.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, contains_eager
from sqlmodel import col

from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    TestSpecification,
    TestStep,
    TestStepArgument,
)


def describe_steps(steps: Sequence[TestStep], limit: int = 5) -> str:
    """`TS-001 step 2, TS-004 step 1 and 3 more` (the steps need their specification loaded)."""
    names = [f"{step.specification.key} step {step.position}" for step in steps[:limit]]
    if len(steps) > limit:
        names.append(f"{len(steps) - limit} more")
    return ", ".join(names)


class UsageQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def commands_using_parameter(self, parameter_id: uuid.UUID) -> list[GenericCommand]:
        """Commands whose signature contains the parameter, by name."""
        statement = (
            select(GenericCommand)
            .join(GenericCommand.signature)  # type: ignore[arg-type]
            .where(col(GenericCommandParameter.parameter_id) == parameter_id)
            .order_by(col(GenericCommand.name))
        )
        return list(self.session.scalars(statement))

    def steps_using_parameter(self, parameter_id: uuid.UUID) -> list[TestStep]:
        """Steps whose command has the parameter in its signature (bound or defaulted)."""
        statement = self._steps().where(
            col(TestStep.command_id).in_(
                select(col(GenericCommandParameter.command_id)).where(
                    col(GenericCommandParameter.parameter_id) == parameter_id
                )
            )
        )
        return list(self.session.scalars(statement))

    def steps_binding_parameter(self, parameter_id: uuid.UUID) -> list[TestStep]:
        """Steps with an argument row for the parameter (what blocks deleting it)."""
        statement = self._steps().where(
            col(TestStep.id).in_(
                select(col(TestStepArgument.test_step_id)).where(
                    col(TestStepArgument.parameter_id) == parameter_id
                )
            )
        )
        return list(self.session.scalars(statement))

    def steps_using_variant(self, variant_id: uuid.UUID) -> list[TestStep]:
        """Steps whose arguments name the variant."""
        statement = self._steps().where(
            col(TestStep.id).in_(
                select(col(TestStepArgument.test_step_id)).where(
                    col(TestStepArgument.variant_id) == variant_id
                )
            )
        )
        return list(self.session.scalars(statement))

    def commands_using_variant(self, variant_id: uuid.UUID) -> list[GenericCommand]:
        """Commands invoked by steps that bind the variant, by name."""
        statement = (
            select(GenericCommand)
            .where(
                col(GenericCommand.id).in_(
                    select(col(TestStep.command_id))
                    .join(TestStep.arguments)  # type: ignore[arg-type]
                    .where(col(TestStepArgument.variant_id) == variant_id)
                )
            )
            .order_by(col(GenericCommand.name))
        )
        return list(self.session.scalars(statement))

    def steps_using_command(self, command_id: uuid.UUID) -> list[TestStep]:
        statement = self._steps().where(col(TestStep.command_id) == command_id)
        return list(self.session.scalars(statement))

    def steps_relying_on_default(self, parameter_id: uuid.UUID) -> list[TestStep]:
        """Steps that leave a required parameter unbound, so its default supplies the value."""
        bound = and_(
            col(TestStepArgument.user_id) == col(TestStep.user_id),
            col(TestStepArgument.test_step_id) == col(TestStep.id),
            col(TestStepArgument.parameter_id) == parameter_id,
        )
        required = and_(
            col(GenericCommandParameter.user_id) == col(TestStep.user_id),
            col(GenericCommandParameter.command_id) == col(TestStep.command_id),
            col(GenericCommandParameter.parameter_id) == parameter_id,
            col(GenericCommandParameter.is_required),
        )
        statement = (
            self._steps()
            .join(GenericCommandParameter, required)
            .outerjoin(TestStepArgument, bound)
            .where(
                or_(
                    col(TestStepArgument.test_step_id).is_(None),
                    and_(
                        col(TestStepArgument.value).is_(None),
                        col(TestStepArgument.variant_id).is_(None),
                    ),
                )
            )
        )
        return list(self.session.scalars(statement))

    @staticmethod
    def _steps() -> Select[TestStep]:
        return (
            select(TestStep)
            .join(TestStep.specification)  # type: ignore[arg-type]
            .options(contains_eager(TestStep.specification))  # type: ignore[arg-type]
            .order_by(col(TestSpecification.key), col(TestStep.position))
        )
