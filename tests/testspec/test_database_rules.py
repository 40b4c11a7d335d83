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
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.services.steps import StepService
from tests import databases
from tests.testspec.conftest import Bench, build_bench, uid


def run(db: Database, backend: str, sql: str, **params: Any) -> None:
    values = {k: uid(v, backend) if isinstance(v, uuid.UUID) else v for k, v in params.items()}
    with db.session() as session:
        session.execute(text(sql), values)


def insert(db: Database, backend: str, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    run(db, backend, f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", **values)


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


REQ = {"key": "REQ-9", "title": "t", "statement": "s"}
STEP = {"position": 9, "action": "x"}
DEFAULT = "is_default = true"

# (table, columns; "$name" is an id from the bench, "$new" a fresh id), the field named
CHECKS: list[tuple[str, dict[str, Any], str]] = [
    ("requirements", REQ | {"key": "req-1"}, "key"),
    ("requirements", REQ | {"key": "REQ--1"}, "key"),
    ("requirements", REQ | {"key": "REQ-"}, "key"),
    ("requirements", REQ | {"key": ""}, "key"),
    ("requirements", REQ | {"statement": "  "}, "statement"),
    ("requirements", REQ | {"kind": "wish"}, "kind"),
    ("requirements", REQ | {"revision": 0}, "revision"),
    ("requirements", REQ | {"id": "$self", "parent_id": "$self"}, "parent_id"),
    ("test_specifications", {"key": "ts-1", "title": "t"}, "key"),
    ("test_specifications", {"key": "TS-9", "title": "t", "status": "done"}, "status"),
    ("generic_commands", {"name": "set_voltage"}, "name"),
    ("generic_commands", {"name": "9SET"}, "name"),
    ("parameters", {"name": "Supply"}, "name"),
    ("parameters", {"name": "p", "data_type": "decimal"}, "data_type"),
    (
        "parameters",
        {"name": "p", "data_type": "float", "min_value": 5, "max_value": 1},
        "max_value",
    ),
    ("parameters", {"name": "p", "min_value": 1}, "min_value"),
    ("parameters", {"name": "p", "unit": " "}, "unit"),
    ("command_categories", {"name": ""}, "name"),
    ("parameter_variants", {"parameter_id": "$voltage", "name": "v", "value": " "}, "value"),
    ("test_steps", {"test_specification_id": "$spec", "position": 0, "action": "a"}, "position"),
    ("test_steps", {"test_specification_id": "$spec", "position": 1, "action": ""}, "action"),
    (
        "generic_command_parameters",
        {"command_id": "$measure", "parameter_id": "$spare", "position": 0},
        "position",
    ),
    (
        "requirement_test_links",
        {
            "requirement_id": "$requirement",
            "test_specification_id": "$spec",
            "verified_revision": 0,
        },
        "verified_revision",
    ),
    (
        "test_step_arguments",
        {"test_step_id": "$step", "parameter_id": "$voltage", "variant_id": "$low", "value": "9"},
        "value",
    ),
]
WITHOUT_ID = {"generic_command_parameters", "requirement_test_links", "test_step_arguments"}


@pytest.mark.parametrize(("table", "columns", "field"), CHECKS)
def test_checks(
    db: Database,
    bench: Bench,
    step: uuid.UUID,
    backend: str,
    table: str,
    columns: dict[str, Any],
    field: str,
) -> None:
    with db.user_scope(bench.user) as session:
        spare = ParameterRepository(session).create({"name": "spare"}).id
    ids = vars(bench) | {"step": step, "spare": spare, "self": new_id()}
    values = {"user_id": bench.user} | ({} if table in WITHOUT_ID else {"id": new_id()})
    for name, value in columns.items():
        is_ref = isinstance(value, str) and value.startswith("$")
        values[name] = ids[value[1:]] if is_ref else value
    with pytest.raises(ValidationError) as caught:
        insert(db, backend, table, **values)
    assert caught.value.fields == {field}


def test_unique_keys(db: Database, bench: Bench, step: uuid.UUID, backend: str) -> None:
    user = {"user_id": bench.user}
    refused = [
        lambda: run(
            db, backend, f"UPDATE parameter_variants SET {DEFAULT} WHERE id = :v", v=bench.low
        ),
        lambda: insert(
            db,
            backend,
            "test_steps",
            **user,
            id=new_id(),
            test_specification_id=bench.spec,
            position=1,
            action="again",
        ),
        lambda: run(
            db,
            backend,
            "UPDATE generic_command_parameters SET position = 1 "
            "WHERE command_id = :c AND position = 2",
            c=bench.set_voltage,
        ),
        lambda: insert(
            db, backend, "requirements", **user, id=new_id(), **REQ | {"key": "REQ-001"}
        ),
        lambda: insert(db, backend, "generic_commands", **user, id=new_id(), name="SET_VOLTAGE"),
        lambda: insert(
            db,
            backend,
            "parameter_variants",
            **user,
            id=new_id(),
            parameter_id=bench.voltage,
            name="low_battery",
            value="9",
        ),
    ]
    for statement in refused:
        with pytest.raises(ConflictError):
            statement()
    insert(db, backend, "command_categories", **user, id=new_id(), name="Power")
    with pytest.raises(ConflictError):  # names are unique regardless of case
        insert(db, backend, "command_categories", **user, id=new_id(), name="POWER")


def test_an_argument_naming_a_variant_of_another_parameter_is_refused(
    db: Database, bench: Bench, step: uuid.UUID, backend: str
) -> None:
    with db.user_scope(bench.user) as session:
        mode = ParameterRepository(session).create(
            {"name": "mode", "variants": [{"name": "fast", "value": "f"}]}
        )
    fast = mode.variants[0].id
    # The step binds channel: pointing that argument at a variant of `mode` breaks the
    # (user_id, parameter_id, variant_id) key.
    with pytest.raises(IntegrityError):
        run(
            db,
            backend,
            "UPDATE test_step_arguments SET value = NULL, variant_id = :v WHERE test_step_id = :s",
            v=fast,
            s=step,
        )
    argument = {"user_id": bench.user, "test_step_id": step, "parameter_id": bench.voltage}
    with pytest.raises(IntegrityError):
        insert(db, backend, "test_step_arguments", **argument, variant_id=fast)
    insert(db, backend, "test_step_arguments", **argument, variant_id=bench.low)  # its own: fine


def test_references_to_another_users_rows_are_refused(
    db: Database, bench: Bench, step: uuid.UUID, backend: str, make_user
) -> None:
    """Bob's rows may not point at Alice's, through any foreign key."""
    alice = bench
    bob = build_bench(db, make_user())
    with db.user_scope(bob.user) as session:
        bobs_step = StepService(session).insert(bob.spec, {"action": "x"}).id
    with db.user_scope(alice.user) as session:
        CommandCategoryRepository(session).create({"name": "Power"})
        ParameterCategoryRepository(session).create({"name": "Electrical"})
    bobs = {"user_id": bob.user}
    link = "requirement_test_links"
    arguments = "test_step_arguments"
    signature = "generic_command_parameters"
    rows: list[tuple[str, dict[str, Any]]] = [
        ("requirements", REQ | {"id": new_id(), "parent_id": alice.requirement}),
        (link, {"requirement_id": alice.requirement, "test_specification_id": bob.spec}),
        (link, {"requirement_id": bob.requirement, "test_specification_id": alice.spec}),
        ("test_steps", STEP | {"id": new_id(), "test_specification_id": alice.spec}),
        (
            "test_steps",
            STEP
            | {"id": new_id(), "test_specification_id": bob.spec, "command_id": alice.set_voltage},
        ),
        (arguments, {"test_step_id": step, "parameter_id": bob.channel, "value": "1"}),
        (arguments, {"test_step_id": bobs_step, "parameter_id": alice.channel, "value": "1"}),
        (
            arguments,
            {"test_step_id": bobs_step, "parameter_id": bob.voltage, "variant_id": alice.low},
        ),
        (signature, {"command_id": alice.set_voltage, "parameter_id": bob.channel, "position": 9}),
        (signature, {"command_id": bob.measure, "parameter_id": alice.channel, "position": 9}),
        (
            "parameter_variants",
            {"id": new_id(), "parameter_id": alice.voltage, "name": "x", "value": "v"},
        ),
    ]
    for table, values in rows:
        with pytest.raises(IntegrityError):
            insert(db, backend, table, **bobs, **values)
    # On Citus, when Alice's and Bob's rows are on different shards, Citus refuses the UPDATE
    # below before the foreign key can ("router planner does not support queries that
    # reference non-colocated distributed tables"): refused all the same, not as a key.
    refused = TaskTrackerError if databases.CITUS and backend == "postgresql" else IntegrityError
    for table, categories in (
        ("generic_commands", "command_categories"),
        ("parameters", "parameter_categories"),
    ):
        with pytest.raises(refused):
            run(
                db,
                backend,
                f"UPDATE {table} SET category_id = "
                f"(SELECT id FROM {categories} WHERE user_id = :a) WHERE user_id = :b",
                a=alice.user,
                b=bob.user,
            )


def test_no_error_leaks_a_driver_exception(db: Database, bench: Bench, backend: str) -> None:
    with pytest.raises(TaskTrackerError):
        insert(
            db,
            backend,
            "test_steps",
            user_id=bench.user,
            id=new_id(),
            test_specification_id=bench.spec,
            position=1,
            action=None,
        )
