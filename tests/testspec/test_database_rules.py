"""The database itself refuses bad rows sent by plain SQL, wherever the spec puts a constraint:
CHECKs, unique keys (the partial one for default variants included), and the composite
foreign keys that keep every reference inside one user's workspace."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tasktracker.db.errors import ConflictError, IntegrityError, TaskTrackerError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench, build_bench, uid


def run(db: Database, backend: str, sql: str, **params: Any) -> None:
    values = {k: uid(v, backend) if isinstance(v, uuid.UUID) else v for k, v in params.items()}
    with db.session() as session:
        session.execute(text(sql), values)


@pytest.fixture
def step(db: Database, bench: Bench) -> uuid.UUID:
    with db.user_scope(bench.user) as session:
        return (
            StepService(session)
            .insert(
                bench.spec,
                {
                    "action": "set",
                    "command_id": bench.set_voltage,
                    "arguments": [{"parameter_id": bench.channel, "value": "1"}],
                },
            )
            .id
        )


REQUIREMENT = (
    "INSERT INTO requirements (user_id, id, key, title, statement{extra}) VALUES (:u, :i, {values})"
)

CHECKS = [
    (REQUIREMENT.format(extra="", values="'req-1', 't', 's'"), "key"),
    (REQUIREMENT.format(extra="", values="'REQ--1', 't', 's'"), "key"),
    (REQUIREMENT.format(extra="", values="'REQ-', 't', 's'"), "key"),
    (REQUIREMENT.format(extra="", values="'', 't', 's'"), "key"),
    (REQUIREMENT.format(extra="", values="'REQ-9', 't', '  '"), "statement"),
    (REQUIREMENT.format(extra=", kind", values="'REQ-9', 't', 's', 'wish'"), "kind"),
    (REQUIREMENT.format(extra=", revision", values="'REQ-9', 't', 's', 0"), "revision"),
    (REQUIREMENT.format(extra=", parent_id", values="'REQ-9', 't', 's', :i"), "parent_id"),
    (
        "INSERT INTO test_specifications (user_id, id, key, title) VALUES (:u, :i, 'ts-1', 't')",
        "key",
    ),
    (
        "INSERT INTO test_specifications (user_id, id, key, title, status) VALUES (:u, :i, 'TS-9', 't', 'done')",
        "status",
    ),
    ("INSERT INTO generic_commands (user_id, id, name) VALUES (:u, :i, 'set_voltage')", "name"),
    ("INSERT INTO generic_commands (user_id, id, name) VALUES (:u, :i, '9SET')", "name"),
    ("INSERT INTO parameters (user_id, id, name) VALUES (:u, :i, 'Supply')", "name"),
    (
        "INSERT INTO parameters (user_id, id, name, data_type) VALUES (:u, :i, 'p', 'decimal')",
        "data_type",
    ),
    (
        "INSERT INTO parameters (user_id, id, name, data_type, min_value, max_value) VALUES (:u, :i, 'p', 'float', 5, 1)",
        "max_value",
    ),
    ("INSERT INTO parameters (user_id, id, name, min_value) VALUES (:u, :i, 'p', 1)", "min_value"),
    ("INSERT INTO parameters (user_id, id, name, unit) VALUES (:u, :i, 'p', ' ')", "unit"),
    ("INSERT INTO command_categories (user_id, id, name) VALUES (:u, :i, '')", "name"),
    (
        "INSERT INTO parameter_variants (user_id, id, parameter_id, name, value) VALUES (:u, :i, :voltage, 'v', ' ')",
        "value",
    ),
    (
        "INSERT INTO test_steps (user_id, id, test_specification_id, position, action) VALUES (:u, :i, :spec, 0, 'a')",
        "position",
    ),
    (
        "INSERT INTO test_steps (user_id, id, test_specification_id, position, action) VALUES (:u, :i, :spec, 1, '')",
        "action",
    ),
    (
        "INSERT INTO generic_command_parameters (user_id, command_id, parameter_id, position) VALUES (:u, :measure, :low_param, 0)",
        "position",
    ),
    (
        "INSERT INTO requirement_test_links (user_id, requirement_id, test_specification_id, verified_revision) VALUES (:u, :req, :spec, 0)",
        "verified_revision",
    ),
    (
        "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, variant_id, value) VALUES (:u, :step, :voltage, :low, '9')",
        "value",
    ),
]


@pytest.mark.parametrize(("sql", "field"), CHECKS)
def test_checks(
    db: Database, bench: Bench, step: uuid.UUID, backend: str, sql: str, field: str
) -> None:
    with db.user_scope(bench.user) as session:
        spare = ParameterRepository(session).create({"name": "spare"}).id
    ids = {
        "u": bench.user,
        "i": new_id(),
        "voltage": bench.voltage,
        "spec": bench.spec,
        "measure": bench.measure,
        "low_param": spare,
        "req": bench.requirement,
        "step": step,
        "low": bench.low,
    }
    with pytest.raises(ValidationError) as caught:
        run(db, backend, sql, **{k: v for k, v in ids.items() if f":{k}" in sql})
    assert caught.value.fields == {field}


def test_unique_keys(db: Database, bench: Bench, step: uuid.UUID, backend: str) -> None:
    statements = [
        ("UPDATE parameter_variants SET is_default = true WHERE id = :low", {"low": bench.low}),
        (
            "INSERT INTO test_steps (user_id, id, test_specification_id, position, action) "
            "VALUES (:u, :i, :spec, 1, 'again')",
            {"u": bench.user, "i": new_id(), "spec": bench.spec},
        ),
        (
            "UPDATE generic_command_parameters SET position = 1 WHERE command_id = :c AND position = 2",
            {"c": bench.set_voltage},
        ),
        (
            "INSERT INTO requirements (user_id, id, key, title, statement) VALUES (:u, :i, 'REQ-001', 't', 's')",
            {"u": bench.user, "i": new_id()},
        ),
        (
            "INSERT INTO parameter_variants (user_id, id, parameter_id, name, value) "
            "VALUES (:u, :i, :p, 'low_battery', '9')",
            {"u": bench.user, "i": new_id(), "p": bench.voltage},
        ),
        (
            "INSERT INTO command_categories (user_id, id, name) VALUES (:u, :i, 'Power')",
            {"u": bench.user, "i": new_id()},
        ),
        (
            "INSERT INTO command_categories (user_id, id, name) VALUES (:u, :i, 'POWER')",
            {"u": bench.user, "i": new_id()},
        ),
    ]
    for index, (sql, params) in enumerate(statements):
        if index == len(statements) - 1:
            with pytest.raises(ConflictError):
                run(db, backend, sql, **params)
        elif index == len(statements) - 2:
            run(db, backend, sql, **params)  # the first 'Power' is fine
        else:
            with pytest.raises(ConflictError):
                run(db, backend, sql, **params)


def test_an_argument_naming_a_variant_of_another_parameter_is_refused(
    db: Database, bench: Bench, step: uuid.UUID, backend: str
) -> None:
    with db.user_scope(bench.user) as session:
        mode = ParameterRepository(session).create(
            {"name": "mode", "variants": [{"name": "fast", "value": "f"}]}
        )
    # The step binds channel; pointing its argument at a variant of `mode` breaks the
    # (user_id, parameter_id, variant_id) key.
    with pytest.raises(IntegrityError):
        run(
            db,
            backend,
            "UPDATE test_step_arguments SET value = NULL, variant_id = :v WHERE test_step_id = :s",
            v=mode.variants[0].id,
            s=step,
        )
    with pytest.raises(IntegrityError):
        run(
            db,
            backend,
            "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, variant_id) "
            "VALUES (:u, :s, :voltage, :fast)",
            u=bench.user,
            s=step,
            voltage=bench.voltage,
            fast=mode.variants[0].id,
        )
    run(  # the same row with a variant of supply_voltage itself is fine
        db,
        backend,
        "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, variant_id) "
        "VALUES (:u, :s, :voltage, :low)",
        u=bench.user,
        s=step,
        voltage=bench.voltage,
        low=bench.low,
    )


def test_references_to_another_users_rows_are_refused(
    db: Database, bench: Bench, step: uuid.UUID, backend: str, make_user
) -> None:
    """Bob's rows may not point at Alice's, through any foreign key."""
    alice = bench
    bob = build_bench(db, make_user())
    with db.user_scope(bob.user) as session:
        bobs_step = StepService(session).insert(bob.spec, {"action": "x"}).id
    b, n = bob.user, new_id
    statements = [
        (
            "INSERT INTO requirements (user_id, id, key, title, statement, parent_id) VALUES (:b, :i, 'R-X', 't', 's', :a)",
            {"a": alice.requirement},
        ),
        (
            "INSERT INTO requirement_test_links (user_id, requirement_id, test_specification_id) VALUES (:b, :a, :own)",
            {"a": alice.requirement, "own": bob.spec},
        ),
        (
            "INSERT INTO requirement_test_links (user_id, requirement_id, test_specification_id) VALUES (:b, :own, :a)",
            {"a": alice.spec, "own": bob.requirement},
        ),
        (
            "INSERT INTO test_steps (user_id, id, test_specification_id, position, action) VALUES (:b, :i, :a, 9, 'x')",
            {"a": alice.spec},
        ),
        (
            "INSERT INTO test_steps (user_id, id, test_specification_id, position, action, command_id) VALUES (:b, :i, :own, 9, 'x', :a)",
            {"a": alice.set_voltage, "own": bob.spec},
        ),
        (
            "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, value) VALUES (:b, :a, :own, '1')",
            {"a": step, "own": bob.channel},
        ),
        (
            "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, value) VALUES (:b, :own, :a, '1')",
            {"a": alice.channel, "own": bobs_step},
        ),
        (
            "INSERT INTO test_step_arguments (user_id, test_step_id, parameter_id, variant_id) VALUES (:b, :own, :p, :a)",
            {"a": alice.low, "own": bobs_step, "p": bob.voltage},
        ),
        (
            "INSERT INTO generic_command_parameters (user_id, command_id, parameter_id, position) VALUES (:b, :a, :own, 9)",
            {"a": alice.set_voltage, "own": bob.channel},
        ),
        (
            "INSERT INTO generic_command_parameters (user_id, command_id, parameter_id, position) VALUES (:b, :own, :a, 9)",
            {"a": alice.channel, "own": bob.measure},
        ),
        (
            "INSERT INTO parameter_variants (user_id, id, parameter_id, name, value) VALUES (:b, :i, :a, 'x', '1')",
            {"a": alice.voltage},
        ),
        (
            "UPDATE generic_commands SET category_id = (SELECT id FROM command_categories WHERE user_id = :a) WHERE user_id = :b",
            {"a": alice.user},
        ),
        (
            "UPDATE parameters SET category_id = (SELECT id FROM parameter_categories WHERE user_id = :a) WHERE user_id = :b",
            {"a": alice.user},
        ),
    ]
    with db.user_scope(alice.user) as session:
        from tasktracker.testspec.repositories.categories import (
            CommandCategoryRepository,
            ParameterCategoryRepository,
        )

        CommandCategoryRepository(session).create({"name": "Power"})
        ParameterCategoryRepository(session).create({"name": "Electrical"})
    for sql, params in statements:
        with pytest.raises(IntegrityError):
            run(db, backend, sql, b=b, i=n(), **params)


def test_no_error_leaks_a_driver_exception(db: Database, bench: Bench, backend: str) -> None:
    with pytest.raises(TaskTrackerError):
        run(
            db,
            backend,
            "INSERT INTO test_steps (user_id, id, test_specification_id, position, action) VALUES (:u, :i, :s, 1, NULL)",
            u=bench.user,
            i=new_id(),
            s=bench.spec,
        )
