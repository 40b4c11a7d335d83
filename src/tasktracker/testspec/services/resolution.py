"""Resolved argument values: what each step of a specification actually sends.

Two ways to the same `ResolvedSpecification`:

- `resolve_specification` works on a specification loaded by
  `TestSpecificationRepository.load` (a fixed number of statements, whatever the number of
  steps) and issues no SQL itself;
- `resolved_specification` (`TestSpecificationRepository.read_resolved`), the fast
  path for callers that only read: `READ_RESOLVED_STATEMENTS` compiled statements
  (`db.fastpath`) whatever the number of steps, read rows instead of ORM objects, as
  steps (`db.fastpath.steps`) that sync and async units run.

For each step invoking a command, every parameter of the signature gets its value from, in
order: the step's literal `value`, the step's variant, the parameter's default variant, the
parameter's `default_value`; otherwise it is unset (allowed only for optional parameters).
Both paths apply that rule through one function, `_value_of`.
"""

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import BindParameter, bindparam, select
from sqlmodel import col

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.fastpath.steps import Steps
from tasktracker.testspec.enums import DataType
from tasktracker.testspec.formats import PLACEHOLDER_PATTERN
from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
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
    *,
    literal: str | None,
    variant: str | None,
    variant_value: str | None,
    default_variant: str | None,
    default_variant_value: str | None,
    default_value: str | None,
) -> tuple[ValueSource, str | None, str | None]:
    """The precedence rule, on plain values: (where the value comes from, its text, the
    variant's name). `literal`, `variant` (name and value) are the step argument's, None
    without one; the rest are the parameter's (its default variant's name and value)."""
    if literal is not None:
        return ValueSource.LITERAL, literal, None
    if variant is not None:
        return ValueSource.VARIANT, variant_value, variant
    if default_variant is not None:
        return ValueSource.DEFAULT_VARIANT, default_variant_value, default_variant
    if default_value is not None:
        return ValueSource.DEFAULT_VALUE, default_value, None
    return ValueSource.UNSET, None, None


# --- from loaded ORM objects ------------------------------------------------------------


def _resolve(entry: GenericCommandParameter, argument: TestStepArgument | None) -> ResolvedArgument:
    parameter = entry.parameter
    variant = argument.variant if argument is not None else None
    default = parameter.default_variant
    source, text, variant_name = _value_of(
        literal=argument.value if argument is not None else None,
        variant=variant.name if variant is not None else None,
        variant_value=variant.value if variant is not None else None,
        default_variant=default.name if default is not None else None,
        default_variant_value=default.value if default is not None else None,
        default_value=parameter.default_value,
    )
    return ResolvedArgument(
        parameter.name, parameter.data_type, parameter.unit, source, text, variant_name
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


# --- the fast path: compiled statements, read rows --------------------------------------


class _SpecificationRow(NamedTuple):
    id: uuid.UUID
    key: str
    title: str


class _StepRow(NamedTuple):
    id: uuid.UUID
    position: int
    action: str
    expected_result: str | None
    continue_on_failure: bool
    command_id: uuid.UUID | None
    command: str | None  # None also when the command is not visible, as `step.command`
    syntax: str | None


class _SignatureRow(NamedTuple):
    """One signature entry of a command used by the specification, with its parameter."""

    command_id: uuid.UUID
    parameter_id: uuid.UUID
    name: str
    data_type: DataType
    unit: str | None
    default_value: str | None
    default_variant: str | None
    default_variant_value: str | None


class _ArgumentRow(NamedTuple):
    test_step_id: uuid.UUID
    parameter_id: uuid.UUID
    value: str | None
    variant: str | None
    variant_value: str | None


_SPECIFICATION_ID: BindParameter[uuid.UUID] = bindparam("specification_id")
_IN_SPECIFICATION = col(TestStep.test_specification_id) == _SPECIFICATION_ID

# The joins follow the models' relationships, whose conditions carry the composite
# (user_id, id) keys.
_SPECIFICATION = CompiledQuery(
    select(
        col(TestSpecification.id), col(TestSpecification.key), col(TestSpecification.title)
    ).where(col(TestSpecification.id) == _SPECIFICATION_ID),
    _SpecificationRow,
)
_STEPS = CompiledQuery(
    select(
        col(TestStep.id),
        col(TestStep.position),
        col(TestStep.action),
        col(TestStep.expected_result),
        col(TestStep.continue_on_failure),
        col(TestStep.command_id),
        col(GenericCommand.name),
        col(GenericCommand.syntax),
    )
    .outerjoin(TestStep.command)  # type: ignore[arg-type]
    .where(_IN_SPECIFICATION)
    .order_by(col(TestStep.position)),
    _StepRow,
)
_SIGNATURES = CompiledQuery(
    select(
        col(GenericCommandParameter.command_id),
        col(Parameter.id),
        col(Parameter.name),
        col(Parameter.data_type),
        col(Parameter.unit),
        col(Parameter.default_value),
        col(ParameterVariant.name),
        col(ParameterVariant.value),
    )
    .join(GenericCommandParameter.parameter)  # type: ignore[arg-type]
    .outerjoin(Parameter.default_variant)  # type: ignore[arg-type]
    .where(
        col(GenericCommandParameter.command_id).in_(
            select(col(TestStep.command_id)).where(_IN_SPECIFICATION)
        )
    )
    .order_by(col(GenericCommandParameter.command_id), col(GenericCommandParameter.position)),
    _SignatureRow,
)
_ARGUMENTS = CompiledQuery(
    select(
        col(TestStepArgument.test_step_id),
        col(TestStepArgument.parameter_id),
        col(TestStepArgument.value),
        col(ParameterVariant.name),
        col(ParameterVariant.value),
    )
    .join(TestStepArgument.step)  # type: ignore[arg-type]
    .outerjoin(TestStepArgument.variant)  # type: ignore[arg-type]
    .where(_IN_SPECIFICATION),
    _ArgumentRow,
)

READ_RESOLVED_STATEMENTS = 4
"""Statements `resolved_specification` issues for a visible specification: the
specification, its steps + commands, the signatures of those commands + parameters +
default variants, the steps' arguments + variants (one, for a specification not found)."""


def resolved_specification(specification_id: uuid.UUID) -> Steps[ResolvedSpecification]:
    """The specification resolved as `resolve_specification(load(id))` resolves it, read
    with `READ_RESOLVED_STATEMENTS` compiled statements and no ORM object; `NotFoundError`
    if the scope cannot see it.

    In a read-only unit each statement sees the latest committed data, as it does in a
    transaction on PostgreSQL (READ COMMITTED); on SQLite only a unit with a transaction
    reads all of them from one snapshot."""
    if not isinstance(specification_id, uuid.UUID):
        raise ValidationError.single("id", "must be a UUID", model="TestSpecification")
    found: list[_SpecificationRow] = yield _SPECIFICATION.fetching(
        specification_id=specification_id
    )
    if not found:
        raise NotFoundError(f"TestSpecification {specification_id} not found")
    steps: list[_StepRow] = yield _STEPS.fetching(specification_id=specification_id)
    signatures: dict[uuid.UUID, list[_SignatureRow]] = {}
    entries: list[_SignatureRow] = yield _SIGNATURES.fetching(specification_id=specification_id)
    for entry in entries:
        signatures.setdefault(entry.command_id, []).append(entry)
    arguments: list[_ArgumentRow] = yield _ARGUMENTS.fetching(specification_id=specification_id)
    given = {(argument.test_step_id, argument.parameter_id): argument for argument in arguments}
    return ResolvedSpecification(
        id=found[0].id,
        key=found[0].key,
        title=found[0].title,
        steps=tuple(_resolved_step(step, signatures, given) for step in steps),
    )


def _resolved_step(
    step: _StepRow,
    signatures: dict[uuid.UUID, list[_SignatureRow]],
    given: dict[tuple[uuid.UUID, uuid.UUID], _ArgumentRow],
) -> ResolvedStep:
    arguments: tuple[ResolvedArgument, ...] = ()
    if step.command is not None and step.command_id is not None:
        entries: Iterable[_SignatureRow] = signatures.get(step.command_id, ())
        arguments = tuple(
            _resolved_row(entry, given.get((step.id, entry.parameter_id))) for entry in entries
        )
    return ResolvedStep(
        id=step.id,
        position=step.position,
        action=step.action,
        expected_result=step.expected_result,
        continue_on_failure=step.continue_on_failure,
        command=step.command,
        syntax=step.syntax,
        arguments=arguments,
    )


def _resolved_row(entry: _SignatureRow, argument: _ArgumentRow | None) -> ResolvedArgument:
    source, text, variant = _value_of(
        literal=argument.value if argument is not None else None,
        variant=argument.variant if argument is not None else None,
        variant_value=argument.variant_value if argument is not None else None,
        default_variant=entry.default_variant,
        default_variant_value=entry.default_variant_value,
        default_value=entry.default_value,
    )
    return ResolvedArgument(entry.name, entry.data_type, entry.unit, source, text, variant)
