"""Resolved argument values: what each step of a specification actually sends.

`resolve_specification` works on a specification loaded by
`TestSpecificationRepository.load` (a fixed number of statements, whatever the number of
steps) and issues no SQL itself. For each step invoking a command, every parameter of the
signature gets its value from, in order: the step's literal `value`, the step's variant,
the parameter's default variant, the parameter's `default_value`; otherwise it is unset
(allowed only for optional parameters).
"""

import enum
import uuid
from dataclasses import dataclass

from tasktracker.testspec.enums import DataType
from tasktracker.testspec.formats import PLACEHOLDER_PATTERN
from tasktracker.testspec.models import (
    GenericCommandParameter,
    Parameter,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.values import Value, parse_value


class ValueSource(enum.StrEnum):
    LITERAL = "literal"
    VARIANT = "variant"
    DEFAULT_VARIANT = "default_variant"
    DEFAULT_VALUE = "default_value"
    UNSET = "unset"


@dataclass(frozen=True)
class ResolvedArgument:
    parameter: str
    data_type: DataType
    unit: str | None
    source: ValueSource
    text: str | None
    variant: str | None = None

    @property
    def value(self) -> Value | None:
        """The typed value (`12.5`, `True`, ...), or None when unset."""
        return None if self.text is None else parse_value(self.data_type, self.text)


@dataclass(frozen=True)
class ResolvedStep:
    id: uuid.UUID
    position: int
    action: str
    expected_result: str | None
    continue_on_failure: bool
    command: str | None
    syntax: str | None
    arguments: tuple[ResolvedArgument, ...]

    @property
    def invocation(self) -> str | None:
        """The command line: the syntax with values filled in, else `NAME name=value ...`."""
        if self.command is None:
            return None
        texts = {a.parameter: a.text for a in self.arguments if a.text is not None}
        if self.syntax is not None:
            return PLACEHOLDER_PATTERN.sub(
                lambda match: texts.get(match.group(1), match.group(0)), self.syntax
            )
        return " ".join([self.command, *(f"{name}={text}" for name, text in texts.items())])


@dataclass(frozen=True)
class ResolvedSpecification:
    id: uuid.UUID
    key: str
    title: str
    steps: tuple[ResolvedStep, ...]


def _value_of(
    parameter: Parameter, argument: TestStepArgument | None
) -> tuple[ValueSource, str | None, str | None]:
    """(where the value comes from, its text, the variant's name)."""
    if argument is not None and argument.value is not None:
        return ValueSource.LITERAL, argument.value, None
    if argument is not None and argument.variant is not None:
        return ValueSource.VARIANT, argument.variant.value, argument.variant.name
    if parameter.default_variant is not None:
        variant = parameter.default_variant
        return ValueSource.DEFAULT_VARIANT, variant.value, variant.name
    if parameter.default_value is not None:
        return ValueSource.DEFAULT_VALUE, parameter.default_value, None
    return ValueSource.UNSET, None, None


def _resolve(entry: GenericCommandParameter, argument: TestStepArgument | None) -> ResolvedArgument:
    parameter = entry.parameter
    source, text, variant = _value_of(parameter, argument)
    return ResolvedArgument(
        parameter.name, parameter.data_type, parameter.unit, source, text, variant
    )


def resolve_step(step: TestStep) -> ResolvedStep:
    """The step with every signature parameter's value and where it came from."""
    command = step.command
    arguments: tuple[ResolvedArgument, ...] = ()
    if command is not None:
        given = {argument.parameter_id: argument for argument in step.arguments}
        arguments = tuple(
            _resolve(entry, given.get(entry.parameter_id)) for entry in command.signature
        )
    return ResolvedStep(
        id=step.id,
        position=step.position,
        action=step.action,
        expected_result=step.expected_result,
        continue_on_failure=step.continue_on_failure,
        command=command.name if command is not None else None,
        syntax=command.syntax if command is not None else None,
        arguments=arguments,
    )


def resolve_specification(specification: TestSpecification) -> ResolvedSpecification:
    return ResolvedSpecification(
        id=specification.id,
        key=specification.key,
        title=specification.title,
        steps=tuple(resolve_step(step) for step in specification.steps),
    )
