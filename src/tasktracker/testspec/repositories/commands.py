"""Generic commands and their ordered signatures.

A signature is written as a whole (the list order gives the positions 1..n). Changing it
is checked against the steps that invoke the command: a step may not end up binding a
parameter the command no longer has, nor lack a value for a parameter that became required.
Deleting a command that steps still use is refused; retire it with `is_active = false`.
"""

import builtins
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col

from tasktracker.db.errors import FieldError, IntegrityError, NotFoundError, ValidationError
from tasktracker.db.repository import TenantRepository, validated, write
from tasktracker.db.types import utc_now
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
    TestStepArgument,
)
from tasktracker.testspec.models.commands import GenericCommandFields
from tasktracker.testspec.repositories.common import require
from tasktracker.testspec.repositories.usage import UsageQueries, describe_steps
from tasktracker.testspec.schemas import GenericCommandCreate, GenericCommandUpdate, SignatureEntry
from tasktracker.testspec.services.arguments import Signature, Slot, binding_problems, slots_of


class GenericCommandRepository(TenantRepository[GenericCommand]):
    model = GenericCommand

    def create(self, data: GenericCommandCreate | Mapping[str, Any]) -> GenericCommand:
        """A new command with its signature (`signature` is loaded)."""
        data = validated(GenericCommandCreate, data)
        self._check_category(data.category_id)
        signature = self._signature_from(data.signature)
        if errors := data.syntax_problems(parameter.name for parameter, _ in signature):
            raise ValidationError(errors, model="GenericCommand")
        command = GenericCommand(**data.model_dump(exclude={"signature"}))
        # user_id comes from the scope, command_id from the relationship, both at flush.
        command.signature = [
            GenericCommandParameter(parameter_id=parameter.id, position=index, is_required=required)  # type: ignore[call-arg]
            for index, (parameter, required) in enumerate(signature, start=1)
        ]
        return self.add(command)

    def update(
        self,
        id: uuid.UUID,
        changes: GenericCommandUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> GenericCommand:
        """Change the fields set in `changes`; a given `signature` replaces the old one if
        the syntax and every step invoking the command still fit it."""
        changes = validated(GenericCommandUpdate, changes)
        command = self.get(id)
        values = changes.model_dump(exclude_unset=True, exclude={"signature"})
        if "category_id" in values:
            self._check_category(values["category_id"])
        current = self.signature(id)
        signature = (
            current if changes.signature is None else self._signature_from(changes.signature)
        )
        changed = _entries(signature) != _entries(current)
        fields = command.model_dump(include=set(GenericCommandFields.model_fields)) | values
        after = GenericCommandFields.model_validate(fields)
        errors = after.syntax_problems(parameter.name for parameter, _ in signature)
        if changed:
            errors += self._steps_problems(command, current, signature)
        if errors:
            raise ValidationError(errors, model="GenericCommand")
        command = self.get_unchanged(id, expected_updated_at)
        with write(self.session):  # the command and its signature, as one
            self.apply(command, values)
            if changed:
                self._replace_signature(command, signature)
                command.updated_at = utc_now()  # the signature is part of the command
        return command

    def delete(self, id: uuid.UUID) -> None:
        """Delete the command and its signature; refused while steps use it."""
        command = self.get(id)
        if steps := UsageQueries(self.session).steps_using_command(id):
            raise IntegrityError(
                f"command {command.name} is still used by {describe_steps(steps)}; "
                "retire it instead (is_active = false)"
            )
        super().delete(id)

    def get_by_name(self, name: str) -> GenericCommand:
        found = self.find_by_name(name)
        if found is None:
            raise NotFoundError(f"GenericCommand {name!r} not found")
        return found

    def find_by_name(self, name: str) -> GenericCommand | None:
        statement = select(GenericCommand).where(col(GenericCommand.name) == name)
        return self.session.scalars(statement).one_or_none()

    def with_signature(self, id: uuid.UUID) -> GenericCommand:
        """The command with `signature` (in order) and each entry's `parameter` loaded."""
        statement = (
            select(GenericCommand)
            .where(col(GenericCommand.id) == id)
            .options(
                selectinload(GenericCommand.signature).joinedload(  # type: ignore[arg-type]
                    GenericCommandParameter.parameter  # type: ignore[arg-type]
                )
            )
        )
        found = self.session.scalars(statement).one_or_none()
        if found is None:
            raise NotFoundError(f"GenericCommand {id} not found")
        return found

    def list(self, *, active_only: bool = False) -> builtins.list[GenericCommand]:
        """Commands by name; `active_only` leaves out retired ones."""
        statement = select(GenericCommand).order_by(col(GenericCommand.name))
        if active_only:
            statement = statement.where(col(GenericCommand.is_active))
        return builtins.list(self.session.scalars(statement))

    def signature(self, id: uuid.UUID) -> Signature:
        """The command's parameters in signature order, each with whether it is required."""
        statement = (
            select(Parameter, col(GenericCommandParameter.is_required))
            .join(GenericCommandParameter, Parameter.signature_entries)  # type: ignore[arg-type]
            .where(col(GenericCommandParameter.command_id) == id)
            .order_by(col(GenericCommandParameter.position))
        )
        return [(parameter, required) for parameter, required in self.session.execute(statement)]

    def slots(self, signature: Signature) -> builtins.list[Slot]:
        """The signature as steps see it: which parameters have a default (one query)."""
        ids = [parameter.id for parameter, _ in signature]
        with_default_variant = set(
            self.session.scalars(
                select(col(ParameterVariant.parameter_id)).where(
                    col(ParameterVariant.parameter_id).in_(ids), col(ParameterVariant.is_default)
                )
            )
            if ids
            else ()
        )
        return slots_of(signature, with_default_variant)

    def _signature_from(self, entries: Sequence[SignatureEntry]) -> Signature:
        """The parameters of a signature as given, or field-level errors."""
        ids = [entry.parameter_id for entry in entries]
        found = (
            {
                parameter.id: parameter
                for parameter in self.session.scalars(
                    select(Parameter).where(col(Parameter.id).in_(ids))
                )
            }
            if ids
            else {}
        )
        errors: builtins.list[FieldError] = []
        seen: set[uuid.UUID] = set()
        for index, entry in enumerate(entries):
            where = f"signature[{index}].parameter_id"
            if entry.parameter_id not in found:
                errors.append(FieldError(where, "no such parameter"))
            elif entry.parameter_id in seen:
                errors.append(
                    FieldError(where, f"{found[entry.parameter_id].name} is listed twice")
                )
            seen.add(entry.parameter_id)
        if errors:
            raise ValidationError(errors, model="GenericCommand")
        return [(found[entry.parameter_id], entry.is_required) for entry in entries]

    def _steps_problems(
        self, command: GenericCommand, current: Signature, signature: Signature
    ) -> builtins.list[FieldError]:
        """What the steps invoking `command` would break under the new `signature`."""
        steps = UsageQueries(self.session).steps_using_command(command.id)
        if not steps:
            return []
        arguments: dict[uuid.UUID, builtins.list[TestStepArgument]] = defaultdict(builtins.list)
        for argument in self.session.scalars(
            select(TestStepArgument)
            .where(col(TestStepArgument.test_step_id).in_([step.id for step in steps]))
            .options(joinedload(TestStepArgument.variant))  # type: ignore[arg-type]
        ):
            arguments[argument.test_step_id].append(argument)
        names = {parameter.id: parameter.name for parameter, _ in current}
        kept = {parameter.id for parameter, _ in signature}
        slots = self.slots(signature)
        errors: builtins.list[FieldError] = []
        for step in steps:
            where = f"{step.specification.key} step {step.position}"
            given = arguments[step.id]
            errors += [
                FieldError(
                    "signature", f"{where} binds {names.get(a.parameter_id, '?')}, not in it"
                )
                for a in given
                if a.parameter_id not in kept
            ]
            variants = {a.variant.id: a.variant for a in given if a.variant is not None}
            bound = [a for a in given if a.parameter_id in kept]
            errors += [
                FieldError("signature", f"{where}: {problem.message}")
                for problem in binding_problems(command.name, slots, bound, variants)
            ]
        return errors

    def _replace_signature(self, command: GenericCommand, signature: Signature) -> None:
        self.session.execute(
            delete(GenericCommandParameter)
            .where(col(GenericCommandParameter.command_id) == command.id)
            .execution_options(synchronize_session="fetch")
        )
        self.session.add_all(
            GenericCommandParameter(  # type: ignore[call-arg]  # user_id: the scope's, at flush
                command_id=command.id,
                parameter_id=parameter.id,
                position=index,
                is_required=required,
            )
            for index, (parameter, required) in enumerate(signature, start=1)
        )
        self.session.expire(command, ["signature", "parameters"])

    def _check_category(self, category_id: uuid.UUID | None) -> None:
        if category_id is not None:
            require(
                self.session,
                CommandCategory,
                category_id,
                field="category_id",
                owner="GenericCommand",
            )


def _entries(signature: Signature) -> builtins.list[tuple[uuid.UUID, bool]]:
    return [(parameter.id, required) for parameter, required in signature]
