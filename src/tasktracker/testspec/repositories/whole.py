"""A whole specification as tracked models, from compiled statements.

`TestSpecificationRepository.load` returns a specification with its steps, their commands,
the commands' signatures with their parameters and default variants, the steps' arguments
with their variants, and its requirement links with their requirements: the graph the
ORM loads with `WHOLE`'s eager-loading options in five statements. Through the ORM that
cost about seven times the raw driver's four statements, nearly all of it the ORM's
per-statement machinery and its row loader, repeated for each statement and each joined
entity.

`tracked_whole` reads the same rows with five compiled statements (the same scope
criteria, compiled once), makes them into tracked models (`db.fastpath.graph`), and sets
exactly the relationships the options name, as the eager loaders would have: loaded,
nothing pending. The others stay unloaded (`lazy="raise"`), as through the ORM. Where the
ORM's loader would do more, it returns None and the repository runs the ORM.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.base import ExecutableOption
from sqlmodel import col

from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.fastpath.entities import entities
from tasktracker.db.fastpath.graph import Graph
from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
    Requirement,
    RequirementTestLink,
    TestSpecification,
    TestStep,
    TestStepArgument,
)

LOAD_STATEMENTS = 5
"""Statements a whole specification takes, either way: specification, steps + commands,
signatures + parameters + default variants, arguments + variants, links + requirements."""


def whole() -> tuple[ExecutableOption, ...]:
    """The ORM's loader options for the same graph (built on use: they need configured
    mappers)."""
    return (
        selectinload(TestSpecification.steps).options(  # type: ignore[arg-type]
            joinedload(TestStep.command)  # type: ignore[arg-type]
            .selectinload(GenericCommand.signature)  # type: ignore[arg-type]
            .joinedload(GenericCommandParameter.parameter)  # type: ignore[arg-type]
            .joinedload(Parameter.default_variant),  # type: ignore[arg-type]
            selectinload(TestStep.arguments).joinedload(TestStepArgument.variant),  # type: ignore[arg-type]
        ),
        selectinload(TestSpecification.requirement_links).joinedload(  # type: ignore[arg-type]
            RequirementTestLink.requirement  # type: ignore[arg-type]
        ),
    )


_SPECIFICATION = entities(TestSpecification)
_STEP = entities(TestStep)
_COMMAND = entities(GenericCommand)
_ENTRY = entities(GenericCommandParameter)
_PARAMETER = entities(Parameter)
_VARIANT = entities(ParameterVariant)
_ARGUMENT = entities(TestStepArgument)
_LINK = entities(RequirementTestLink)
_REQUIREMENT = entities(Requirement)

_SPECIFICATION_ID = _SPECIFICATION.keys.index("id")
_ID: BindParameter[uuid.UUID] = bindparam("specification_id")
_IN_SPECIFICATION = col(TestStep.test_specification_id) == _ID


def _specification(criterion: ColumnElement[bool]) -> CompiledQuery[tuple[Any, ...]]:
    return CompiledQuery(select(*_SPECIFICATION.columns).where(criterion), tuple)


# Each statement selects its models' columns side by side, joined as the eager loaders
# join them (the relationships' conditions carry the composite (user_id, id) keys), in
# the order of the relationships' `order_by`.
_BY_ID = _specification(col(TestSpecification.id) == _ID)
_BY_KEY = _specification(col(TestSpecification.key) == bindparam("key"))
_STEPS = CompiledQuery(
    select(*_STEP.columns, *_COMMAND.columns)
    .outerjoin(TestStep.command)  # type: ignore[arg-type]
    .where(_IN_SPECIFICATION)
    .order_by(col(TestStep.position)),
    tuple,
)
_SIGNATURES = CompiledQuery(
    select(*_ENTRY.columns, *_PARAMETER.columns, *_VARIANT.columns)
    .join(GenericCommandParameter.parameter)  # type: ignore[arg-type]
    .outerjoin(Parameter.default_variant)  # type: ignore[arg-type]
    .where(
        col(GenericCommandParameter.command_id).in_(
            select(col(TestStep.command_id)).where(_IN_SPECIFICATION)
        )
    )
    .order_by(col(GenericCommandParameter.command_id), col(GenericCommandParameter.position)),
    tuple,
)
_ARGUMENTS = CompiledQuery(
    select(*_ARGUMENT.columns, *_VARIANT.columns)
    .join(TestStepArgument.step)  # type: ignore[arg-type]
    .outerjoin(TestStepArgument.variant)  # type: ignore[arg-type]
    .where(_IN_SPECIFICATION),
    tuple,
)
_LINKS = CompiledQuery(
    select(*_LINK.columns, *_REQUIREMENT.columns)
    .join(RequirementTestLink.requirement)  # type: ignore[arg-type]
    .where(col(RequirementTestLink.test_specification_id) == _ID),
    tuple,
)


def tracked_whole(
    session: Session, *, id: uuid.UUID | None = None, key: str | None = None
) -> TestSpecification | None:
    """The specification of this id (or key), tracked by `session`, with the graph
    `whole()` loads; None if the scope cannot see it, or where only the ORM's loader makes
    the graph as it would, or for an id that is not a UUID or a key not a string: the
    caller then asks the ORM, which knows."""
    if isinstance(key, str):
        found = _BY_KEY.all(session, key=key)
    elif isinstance(id, uuid.UUID):
        found = _BY_ID.all(session, specification_id=id)
    else:
        return None
    if not found:
        return None
    graph = Graph()
    specification = graph.add(_SPECIFICATION, found[0])
    bound = {"specification_id": found[0][_SPECIFICATION_ID]}
    steps = [graph.split(row, _STEP, _COMMAND) for row in _STEPS.all(session, **bound)]
    entries = [
        graph.split(row, _ENTRY, _PARAMETER, _VARIANT) for row in _SIGNATURES.all(session, **bound)
    ]
    arguments = [graph.split(row, _ARGUMENT, _VARIANT) for row in _ARGUMENTS.all(session, **bound)]
    links = [graph.split(row, _LINK, _REQUIREMENT) for row in _LINKS.all(session, **bound)]
    if not graph.load(session):
        return None

    # What each eager loader would set, object by object; children are found by their
    # owner's id (a loaded plain mapping holds every column in its `__dict__`).
    signatures: defaultdict[uuid.UUID, list[Any]] = defaultdict(list)
    for entry_handle, parameter_handle, variant_handle in entries:
        entry, parameter = graph.get(_ENTRY, entry_handle), graph.get(_PARAMETER, parameter_handle)
        signatures[vars(entry)["command_id"]].append(entry)
        set_committed_value(entry, "parameter", parameter)
        set_committed_value(parameter, "default_variant", graph.get(_VARIANT, variant_handle))
    for command in graph.all(_COMMAND):
        set_committed_value(command, "signature", signatures[vars(command)["id"]])

    given: defaultdict[uuid.UUID, list[Any]] = defaultdict(list)
    for argument_handle, variant_handle in arguments:
        argument = graph.get(_ARGUMENT, argument_handle)
        given[vars(argument)["test_step_id"]].append(argument)
        set_committed_value(argument, "variant", graph.get(_VARIANT, variant_handle))
    ordered = []
    for step_handle, command_handle in steps:
        step = graph.get(_STEP, step_handle)
        set_committed_value(step, "command", graph.get(_COMMAND, command_handle))
        set_committed_value(step, "arguments", given[vars(step)["id"]])
        ordered.append(step)

    requirement_links = []
    for link_handle, requirement_handle in links:
        link = graph.get(_LINK, link_handle)
        set_committed_value(link, "requirement", graph.get(_REQUIREMENT, requirement_handle))
        requirement_links.append(link)

    loaded: TestSpecification = graph.get(_SPECIFICATION, specification)
    set_committed_value(loaded, "steps", ordered)
    set_committed_value(loaded, "requirement_links", requirement_links)
    return loaded
