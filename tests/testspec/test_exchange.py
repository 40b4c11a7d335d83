"""Export a whole specification to JSON and import it into another user's workspace."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.exchange import SpecificationExchange
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench, build_bench, row_counts


def _rich_specification(db: Database, bench: Bench) -> None:
    """Categories, a requirement hierarchy, a suspect link, every kind of argument."""
    with db.user_scope(bench.user) as session:
        power = CommandCategoryRepository(session).create({"name": "Power", "description": "PSU"})
        electrical = ParameterCategoryRepository(session).create({"name": "Electrical"})
        GenericCommandRepository(session).update(bench.set_voltage, {"category_id": power.id})
        ParameterRepository(session).update(bench.voltage, {"category_id": electrical.id})
        ParameterRepository(session).create(
            {"name": "unused", "variants": [{"name": "x", "value": "x"}]}
        )
        requirements = RequirementRepository(session)
        system = requirements.create({"key": "SYS-1", "title": "System", "statement": "All."})
        requirements.update(bench.requirement, {"parent_id": system.id, "kind": "safety"})
        requirements.update(bench.requirement, {"statement": "The unit shall power up in 2 s."})
        child = requirements.create(
            {"key": "REQ-002", "title": "Low", "statement": "Works at 9.5 V.", "priority": "high"}
        )
        trace = TraceabilityService(session)
        trace.link(bench.requirement, bench.spec)
        trace.link(child.id, bench.spec, reviewed=False)
        TestSpecificationRepository(session).update(
            bench.spec, {"objective": "Boot at all voltages", "status": "ready"}
        )
        steps = StepService(session)
        channel = {"parameter_id": bench.channel, "value": 1}
        steps.insert(
            bench.spec,
            {
                "action": "Low battery",
                "expected_result": "Boots",
                "command_id": bench.set_voltage,
                "continue_on_failure": True,
                "arguments": [channel, {"parameter_id": bench.voltage, "variant_id": bench.low}],
            },
        )
        steps.insert(
            bench.spec,
            {
                "action": "Default voltage",
                "command_id": bench.set_voltage,
                "arguments": [channel, {"parameter_id": bench.voltage}],
            },
        )
        steps.insert(bench.spec, {"action": "Look"})
        steps.insert(
            bench.spec,
            {
                "action": "Measure",
                "command_id": bench.measure,
                "arguments": [{"parameter_id": bench.channel, "value": "4"}],
            },
        )


def _keys(value: Any) -> set[str]:
    """Every key of a JSON value, however deep."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _export(db: Database, user: uuid.UUID, key: str = "TS-001") -> dict[str, Any]:
    with db.user_scope(user) as session:
        spec = TestSpecificationRepository(session).get_by_key(key)
        return json.loads(SpecificationExchange(session).export_json(spec.id))  # type: ignore[no-any-return]


def test_export_then_import_round_trips(db: Database, bench: Bench, make_user) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    assert [p["name"] for p in document["parameters"]] == ["channel", "supply_voltage"]
    voltage = document["parameters"][1]
    assert [v["name"] for v in voltage["variants"]] == ["low_battery", "nominal_12V"]
    assert voltage["category"] == "Electrical"
    assert [r["key"] for r in document["requirements"]] == ["REQ-001", "REQ-002", "SYS-1"]
    assert document["links"] == [
        {"requirement": "REQ-001", "verified_revision": 2},
        {"requirement": "REQ-002", "verified_revision": None},
    ]
    assert not _keys(document) & {"id", "user_id", "parameter_id", "variant_id", "command_id"}
    bob = make_user()
    with db.user_scope(bob) as session:
        report = SpecificationExchange(session).import_document(json.dumps(document))
    assert report.created["test_steps"] == 4
    assert report.created["requirements"] == 3
    assert _export(db, bob) == document
    with db.user_scope(bob) as session:
        suspects = TraceabilityService(session).suspect_links()
        assert [s.requirement.key for s in suspects] == ["REQ-002"]  # review state travelled


def test_importing_twice_creates_nothing_new(db: Database, bench: Bench, make_user) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    bob = make_user()
    with db.user_scope(bob) as session:
        first = SpecificationExchange(session).import_document(document)
    counts = row_counts(db, bob)
    with db.user_scope(bob) as session:
        second = SpecificationExchange(session).import_document(document)
    assert first.created_anything
    assert not second.created_anything
    assert second.specification_id == first.specification_id
    assert row_counts(db, bob) == counts


def test_import_reuses_what_the_workspace_has(db: Database, bench: Bench, make_user) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    carol = build_bench(db, make_user())  # same commands and parameters, another TS-001
    with db.user_scope(carol.user) as session:
        TestSpecificationRepository(session).update(carol.spec, {"key": "TS-OWN"})
        RequirementRepository(session).update(carol.requirement, {"title": "Other text"})
    before = row_counts(db, carol.user)
    with db.user_scope(carol.user) as session:
        report = SpecificationExchange(session).import_document(document)
    assert report.matched["generic_commands"] == 2
    assert report.matched["parameters"] == 2
    assert report.matched["requirements"] == 1
    assert report.created["requirements"] == 2
    assert report.created["parameter_variants"] == 0
    after = row_counts(db, carol.user)
    assert after["generic_commands"] == before["generic_commands"]
    assert after["parameters"] == before["parameters"]
    assert after["test_steps"] == before["test_steps"] + 4
    with db.user_scope(carol.user) as session:
        suspects = [s.requirement.key for s in TraceabilityService(session).suspect_links()]
    assert suspects == ["REQ-001", "REQ-002"]  # REQ-001 has another text here: review it


def test_a_different_specification_with_the_same_key_is_a_conflict(
    db: Database, bench: Bench, make_user
) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    document["steps"][0]["action"] = "Changed"
    carol = build_bench(db, make_user())
    before = row_counts(db, carol.user)
    with pytest.raises(ConflictError, match="TS-001"), db.user_scope(carol.user) as session:
        SpecificationExchange(session).import_document(document)
    assert row_counts(db, carol.user) == before


def test_a_document_that_does_not_fit_changes_nothing(
    db: Database, bench: Bench, make_user
) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    bob = make_user()
    with db.user_scope(bob) as session:
        ParameterRepository(session).create({"name": "channel", "data_type": "string"})
    before = row_counts(db, bob)
    with pytest.raises(ValidationError) as caught, db.user_scope(bob) as session:
        SpecificationExchange(session).import_document(document)
    assert caught.value.fields == {"parameters[0].data_type"}
    assert row_counts(db, bob) == before
    document["steps"][3]["arguments"][0]["value"] = "9"  # channel is 1..4
    with pytest.raises(ValidationError) as caught, db.user_scope(make_user()) as session:
        SpecificationExchange(session).import_document(document)
    assert caught.value.fields == {"steps[3].arguments[0].value"}


def test_a_malformed_document_is_refused_field_by_field(db: Database, make_user) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(make_user()) as session:
        SpecificationExchange(session).import_document(
            {"specification": {"key": "ts 1", "title": ""}, "extra": 1}
        )
    assert caught.value.fields == {"specification.key", "specification.title", "extra"}
    with pytest.raises(ValidationError), db.user_scope(make_user()) as session:
        SpecificationExchange(session).import_document("{not json")


def test_the_import_survives_a_caller_that_catches_the_error(
    db: Database, bench: Bench, make_user
) -> None:
    """The import runs in a savepoint: a refused document leaves the caller's work intact."""
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    document["steps"][3]["arguments"][0]["value"] = "9"
    bob = make_user()
    with db.user_scope(bob) as session:
        RequirementRepository(session).create({"key": "MINE", "title": "m", "statement": "s"})
        with pytest.raises(ValidationError):
            SpecificationExchange(session).import_document(document)
    counts = row_counts(db, bob)
    assert counts["requirements"] == 1
    assert counts["test_specifications"] == 0


def test_errors_name_their_place_in_the_document(db: Database, bench: Bench, make_user) -> None:
    _rich_specification(db, bench)
    document = _export(db, bench.user)
    bad_default = json.loads(json.dumps(document))
    bad_default["parameters"][1]["default_value"] = "31"
    looping = json.loads(json.dumps(document))
    looping["requirements"][2]["parent"] = "REQ-001"  # SYS-1 under its own child
    for changed, field in (
        (bad_default, "parameters[1].default_value"),
        (looping, "requirements[2].parent"),
    ):
        with pytest.raises(ValidationError) as caught, db.user_scope(make_user()) as session:
            SpecificationExchange(session).import_document(changed)
        assert caught.value.fields == {field}
