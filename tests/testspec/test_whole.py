"""A whole specification made from compiled statements (`repositories.whole`) is the graph
the ORM's eager loaders make: the same objects, values, loaded relationships and unloaded
ones, persistent and unmodified, on both backends; where the session already holds part of
it, the ORM makes it; what it returns can be changed and written like any loaded model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tasktracker.db.errors import NotFoundError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import TestSpecification, TestStep
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.repositories.whole import tracked_whole, whole
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench

# The relationships `whole()` loads, model by model; every other one stays unloaded.
_LOADED = {
    "TestSpecification": ("steps", "requirement_links"),
    "TestStep": ("command", "arguments"),
    "GenericCommand": ("signature",),
    "GenericCommandParameter": ("parameter",),
    "Parameter": ("default_variant",),
    "TestStepArgument": ("variant",),
    "RequirementTestLink": ("requirement",),
}
_UNORDERED = {"arguments", "requirement_links"}


def _steps(db: Database, bench: Bench) -> None:
    """Steps with literals, variants, defaults, a commandless one, a command shared by
    several steps, and a requirement link."""
    with db.user_scope(bench.user) as session:
        service = StepService(session)
        for index in range(6):
            channel = {"parameter_id": bench.channel, "value": index % 4 + 1}
            if index % 3 == 2:
                data: dict[str, Any] = {"action": f"look {index}"}
            elif index % 3 == 1:
                data = {"command_id": bench.measure, "arguments": [channel]}
            else:
                voltage = {"parameter_id": bench.voltage, "variant_id": bench.low}
                data = {"command_id": bench.set_voltage, "arguments": [channel, voltage]}
            service.insert(bench.spec, {"action": f"step {index}"} | data)
        TraceabilityService(session).link(bench.requirement, bench.spec)


def _identity(obj: Any) -> tuple[str, tuple[Any, ...]]:
    return type(obj).__name__, tuple(inspect(obj).identity)


def _shape(root: Any, session: Session) -> dict[tuple[str, tuple[Any, ...]], dict[str, Any]]:
    """Every object reachable through loaded relationships: its column values, which
    relationships are loaded, and the identities they hold."""
    shapes: dict[tuple[str, tuple[Any, ...]], dict[str, Any]] = {}

    def visit(obj: Any) -> Iterator[Any]:
        state = inspect(obj)
        assert state.persistent
        assert state.session is session
        assert not state.modified
        assert session.identity_map.get(state.key) is obj
        mapper = state.mapper
        loaded = {prop.key for prop in mapper.relationships if prop.key not in state.unloaded}
        assert loaded == set(_LOADED.get(type(obj).__name__, ())), type(obj).__name__
        columns = {key: state.dict[key] for key in (p.key for p in mapper.column_attrs)}
        related: dict[str, Any] = {}
        for key in sorted(loaded):
            value = state.dict[key]
            if isinstance(value, list):
                identities = [_identity(item) for item in value]
                related[key] = sorted(identities) if key in _UNORDERED else identities
                yield from value
            else:
                related[key] = None if value is None else _identity(value)
                if value is not None:
                    yield value
        shapes[_identity(obj)] = {"columns": columns, "related": related}

    pending = [root]
    while pending:
        obj = pending.pop()
        if _identity(obj) not in shapes:
            pending.extend(visit(obj))
    return shapes


def _through_orm(session: Session, id: uuid.UUID) -> TestSpecification:
    statement = select(TestSpecification).where(TestSpecification.id == id).options(*whole())
    return session.scalars(statement).one()


def test_the_compiled_graph_is_the_orm_s(db: Database, bench: Bench) -> None:
    _steps(db, bench)
    with db.user_scope(bench.user, read_only=True) as session:
        tracked = tracked_whole(session, id=bench.spec)
        assert tracked is not None
        compiled = _shape(tracked, session)
        assert len(session.identity_map) == len(compiled)
    with db.user_scope(bench.user, read_only=True) as session:
        orm = _shape(_through_orm(session, bench.spec), session)
    assert compiled == orm
    kinds = {kind for kind, _ in compiled}
    assert {"TestStep", "GenericCommand", "ParameterVariant", "Requirement"} <= kinds
    with db.user_scope(bench.user, read_only=True) as session:
        by_key = tracked_whole(session, key="TS-001")
        assert by_key is not None
        assert _shape(by_key, session) == orm


def test_a_specification_without_steps_or_links(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user, read_only=True) as session:
        tracked = tracked_whole(session, id=bench.spec)
        assert tracked is not None
        assert tracked.steps == []
        assert tracked.requirement_links == []
        compiled = _shape(tracked, session)
    with db.user_scope(bench.user, read_only=True) as session:
        assert compiled == _shape(_through_orm(session, bench.spec), session)


def test_a_held_object_leaves_it_to_the_orm(db: Database, bench: Bench) -> None:
    _steps(db, bench)
    with db.user_scope(bench.user) as session:
        step = session.scalars(select(TestStep).where(TestStep.position == 1)).one()
        step.action = "changed, not flushed"
        assert tracked_whole(session, id=bench.spec) is None
        loaded = TestSpecificationRepository(session).load(bench.spec)
        assert loaded.steps[0] is step
        assert step.action == "changed, not flushed"
        assert step.command is not None
        assert len(step.arguments) == 2


def test_the_graph_can_be_changed_and_written(db: Database, bench: Bench) -> None:
    _steps(db, bench)
    with db.user_scope(bench.user) as session:
        loaded = TestSpecificationRepository(session).load(bench.spec)
        loaded.title = "Power up, reworded"
        loaded.steps[0].action = "switch on"
        del loaded.steps[-1]
        session.flush()
    with db.user_scope(bench.user, read_only=True) as session:
        again = TestSpecificationRepository(session).load(bench.spec)
        assert again.title == "Power up, reworded"
        assert [s.action for s in again.steps][:1] == ["switch on"]
        assert len(again.steps) == 5


def test_another_user_s_or_a_missing_specification_is_not_found(
    db: Database, bench: Bench, make_user: Any
) -> None:
    with db.user_scope(make_user(), read_only=True) as session:
        assert tracked_whole(session, id=bench.spec) is None
        with pytest.raises(NotFoundError):
            TestSpecificationRepository(session).load(bench.spec)
        with pytest.raises(NotFoundError):
            TestSpecificationRepository(session).load_by_key("TS-001")
        with pytest.raises(NotFoundError):
            TestSpecificationRepository(session).load(uuid.uuid4())
