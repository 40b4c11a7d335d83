"""A whole specification loads in a fixed number of statements, and every argument resolves."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection

from tasktracker.db.errors import NotFoundError
from tasktracker.db.sessions import Database
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.repositories.whole import LOAD_STATEMENTS
from tasktracker.testspec.services.resolution import ValueSource, resolve_specification
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench, counted_statements


def _fill(db: Database, bench: Bench, steps: int) -> None:
    """`steps` steps cycling through literals, variants, defaults and commandless steps."""
    with db.user_scope(bench.user) as session:
        service = StepService(session)
        for index in range(steps):
            channel = {"parameter_id": bench.channel, "value": index % 4 + 1}
            if index % 4 == 3:
                data = {"action": f"look {index}"}
            elif index % 4 == 2:
                data = {"command_id": bench.measure, "arguments": [channel]}
            else:
                variant = bench.low if index % 2 else bench.nominal
                voltage = {"parameter_id": bench.voltage, "variant_id": variant}
                data = {"command_id": bench.set_voltage, "arguments": [channel, voltage]}
            service.insert(bench.spec, {"action": f"step {index}"} | data)
        TraceabilityService(session).link(bench.requirement, bench.spec)


def _queries(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def _load_counted(db: Database, bench: Bench) -> tuple[int, int]:
    with db.user_scope(bench.user) as session:
        connection = db.bind
        assert isinstance(connection, Connection)
        with counted_statements(connection) as statements:
            spec = TestSpecificationRepository(session).load(bench.spec)
            resolved = resolve_specification(spec)
            arguments = sum(len(step.arguments) for step in resolved.steps)
        return len(_queries(statements)), arguments


def test_a_50_step_specification_loads_in_a_constant_number_of_statements(
    db: Database, bench: Bench
) -> None:
    _fill(db, bench, 1)
    one, _ = _load_counted(db, bench)
    _fill(db, bench, 49)
    fifty, arguments = _load_counted(db, bench)
    assert one == fifty == LOAD_STATEMENTS == 5
    assert arguments > 50  # everything was really resolved, without further statements


def test_arguments_resolve_to_literal_variant_default_variant_or_default_value(
    db: Database, bench: Bench
) -> None:
    with db.user_scope(bench.user) as session:
        mode = ParameterRepository(session).create({"name": "mode", "default_value": "fast"})
        verbose = ParameterRepository(session).create({"name": "verbose", "data_type": "boolean"})
        run = GenericCommandRepository(session).create(
            {
                "name": "RUN",
                "syntax": "RUN {channel} {supply_voltage} {mode} {verbose}",
                "signature": [
                    {"parameter_id": bench.channel},
                    {"parameter_id": bench.voltage},
                    {"parameter_id": mode.id},
                    {"parameter_id": verbose.id, "is_required": False},
                ],
            }
        )
        steps = StepService(session)
        steps.insert(
            bench.spec,
            {
                "action": "defaults",
                "command_id": run.id,
                "arguments": [{"parameter_id": bench.channel, "value": 3}],
            },
        )
        steps.insert(
            bench.spec,
            {
                "action": "explicit",
                "command_id": run.id,
                "arguments": [
                    {"parameter_id": bench.channel, "value": "2"},
                    {"parameter_id": bench.voltage, "variant_id": bench.low},
                    {"parameter_id": mode.id, "value": "slow"},
                    {"parameter_id": verbose.id, "value": True},
                ],
            },
        )
    with db.user_scope(bench.user) as session:
        resolved = resolve_specification(TestSpecificationRepository(session).load(bench.spec))
    defaults, explicit = resolved.steps
    assert [(a.parameter, a.source, a.value) for a in defaults.arguments] == [
        ("channel", ValueSource.LITERAL, 3),
        ("supply_voltage", ValueSource.DEFAULT_VARIANT, 12.0),
        ("mode", ValueSource.DEFAULT_VALUE, "fast"),
        ("verbose", ValueSource.UNSET, None),
    ]
    assert defaults.arguments[1].variant == "nominal_12V"
    assert defaults.arguments[1].unit == "V"
    assert defaults.invocation == "RUN 3 12 fast {verbose}"
    assert [(a.source, a.value) for a in explicit.arguments] == [
        (ValueSource.LITERAL, 2),
        (ValueSource.VARIANT, 9.5),
        (ValueSource.LITERAL, "slow"),
        (ValueSource.LITERAL, True),
    ]
    assert explicit.invocation == "RUN 2 9.5 slow true"


def test_steps_without_a_command_or_syntax(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        steps.insert(bench.spec, {"action": "Look at the display", "expected_result": "Lit"})
        steps.insert(
            bench.spec,
            {
                "action": "Measure",
                "command_id": bench.measure,
                "arguments": [{"parameter_id": bench.channel, "value": 1}],
            },
        )
    with db.user_scope(bench.user) as session:
        look, measure = resolve_specification(
            TestSpecificationRepository(session).load_by_key("TS-001")
        ).steps
    assert (look.command, look.invocation, look.arguments) == (None, None, ())
    assert measure.invocation == "MEASURE_CURRENT channel=1 supply_voltage=12"


def test_loading_another_users_specification_finds_nothing(
    db: Database, bench: Bench, make_user
) -> None:
    with pytest.raises(NotFoundError), db.user_scope(make_user()) as session:
        TestSpecificationRepository(session).load(bench.spec)
    with pytest.raises(NotFoundError), db.user_scope(bench.user) as session:
        TestSpecificationRepository(session).load(uuid.uuid4())
