"""The test-engineering rules over rows written by a user import, before they are sent.

The user import (`tasktracker.transfer`) writes table rows, not repository calls, so the
rules a repository or `StepService` applies across rows would not run. Here they run over
the document's rows, by the same functions (`services.arguments`):

- a variant's value fits its parameter's data type and range;
- a command's signature holds positions `1..n`, and its syntax names only its parameters;
- a specification's steps hold positions `1..n`;
- a step's arguments bind parameters of its command's signature, with literals that fit and
  variants of that very parameter; every required parameter gets a value (a literal, a
  variant or a default); a step without a command takes no arguments.

Every row the document references is in the document (the import checks that first), so
the rows are all there is to look at. Each problem names the row as the document has it
(`tables.test_step_arguments[3].value: ...`). What one row breaks on its own (a blank
name, a parameter's default out of range) is for its model; what the database refuses
(duplicates, a reference to a row of the wrong table) is named when it refuses.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from sqlmodel import SQLModel

from tasktracker.db.errors import FieldError
from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.services.arguments import (
    Signature,
    Slot,
    binding_problems,
    position_problem,
    slots_of,
    value_problem,
)

Located = tuple[str, object]
"""A row as the import built it: its place in the document (`tables.test_steps[4]`), and
its model instance."""
ModelT = TypeVar("ModelT", bound=SQLModel)


def imported_problems(tables: Mapping[str, Sequence[Located]]) -> list[FieldError]:
    """Every rule the test-engineering rows of an import break, by row and field."""
    rows = _Rows(tables)
    return [
        *rows.variant_problems(),
        *rows.signature_problems(),
        *rows.step_position_problems(),
        *rows.binding_problems(),
    ]


def _rows(tables: Mapping[str, Sequence[Located]], model: type[ModelT]) -> list[tuple[str, ModelT]]:
    name = str(model.__tablename__)
    return [(where, row) for where, row in tables.get(name, ()) if isinstance(row, model)]


def _grouped(
    rows: Iterable[tuple[str, ModelT]], key: str
) -> dict[uuid.UUID, list[tuple[str, ModelT]]]:
    groups: dict[uuid.UUID, list[tuple[str, ModelT]]] = defaultdict(list)
    for where, row in rows:
        groups[getattr(row, key)].append((where, row))
    return groups


def _position_problems(
    groups: Mapping[uuid.UUID, Sequence[tuple[str, TestStep | GenericCommandParameter]]],
) -> list[FieldError]:
    return [
        FieldError(f"{where}.position", problem)
        for group in groups.values()
        for where, row in group
        if (problem := position_problem(row.position, len(group)))
    ]


class _Rows:
    """The test-engineering rows of one document, indexed the ways the rules need them."""

    def __init__(self, tables: Mapping[str, Sequence[Located]]) -> None:
        self.parameters = {row.id: row for _, row in _rows(tables, Parameter)}
        self.variants = _rows(tables, ParameterVariant)
        self.commands = {row.id: (where, row) for where, row in _rows(tables, GenericCommand)}
        self.entries = _grouped(_rows(tables, GenericCommandParameter), "command_id")
        self.steps = _rows(tables, TestStep)
        self.arguments = _grouped(_rows(tables, TestStepArgument), "test_step_id")

    def variant_problems(self) -> list[FieldError]:
        return [
            FieldError(f"{where}.value", problem)
            for where, variant in self.variants
            if (parameter := self.parameters.get(variant.parameter_id)) is not None
            and (problem := value_problem(parameter, variant.value))
        ]

    def signature_problems(self) -> list[FieldError]:
        errors = _position_problems(self.entries)
        for command_id, (where, command) in self.commands.items():
            names = [parameter.name for parameter, _ in self._signature(command_id)]
            errors += [
                FieldError(f"{where}.{e.field}", e.message) for e in command.syntax_problems(names)
            ]
        return errors

    def step_position_problems(self) -> list[FieldError]:
        return _position_problems(_grouped(self.steps, "test_specification_id"))

    def binding_problems(self) -> list[FieldError]:
        with_default_variant = {v.parameter_id for _, v in self.variants if v.is_default}
        variants = {variant.id: variant for _, variant in self.variants}
        errors: list[FieldError] = []
        for where, step in self.steps:
            slots: list[Slot] = []
            if step.command_id is None:
                name = None
            elif step.command_id in self.commands:
                name = self.commands[step.command_id][1].name
                slots = slots_of(self._signature(step.command_id), with_default_variant)
            else:
                continue  # not a command of the document: the database refuses the step
            located = self.arguments.get(step.id, [])
            errors += binding_problems(
                name,
                slots,
                [argument for _, argument in located],
                variants,
                field=f"{where}.command_id",
                places=[place for place, _ in located],
            )
        return errors

    def _signature(self, command_id: uuid.UUID) -> Signature:
        """The command's parameters in position order (entries naming no parameter of the
        document are left to the database)."""
        entries = sorted(self.entries.get(command_id, []), key=lambda e: e[1].position)
        return [
            (self.parameters[entry.parameter_id], entry.is_required)
            for _, entry in entries
            if entry.parameter_id in self.parameters
        ]
