"""`read_resolved` (compiled statements, read rows) resolves a specification exactly as
`resolve_specification(load(id))` does, in a fixed number of statements, in the scope only."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.db.types import new_id
from tasktracker.testspec.enums import DataType
from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.resolution import (
    READ_RESOLVED_STATEMENTS,
    ResolvedSpecification,
    ValueSource,
    resolve_specification,
)
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench, counted_statements, fill_bench

# --- helpers ---------------------------------------------------------------------------


def orm_resolved(session: Session, specification_id: uuid.UUID) -> ResolvedSpecification:
    return resolve_specification(TestSpecificationRepository(session).load(specification_id))


def fast_resolved(session: Session, specification_id: uuid.UUID) -> ResolvedSpecification:
    return TestSpecificationRepository(session).read_resolved(specification_id)


def assert_same(fast: ResolvedSpecification, orm: ResolvedSpecification) -> None:
    """Equal field by field, in what is derived from the fields, and in the types."""
    assert fast == orm
    assert (type(fast.id), type(fast.key), type(fast.title)) == (uuid.UUID, str, str)
    assert len(fast.steps) == len(orm.steps)
    for step, expected in zip(fast.steps, orm.steps, strict=True):
        assert step == expected
        assert step.invocation == expected.invocation
        assert [a.value for a in step.arguments] == [a.value for a in expected.arguments]
        assert type(step.id) is uuid.UUID
        assert type(step.position) is int
        assert type(step.continue_on_failure) is bool
        for argument in step.arguments:
            assert type(argument.data_type) is DataType
            assert type(argument.source) is ValueSource


def resolved_both_ways(
    db: Database, user: uuid.UUID, specification_id: uuid.UUID
) -> ResolvedSpecification:
    """The fast path's result (read-only unit), after checking it against the ORM path's."""
    with db.user_scope(user, read_only=True) as session:
        fast = fast_resolved(session, specification_id)
    with db.user_scope(user) as session:
        orm = orm_resolved(session, specification_id)
    assert_same(fast, orm)
    return fast


def fill_every_case(session: Session, bench: Bench) -> None:
    """Steps covering every source of a value, commands with and without syntax or
    signature, commandless steps and commands used by several steps."""
    parameters = ParameterRepository(session)
    mode = parameters.create({"name": "mode", "default_value": "fast"})
    verbose = parameters.create({"name": "verbose", "data_type": "boolean"})
    gain = parameters.create(
        {
            "name": "gain",
            "data_type": "integer",
            "default_value": "1",  # never used: the default variant comes first
            "variants": [{"name": "x10", "value": "10", "is_default": True}],
        }
    )
    commands = GenericCommandRepository(session)
    run_command = commands.create(
        {
            "name": "RUN",
            "syntax": "RUN {mode} {channel} {supply_voltage} {verbose}",
            "signature": [
                {"parameter_id": mode.id},
                {"parameter_id": bench.channel},
                {"parameter_id": bench.voltage},
                {"parameter_id": verbose.id, "is_required": False},
                {"parameter_id": gain.id},
            ],
        }
    )
    reset = commands.create({"name": "RESET"})  # no syntax, no signature
    steps = StepService(session)
    for data in (
        {"action": "Look", "expected_result": "Lit", "continue_on_failure": True},
        {
            "action": "step variant",
            "command_id": bench.set_voltage,
            "arguments": [
                {"parameter_id": bench.channel, "value": 1},
                {"parameter_id": bench.voltage, "variant_id": bench.low},
            ],
        },
        {
            "action": "default variant",
            "command_id": bench.set_voltage,
            "arguments": [{"parameter_id": bench.channel, "value": 2}],
        },
        {
            "action": "no syntax, optional parameter by its default variant",
            "command_id": bench.measure,
            "arguments": [{"parameter_id": bench.channel, "value": 3}],
        },
        {
            "action": "defaults; an argument with neither value nor variant",
            "command_id": run_command.id,
            "arguments": [
                {"parameter_id": bench.channel, "value": 4},
                {"parameter_id": mode.id},
            ],
        },
        {
            "action": "literals everywhere",
            "command_id": run_command.id,
            "arguments": [
                {"parameter_id": bench.channel, "value": "2"},
                {"parameter_id": bench.voltage, "value": "5.5"},
                {"parameter_id": mode.id, "value": "slow"},
                {"parameter_id": verbose.id, "value": True},
                {"parameter_id": gain.id, "value": 3},
            ],
        },
        {"action": "reset", "command_id": reset.id},
        {"action": "Look again"},
    ):
        steps.insert(bench.spec, data)


def fill_cycling(db: Database, bench: Bench, steps: int) -> None:
    """`steps` more steps cycling through literals, variants, defaults, commandless steps."""
    with db.user_scope(bench.user) as session:
        service = StepService(session)
        for index in range(steps):
            channel = {"parameter_id": bench.channel, "value": index % 4 + 1}
            if index % 4 == 3:
                data: dict[str, Any] = {"action": f"look {index}"}
            elif index % 4 == 2:
                data = {"command_id": bench.measure, "arguments": [channel]}
            else:
                variant = bench.low if index % 2 else bench.nominal
                voltage = {"parameter_id": bench.voltage, "variant_id": variant}
                data = {"command_id": bench.set_voltage, "arguments": [channel, voltage]}
            service.insert(bench.spec, {"action": f"step {index}"} | data)


# --- the same result as the ORM path ---------------------------------------------------


def test_every_kind_of_step_and_value_resolves_as_the_orm_path(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        fill_every_case(session, bench)
    resolved = resolved_both_ways(db, bench.user, bench.spec)
    assert [(step.position, step.invocation) for step in resolved.steps] == [
        (1, None),
        (2, "SET_VOLTAGE 1 9.5"),
        (3, "SET_VOLTAGE 2 12"),
        (4, "MEASURE_CURRENT channel=3 supply_voltage=12"),
        (5, "RUN fast 4 12 {verbose}"),
        (6, "RUN slow 2 5.5 true"),
        (7, "RESET"),
        (8, None),
    ]
    look, variant, default, measure, defaults, literals, reset, _ = resolved.steps
    assert (look.command, look.arguments, look.expected_result) == (None, (), "Lit")
    assert look.continue_on_failure is True
    assert [(a.source, a.variant) for a in variant.arguments] == [
        (ValueSource.LITERAL, None),
        (ValueSource.VARIANT, "low_battery"),
    ]
    assert default.arguments[1].source == ValueSource.DEFAULT_VARIANT
    assert (measure.syntax, measure.arguments[1].unit) == (None, "V")
    assert [(a.parameter, a.source, a.value) for a in defaults.arguments] == [
        ("mode", ValueSource.DEFAULT_VALUE, "fast"),
        ("channel", ValueSource.LITERAL, 4),
        ("supply_voltage", ValueSource.DEFAULT_VARIANT, 12.0),
        ("verbose", ValueSource.UNSET, None),
        ("gain", ValueSource.DEFAULT_VARIANT, 10),
    ]
    assert {a.source for a in literals.arguments} == {ValueSource.LITERAL}
    assert (reset.command, reset.syntax, reset.arguments) == ("RESET", None, ())
    assert {a.source for step in resolved.steps for a in step.arguments} == set(ValueSource)


def test_an_empty_specification(db: Database, bench: Bench) -> None:
    resolved = resolved_both_ways(db, bench.user, bench.spec)
    assert (resolved.key, resolved.title, resolved.steps) == ("TS-001", "Power up", ())


def test_a_long_specification_and_its_changes(db: Database, bench: Bench) -> None:
    fill_cycling(db, bench, 50)
    resolved_both_ways(db, bench.user, bench.spec)
    with db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"unit": "mV"})
        steps = StepService(session)
        steps.move(steps.steps(bench.spec)[6].id, 1)
    resolved = resolved_both_ways(db, bench.user, bench.spec)
    assert len(resolved.steps) == 50
    assert [step.action for step in resolved.steps[:2]] == ["step 6", "step 0"]
    assert {a.unit for step in resolved.steps for a in step.arguments} == {None, "mV"}


def test_the_units_own_writes_are_seen(db: Database, bench: Bench) -> None:
    """In a unit that writes, the statements run in its transaction after a flush."""
    with db.user_scope(bench.user) as session:
        StepService(session).insert(bench.spec, {"action": "just added"})
        session.get_one(TestSpecification, (bench.user, bench.spec)).title = "Renamed"
        resolved = fast_resolved(session, bench.spec)
        assert_same(resolved, orm_resolved(session, bench.spec))
    assert (resolved.title, [step.action for step in resolved.steps]) == (
        "Renamed",
        ["just added"],
    )


# --- a fixed number of statements ------------------------------------------------------


def _selects(db: Database, user: uuid.UUID, specification_id: uuid.UUID) -> list[str]:
    connection = db.bind
    assert isinstance(connection, Connection)
    with (
        db.user_scope(user, read_only=True) as session,
        counted_statements(connection) as sent,
        contextlib.suppress(NotFoundError),
    ):
        fast_resolved(session, specification_id)
    return [s for s in sent if s.lstrip().upper().startswith("SELECT")]


def test_the_number_of_statements_is_fixed(db: Database, bench: Bench) -> None:
    counts = [len(_selects(db, bench.user, bench.spec))]
    fill_cycling(db, bench, 1)
    counts.append(len(_selects(db, bench.user, bench.spec)))
    fill_cycling(db, bench, 49)
    counts.append(len(_selects(db, bench.user, bench.spec)))
    assert counts == [READ_RESOLVED_STATEMENTS] * 3 == [4, 4, 4]
    assert len(_selects(db, bench.user, new_id())) == 1  # not found: nothing more is read


# --- isolation -------------------------------------------------------------------------


def test_another_users_specification_is_not_found(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    fill_cycling(db, bench, 4)
    other = make_user()
    with db.user_scope(other) as session:
        own = fill_bench(session)
    for user, specification_id in (
        (other, bench.spec),
        (bench.user, own.spec),
        (bench.user, new_id()),
        (bench.user, uuid.UUID(int=0)),
    ):
        with pytest.raises(NotFoundError), db.user_scope(user, read_only=True) as session:
            fast_resolved(session, specification_id)


@pytest.mark.parametrize("bad_id", ["1 OR 1=1", 42, None])
def test_an_id_that_is_not_a_uuid_is_refused(db: Database, bench: Bench, bad_id: object) -> None:
    with pytest.raises(ValidationError), db.user_scope(bench.user, read_only=True) as session:
        fast_resolved(session, bad_id)  # type: ignore[arg-type]


_COPIED = (
    Parameter,
    ParameterVariant,
    GenericCommand,
    GenericCommandParameter,
    TestSpecification,
    TestStep,
    TestStepArgument,
)


def _another_literal(value: str | None) -> str | None:
    """A different literal, as valid as `value` for integers 1..4, floats 0..30, texts and
    booleans."""
    flipped = {"true": "false", "false": "true", "3": "4"}
    return None if value is None else flipped.get(value, "3")


def _copy_with_the_same_ids(db: Database, source: uuid.UUID, target: uuid.UUID) -> None:
    """Every row of `source`'s specification tree written again for `target`, under the
    very same ids (ids are unique per user only), with different texts and values."""
    rows: dict[type[Any], list[dict[str, Any]]] = {}
    with db.user_scope(source, read_only=True) as session:
        for model in _COPIED:
            columns = [c.key for c in inspect(model).column_attrs if c.key != "user_id"]
            rows[model] = [
                {name: getattr(obj, name) for name in columns}
                for obj in session.scalars(select(model))
            ]
    changes: dict[type[Any], dict[str, Any]] = {
        Parameter: {"unit": lambda v: v and "m" + v},
        ParameterVariant: {"name": lambda v: "theirs_" + v},
        GenericCommand: {"syntax": lambda v: None},
        TestSpecification: {"title": lambda v: "Their copy"},
        TestStep: {"action": lambda v: "theirs: " + v},
        TestStepArgument: {"value": _another_literal},
    }
    with db.user_scope(target) as session:
        for model in _COPIED:
            for row in rows[model]:
                for name, change in changes.get(model, {}).items():
                    row[name] = change(row[name])
            if rows[model]:
                session.execute(insert(model), rows[model])


def test_the_same_ids_in_two_scopes_never_mix(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    with db.user_scope(bench.user) as session:
        fill_every_case(session, bench)
    fill_cycling(db, bench, 8)
    other = make_user()
    _copy_with_the_same_ids(db, bench.user, other)
    mine = resolved_both_ways(db, bench.user, bench.spec)
    theirs = resolved_both_ways(db, other, bench.spec)
    assert [step.id for step in theirs.steps] == [step.id for step in mine.steps]
    assert theirs.title == "Their copy"
    assert all(step.action.startswith("theirs: ") for step in theirs.steps)
    assert not any(step.action.startswith("theirs") for step in mine.steps)
    for their_step, my_step in zip(theirs.steps, mine.steps, strict=True):
        assert their_step.syntax is None
        assert len(their_step.arguments) == len(my_step.arguments)  # no join doubled a row
        for their, my in zip(their_step.arguments, my_step.arguments, strict=True):
            assert their.parameter == my.parameter
            assert their.variant is None or their.variant.startswith("theirs_")
            assert my.variant is None or not my.variant.startswith("theirs")
            assert my.unit in (None, "V")
            assert their.unit in (None, "mV")
            if my.source == ValueSource.LITERAL:
                assert their.text != my.text


# --- async -----------------------------------------------------------------------------


async def test_async_read_resolved(adb: AsyncDatabase, password_hash: str) -> None:
    async with adb.session() as session:
        user = User(email="spec@example.com", username="spec_async", password_hash=password_hash)
        session.add(user)
        await session.flush()

    def fill(sync_session: Session) -> Bench:
        bench = fill_bench(sync_session)
        fill_every_case(sync_session, bench)
        return bench

    async with adb.user_scope(user.id) as session:
        bench = await run(session, fill)
    async with adb.user_scope(user.id, read_only=True) as session:
        fast = await run(session, fast_resolved, bench.spec)
        orm = await run(session, orm_resolved, bench.spec)
        with pytest.raises(NotFoundError):
            await run(session, fast_resolved, new_id())
    assert_same(fast, orm)
    assert len(fast.steps) == 8
