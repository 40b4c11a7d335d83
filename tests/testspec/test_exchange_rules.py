"""The specification import applies every rule of the services (it writes through them):
an exported document changed to break exactly one rule is refused with its place in the
document named, and nothing is written (counted with plain SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.services.exchange import SpecificationExchange
from tests.testspec.conftest import Bench
from tests.testspec.test_exchange import _export, _rich_specification
from tests.transfer.test_rules import stored_rows

Document = dict[str, Any]


def _unparsable_literal(d: Document) -> tuple[str, str]:
    d["steps"][3]["arguments"][0]["value"] = "four"
    return "steps[3].arguments[0].value", "channel: 'four' is not an integer"


def _literal_out_of_range(d: Document) -> tuple[str, str]:
    d["steps"][3]["arguments"][0]["value"] = "9"
    return "steps[3].arguments[0].value", "channel: 9 is above the maximum 4"


def _parameter_not_in_signature(d: Document) -> tuple[str, str]:
    d["parameters"].append({"name": "mode"})
    d["steps"][3]["arguments"].append({"parameter": "mode", "value": "fast"})
    return "steps[3].arguments[1].parameter", "is not a parameter of MEASURE_CURRENT"


def _required_parameter_without_value(d: Document) -> tuple[str, str]:
    d["steps"][0]["arguments"] = [
        a for a in d["steps"][0]["arguments"] if a["parameter"] != "channel"
    ]
    return (
        "steps[0].arguments",
        "required parameter channel of SET_VOLTAGE needs a value or a variant (it has no default)",
    )


def _arguments_of_a_step_without_command(d: Document) -> tuple[str, str]:
    assert d["steps"][2]["command"] is None
    d["steps"][2]["arguments"] = [{"parameter": "channel", "value": "1"}]
    return "steps[2].arguments", "a step without a command takes no arguments"


def _syntax_outside_signature(d: Document) -> tuple[str, str]:
    index = next(i for i, c in enumerate(d["commands"]) if c["name"] == "SET_VOLTAGE")
    d["commands"][index]["syntax"] += " {mode}"
    return f"commands[{index}].syntax", "{mode} not in the command's signature"


def _variant_out_of_range(d: Document) -> tuple[str, str]:
    d["parameters"][1]["variants"][0]["value"] = "31"
    return "parameters[1].variants[0].value", "supply_voltage: 31 is above the maximum 30"


def _a_position_given(d: Document) -> tuple[str, str]:
    """Positions are the list's order: a document cannot state one (so none can be off)."""
    d["steps"][1]["position"] = 7
    return "steps.1.position", "Extra inputs are not permitted"  # as pydantic places it


@pytest.mark.parametrize(
    "mangle",
    [
        _unparsable_literal,
        _literal_out_of_range,
        _parameter_not_in_signature,
        _required_parameter_without_value,
        _arguments_of_a_step_without_command,
        _syntax_outside_signature,
        _variant_out_of_range,
        _a_position_given,
    ],
)
def test_a_document_breaking_a_rule_is_refused_by_its_place(
    db: Database,
    bench: Bench,
    make_user: Callable[[], uuid.UUID],
    backend: str,
    mangle: Callable[[Document], tuple[str, str]],
) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    field, message = mangle(document)
    target = make_user()
    with pytest.raises(ValidationError) as caught, db.user_scope(target) as session:
        SpecificationExchange(session).import_document(document)
    assert [(e.field, e.message) for e in caught.value.errors] == [(field, message)]
    assert stored_rows(db, target, backend) == 0


def test_a_variant_that_does_not_fit_the_workspace_parameter_is_named(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID], backend: str
) -> None:
    """The workspace's `supply_voltage` (matched by name) stops at 10 V: the document's
    variants it lacks are added to it, and one of 12 V does not fit."""
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    target = make_user()
    with db.user_scope(target) as session:
        ParameterRepository(session).create(
            {"name": "supply_voltage", "data_type": "float", "min_value": 0, "max_value": 10}
        )
    before = stored_rows(db, target, backend)
    names = [v["name"] for v in document["parameters"][1]["variants"]]
    with pytest.raises(ValidationError) as caught, db.user_scope(target) as session:
        SpecificationExchange(session).import_document(document)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        (
            f"parameters[1].variants[{names.index('nominal_12V')}].value",
            "supply_voltage: 12 is above the maximum 10",
        )
    ]
    assert stored_rows(db, target, backend) == before
