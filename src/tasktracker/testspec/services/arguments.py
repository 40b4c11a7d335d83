"""The rules of a step's arguments, checked before anything is written.

A step invoking a command binds the command's parameters: each argument names a parameter of
that command's signature (once), and gives a literal `value` that parses as the parameter's
data type within its range, or a `variant_id` of that very parameter, or neither (the
parameter's default). Every required parameter must end up with a value: bound by a literal
or a variant, or supplied by a default (the default variant, else `default_value`).

The same check runs when a step is written, when something a step depends on changes (a
command's signature, a parameter's default), so stored steps stay valid, and when a user
import (`services.imported`) writes steps from a document: these functions are the one
implementation of the rules.
"""

import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Protocol

from tasktracker.db.errors import FieldError
from tasktracker.testspec.models import Parameter, ParameterVariant
from tasktracker.testspec.models.parameters import ParameterFields

Signature = list[tuple[Parameter, bool]]
"""A signature in order: each parameter and whether it is required."""


class Binding(Protocol):
    """An argument as given (`ArgumentIn`) or as stored (`TestStepArgument`)."""

    @property
    def parameter_id(self) -> uuid.UUID: ...
    @property
    def variant_id(self) -> uuid.UUID | None: ...
    @property
    def value(self) -> str | None: ...


@dataclass(frozen=True)
class Slot:
    """One parameter of a command's signature, as a step binding it sees it."""

    parameter: Parameter
    position: int
    is_required: bool
    has_default: bool


def slots_of(signature: Signature, with_default_variant: Set[uuid.UUID]) -> list[Slot]:
    """The signature as steps see it; `with_default_variant` holds the ids of its parameters
    that have a default variant (a parameter has a default if that, or a `default_value`)."""
    return [
        Slot(
            parameter=parameter,
            position=index,
            is_required=required,
            has_default=parameter.default_value is not None or parameter.id in with_default_variant,
        )
        for index, (parameter, required) in enumerate(signature, start=1)
    ]


def binding_problems(
    command_name: str | None,
    slots: Sequence[Slot],
    arguments: Sequence[Binding],
    variants: Mapping[uuid.UUID, ParameterVariant],
    *,
    field: str = "arguments",
    places: Sequence[str] | None = None,
) -> list[FieldError]:
    """Every rule the `arguments` of a step invoking `command_name` (None: no command)
    break, by field: `places[i]` is where argument i is (default `{field}[i]`), `field`
    where the step's binding as a whole is (a required parameter left without a value).

    `variants` must hold the variants the arguments name (missing ones are reported).
    """
    if command_name is None:
        return (
            [FieldError(field, "a step without a command takes no arguments")] if arguments else []
        )
    errors: list[FieldError] = []
    by_parameter = {slot.parameter.id: slot for slot in slots}
    bound: set[uuid.UUID] = set()
    for index, argument in enumerate(arguments):
        where = places[index] if places is not None else f"{field}[{index}]"
        slot = by_parameter.get(argument.parameter_id)
        if slot is None:
            errors.append(
                FieldError(f"{where}.parameter_id", f"is not a parameter of {command_name}")
            )
            continue
        name = slot.parameter.name
        if argument.parameter_id in bound:
            errors.append(FieldError(f"{where}.parameter_id", f"binds {name} a second time"))
            continue
        bound.add(argument.parameter_id)
        errors.extend(_argument_problems(where, slot.parameter, argument, variants))
    for slot in slots:
        given = next((a for a in arguments if a.parameter_id == slot.parameter.id), None)
        has_value = given is not None and (given.value is not None or given.variant_id is not None)
        if slot.is_required and not has_value and not slot.has_default:
            errors.append(
                FieldError(
                    field,
                    f"required parameter {slot.parameter.name} of {command_name} "
                    "needs a value or a variant (it has no default)",
                )
            )
    return errors


def _argument_problems(
    where: str,
    parameter: Parameter,
    argument: Binding,
    variants: Mapping[uuid.UUID, ParameterVariant],
) -> list[FieldError]:
    if argument.value is not None and argument.variant_id is not None:
        return [FieldError(f"{where}.value", "give a value or a variant, not both")]
    if argument.variant_id is not None:
        variant = variants.get(argument.variant_id)
        if variant is None:
            return [FieldError(f"{where}.variant_id", "no such variant")]
        if variant.parameter_id != parameter.id:
            return [
                FieldError(
                    f"{where}.variant_id",
                    f"{variant.name!r} is a variant of another parameter, not of {parameter.name}",
                )
            ]
    elif argument.value is not None and (problem := value_problem(parameter, argument.value)):
        return [FieldError(f"{where}.value", problem)]
    return []


def value_problem(parameter: ParameterFields, raw: str) -> str | None:
    """Why `raw` is not a value of `parameter` (a variant's or an argument's), or None."""
    problem = parameter.rule.problem(raw)
    return None if problem is None else f"{parameter.name}: {problem}"


def position_problem(position: int, count: int) -> str | None:
    """Why `position` is no place in a list of `count` (steps, a signature), or None: the
    positions of a list are `1..count`."""
    return None if 1 <= position <= count else f"must be between 1 and {count}"


def value_problems(
    parameter: ParameterFields, values: Mapping[str, str], *, field: str
) -> list[FieldError]:
    """`values` (labelled) that do not fit `parameter`'s data type and range."""
    return [
        FieldError(field, f"{label} ({raw!r}) would not fit: {problem}")
        for label, raw in values.items()
        if (problem := parameter.rule.problem(raw))
    ]
