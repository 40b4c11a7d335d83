"""The user import applies the test-engineering rules the services apply: a document
exported from a valid workspace, changed to break exactly one rule, is refused with the
row named, and nothing is written (counted with plain SQL)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tasktracker.admin import catalog
from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.seeding.demo import ADA, seed_demo
from tasktracker.transfer.service import export_user, import_user
from tests.testspec.conftest import uid
from tests.transfer.test_roundtrip import canonical

Tables = dict[str, list[dict[str, Any]]]


@pytest.fixture
def document(db: Database, password_hash: str) -> dict[str, Any]:
    """Ada's demo workspace (steps with literals, variants and defaults), exported."""
    assert isinstance(db.bind, Connection)
    demo = seed_demo(db.bind, password_hash=password_hash)
    return copy.deepcopy(export_user(db, demo.user_ids[ADA.email]))


def stored_rows(db: Database, user: uuid.UUID, backend: str) -> int:
    """The rows `user` has in every tenant table, counted by plain SQL."""
    assert isinstance(db.bind, Connection)
    return sum(
        db.bind.scalar(
            text(f"SELECT count(*) FROM {table.name} WHERE user_id = :user"),
            {"user": uid(user, backend)},
        )
        or 0
        for table in catalog.tenant_tables()
    )


def _one(rows: list[dict[str, Any]], **match: Any) -> int:
    """The index of the only row with these values."""
    found = [i for i, row in enumerate(rows) if match.items() <= row.items()]
    assert len(found) == 1, (match, found)
    return found[0]


def _named(tables: Tables, table: str, name: str) -> dict[str, Any]:
    return tables[table][_one(tables[table], name=name)]


def _argument(tables: Tables, action: str, parameter: str) -> int:
    """The index of the argument row binding `parameter` in the step doing `action`."""
    step = tables["test_steps"][_one(tables["test_steps"], action=action)]
    return _one(
        tables["test_step_arguments"],
        test_step_id=step["id"],
        parameter_id=_named(tables, "parameters", parameter)["id"],
    )


def _first_step(tables: Tables, action: str) -> int:
    return next(i for i, row in enumerate(tables["test_steps"]) if row["action"] == action)


def _unparsable_literal(tables: Tables) -> tuple[str, str]:
    index = _argument(tables, "Let the unit settle", "duration_ms")
    tables["test_step_arguments"][index]["value"] = "2 s"
    return f"tables.test_step_arguments[{index}].value", "duration_ms: '2 s' is not an integer"


def _literal_out_of_range(tables: Tables) -> tuple[str, str]:
    index = _argument(tables, "Drop the supply to low battery", "channel")
    tables["test_step_arguments"][index]["value"] = "9"
    return f"tables.test_step_arguments[{index}].value", "channel: 9 is above the maximum 4"


def _parameter_not_in_signature(tables: Tables) -> tuple[str, str]:
    index = _argument(tables, "Let the unit settle", "duration_ms")
    tables["test_step_arguments"][index]["parameter_id"] = _named(tables, "parameters", "channel")[
        "id"
    ]
    tables["test_step_arguments"][index]["value"] = "1"
    return f"tables.test_step_arguments[{index}].parameter_id", "is not a parameter of WAIT"


def _required_parameter_without_value(tables: Tables) -> tuple[str, str]:
    _named(tables, "parameters", "duration_ms")["default_value"] = None
    index = _first_step(tables, "Wait for idle")  # binds nothing: relied on the default
    return (
        f"tables.test_steps[{index}].command_id",
        "required parameter duration_ms of WAIT needs a value or a variant (it has no default)",
    )


def _arguments_of_a_step_without_command(tables: Tables) -> tuple[str, str]:
    step = tables["test_steps"][_first_step(tables, "Let the unit settle")]
    step["command_id"] = None
    index = tables["test_steps"].index(step)
    return f"tables.test_steps[{index}].command_id", "a step without a command takes no arguments"


def _step_position_gap(tables: Tables) -> tuple[str, str]:
    index = _first_step(tables, "Raise the supply to overvoltage")  # the last of four
    tables["test_steps"][index]["position"] = 5
    return f"tables.test_steps[{index}].position", "must be between 1 and 4"


def _signature_position_gap(tables: Tables) -> tuple[str, str]:
    command = _named(tables, "generic_commands", "SET_VOLTAGE")
    entries = tables["generic_command_parameters"]
    index = _one(entries, command_id=command["id"], position=2)
    entries[index]["position"] = 3
    return f"tables.generic_command_parameters[{index}].position", "must be between 1 and 2"


def _syntax_outside_signature(tables: Tables) -> tuple[str, str]:
    index = _one(tables["generic_commands"], name="WAIT")
    tables["generic_commands"][index]["syntax"] = "WAIT {duration_ms} {channel}"
    return f"tables.generic_commands[{index}].syntax", "{channel} not in the command's signature"


def _variant_out_of_range(tables: Tables) -> tuple[str, str]:
    index = _one(tables["parameter_variants"], name="overvoltage")
    tables["parameter_variants"][index]["value"] = "31"
    return (
        f"tables.parameter_variants[{index}].value",
        "supply_voltage: 31 is above the maximum 30",
    )


@pytest.mark.parametrize(
    "mangle",
    [
        _unparsable_literal,
        _literal_out_of_range,
        _parameter_not_in_signature,
        _required_parameter_without_value,
        _arguments_of_a_step_without_command,
        _step_position_gap,
        _signature_position_gap,
        _syntax_outside_signature,
        _variant_out_of_range,
    ],
)
def test_a_row_breaking_a_rule_is_refused_by_its_place(
    db: Database,
    document: dict[str, Any],
    make_user: Callable[[], uuid.UUID],
    backend: str,
    mangle: Callable[[Tables], tuple[str, str]],
) -> None:
    field, message = mangle(document["tables"])
    target = make_user()
    with pytest.raises(ValidationError) as caught:
        import_user(db, target, document)
    assert [(e.field, e.message) for e in caught.value.errors] == [(field, message)]
    assert stored_rows(db, target, backend) == 0


def test_every_broken_row_is_named_at_once(
    db: Database, document: dict[str, Any], make_user: Callable[[], uuid.UUID], backend: str
) -> None:
    tables = document["tables"]
    expected = {
        _variant_out_of_range(tables)[0],
        _literal_out_of_range(tables)[0],
        _step_position_gap(tables)[0],
    }
    target = make_user()
    with pytest.raises(ValidationError) as caught:
        import_user(db, target, document)
    assert caught.value.fields == expected
    assert stored_rows(db, target, backend) == 0


def test_the_valid_demo_still_round_trips(
    db: Database, document: dict[str, Any], make_user: Callable[[], uuid.UUID], backend: str
) -> None:
    target = make_user()
    counts = import_user(db, target, document)
    assert counts["test_step_arguments"] == len(document["tables"]["test_step_arguments"]) > 0
    assert canonical(export_user(db, target)) == canonical(document)
    assert stored_rows(db, target, backend) == sum(counts.values())
