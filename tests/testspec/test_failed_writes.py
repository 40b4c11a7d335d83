"""A test-engineering write the database refuses undoes only itself, whole.

Each service or repository write here is several statements (a step inserted with the
others renumbered, a command with its signature, a parameter with the syntaxes naming it):
when the database refuses one of them, none stays, the unit's earlier writes do, and the
next call in the same unit works. The refusals are the database's own: the checks before
the write are passed by a row deleted behind the session's back (a stale identity map),
or by step positions made inconsistent by plain SQL, so that a renumbering collides half
way through.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.accounts.models import User
from tasktracker.db import run
from tasktracker.db.errors import ConflictError, IntegrityError
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.testspec.models import (
    GenericCommand,
    Parameter,
    Requirement,
    RequirementTestLink,
    TestStep,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.usage import UsageQueries
from tasktracker.testspec.services.exchange import SpecificationExchange
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench, fill_bench, row_counts


def _order(session: Session, spec: uuid.UUID) -> list[tuple[int, str]]:
    rows = session.execute(
        select(TestStep.position, TestStep.action)
        .where(col(TestStep.test_specification_id) == spec)
        .order_by(col(TestStep.position))
    )
    return [(position, action) for position, action in rows]


def _deleted_behind_the_session(session: Session, model: Any, id: uuid.UUID) -> None:
    """Delete the row but leave the session's copy: the checks before a write still find it."""
    session.execute(
        delete(model).where(model.id == id).execution_options(synchronize_session=False)
    )


def _vanished_command(session: Session) -> GenericCommand:
    """A command deleted behind the session (hold it: the identity map keeps it only then)."""
    command = GenericCommandRepository(session).create({"name": "GONE"})
    _deleted_behind_the_session(session, GenericCommand, command.id)
    return command


def _stray_step(session: Session, spec: uuid.UUID, position: int) -> TestStep:
    """A step off the 1..n sequence, as plain SQL could leave one."""
    stray = TestStep(test_specification_id=spec, position=position, action="stray")
    session.add(stray)
    session.flush()
    return stray


def test_a_refused_step_insert_undoes_the_renumbering(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        steps.insert(bench.spec, {"action": "a"})
        steps.insert(bench.spec, {"action": "b"})
        gone = _vanished_command(session)
        with pytest.raises(IntegrityError):  # after the others moved down to make room
            steps.insert(bench.spec, {"action": "x", "position": 1, "command_id": gone.id})
        assert _order(session, bench.spec) == [(1, "a"), (2, "b")]
        steps.insert(bench.spec, {"action": "first", "position": 1})
    with db.user_scope(bench.user) as session:
        assert _order(session, bench.spec) == [(1, "first"), (2, "a"), (3, "b")]
    assert row_counts(db, bench.user)["test_steps"] == 3


def test_a_refused_step_update_keeps_its_arguments(db: Database, bench: Bench) -> None:
    """A new command clears the arguments: refused, they are all still there."""
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        step = steps.insert(
            bench.spec,
            {
                "action": "power",
                "command_id": bench.set_voltage,
                "arguments": [{"parameter_id": bench.channel, "value": "1"}],
            },
        )
        gone = _vanished_command(session)
        with pytest.raises(IntegrityError):
            steps.update(step.id, {"action": "changed", "command_id": gone.id})
        assert (step.action, step.command_id) == ("power", bench.set_voltage)
        steps.update(step.id, {"action": "renamed"})
    with db.user_scope(bench.user) as session:
        stored = session.get_one(TestStep, (bench.user, step.id))
        assert (stored.action, stored.command_id) == ("renamed", bench.set_voltage)
    assert row_counts(db, bench.user)["test_step_arguments"] == 1


def test_a_move_refused_half_way_leaves_every_step_in_place(db: Database, bench: Bench) -> None:
    """The moving step is parked, then the renumbering collides with the stray step."""
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        a = steps.insert(bench.spec, {"action": "a"})
        steps.insert(bench.spec, {"action": "b"})
        stray = _stray_step(session, bench.spec, 6)  # b moving away to 2 + 4 lands on it
        with pytest.raises(ConflictError):
            steps.move(a.id, 2)
        assert _order(session, bench.spec) == [(1, "a"), (2, "b"), (6, "stray")]
        assert a.position == 1
        steps.remove(stray.id)
        steps.move(a.id, 2)
    with db.user_scope(bench.user) as session:
        assert _order(session, bench.spec) == [(1, "b"), (2, "a")]


def test_a_remove_refused_half_way_keeps_the_step(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        a = steps.insert(
            bench.spec,
            {
                "action": "a",
                "command_id": bench.set_voltage,
                "arguments": [{"parameter_id": bench.channel, "value": "2"}],
            },
        )
        steps.insert(bench.spec, {"action": "b"})
        stray = _stray_step(session, bench.spec, 6)
        with pytest.raises(ConflictError):  # after the DELETE of `a`, b collides moving up
            steps.remove(a.id)
        assert _order(session, bench.spec) == [(1, "a"), (2, "b"), (6, "stray")]
        assert len(a.arguments) == 1
        steps.remove(stray.id)
        steps.remove(a.id)
    with db.user_scope(bench.user) as session:
        assert _order(session, bench.spec) == [(1, "b")]
    counts = row_counts(db, bench.user)
    assert (counts["test_steps"], counts["test_step_arguments"]) == (1, 0)


def test_a_refused_signature_undoes_the_whole_command_update(
    db: Database, bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new name is written, the old signature deleted, then the database refuses an
    entry of the new one (listed twice, as if a check had missed it): none of it stays."""
    real = GenericCommandRepository._signature_from
    monkeypatch.setattr(
        GenericCommandRepository, "_signature_from", lambda self, e: (s := real(self, e)) + s[:1]
    )
    reordered = [{"parameter_id": bench.voltage}, {"parameter_id": bench.channel}]
    with db.user_scope(bench.user) as session:
        commands = GenericCommandRepository(session)
        with pytest.raises(ConflictError):
            commands.update(bench.set_voltage, {"name": "SET_SUPPLY", "signature": reordered})
        assert commands.get(bench.set_voltage).name == "SET_VOLTAGE"
        names = [p.name for p, _ in commands.signature(bench.set_voltage)]
        assert names == ["channel", "supply_voltage"]
        monkeypatch.undo()
        commands.update(bench.set_voltage, {"name": "SET_SUPPLY", "signature": reordered})
    with db.user_scope(bench.user) as session:
        commands = GenericCommandRepository(session)
        assert commands.get(bench.set_voltage).name == "SET_SUPPLY"
        names = [p.name for p, _ in commands.signature(bench.set_voltage)]
        assert names == ["supply_voltage", "channel"]
    assert row_counts(db, bench.user)["generic_command_parameters"] == 4


def test_a_refused_rename_leaves_the_syntaxes_naming_the_parameter(
    db: Database, bench: Bench
) -> None:
    with db.user_scope(bench.user) as session:
        parameters = ParameterRepository(session)
        commands = GenericCommandRepository(session)
        with pytest.raises(ConflictError) as caught:
            parameters.update(bench.channel, {"name": "supply_voltage"})
        assert caught.value.field == "name"
        assert commands.get(bench.set_voltage).syntax == "SET_VOLTAGE {channel} {supply_voltage}"
        parameters.update(bench.channel, {"name": "output"})
    with db.user_scope(bench.user) as session:
        syntax = GenericCommandRepository(session).get(bench.set_voltage).syntax
        assert syntax == "SET_VOLTAGE {output} {supply_voltage}"
        names = session.scalars(select(Parameter.name).order_by(Parameter.name)).all()
        assert names == ["output", "supply_voltage"]


def test_a_delete_the_database_refuses_leaves_the_parameter(
    db: Database, bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when another unit starts using the parameter between the check and the DELETE."""
    monkeypatch.setattr(UsageQueries, "commands_using_parameter", lambda self, id: [])
    with db.user_scope(bench.user) as session:
        parameters = ParameterRepository(session)
        spare = parameters.create({"name": "spare", "data_type": "string"})
        with pytest.raises(IntegrityError):
            parameters.delete(bench.channel)  # in both signatures
        assert parameters.get(bench.channel).name == "channel"
        parameters.delete(spare.id)
    counts = row_counts(db, bench.user)
    assert (counts["parameters"], counts["generic_command_parameters"]) == (2, 4)


def test_a_refused_link_leaves_the_unit_usable(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        requirements = RequirementRepository(session)
        traceability = TraceabilityService(session)
        gone = requirements.create({"key": "REQ-GONE", "title": "t", "statement": "s"})
        _deleted_behind_the_session(session, Requirement, gone.id)
        with pytest.raises(IntegrityError):
            traceability.link(gone.id, bench.spec)
        traceability.link(bench.requirement, bench.spec)
    with db.user_scope(bench.user) as session:
        links = session.scalars(select(RequirementTestLink)).all()
        assert [link.requirement_id for link in links] == [bench.requirement]


def test_a_refused_import_can_be_followed_by_another(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    with db.user_scope(bench.user) as session:
        StepService(session).insert(bench.spec, {"action": "a"})
        exchange = SpecificationExchange(session)
        document = exchange.export(bench.spec).model_dump(mode="json")
    other = make_user()
    clashing = document | {"specification": document["specification"] | {"title": "other"}}
    with db.user_scope(other) as session:
        exchange = SpecificationExchange(session)
        exchange.import_document(document)
        with pytest.raises(ConflictError):  # same key, other content
            exchange.import_document(clashing)
        renamed = clashing | {"specification": clashing["specification"] | {"key": "TS-002"}}
        exchange.import_document(renamed)
    counts = row_counts(db, other)
    assert (counts["test_specifications"], counts["test_steps"]) == (2, 2)


async def test_async_callers_can_retry_a_refused_step(adb: AsyncDatabase) -> None:
    name = f"fw_{uuid.uuid4().hex[:8]}"
    async with adb.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    async with adb.user_scope(user.id) as session:
        bench = await run(session, fill_bench)
        await run(session, lambda s: StepService(s).insert(bench.spec, {"action": "a"}))
        gone = await run(session, _vanished_command)
        refused = {"action": "x", "position": 1, "command_id": gone.id}
        with pytest.raises(IntegrityError):
            await run(session, lambda s: StepService(s).insert(bench.spec, refused))
        first = {"action": "b", "position": 1}
        await run(session, lambda s: StepService(s).insert(bench.spec, first))
    async with adb.user_scope(user.id) as session:
        assert await run(session, lambda s: _order(s, bench.spec)) == [(1, "b"), (2, "a")]
        assert await session.scalar(select(func.count()).select_from(TestStep)) == 2
