"""Every rule is refused with a field-level error, and the refused write changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError as SchemaError
from sqlalchemy import func, select

from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import (
    GenericCommand,
    Parameter,
    ParameterVariant,
    Requirement,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.schemas import ArgumentIn, RequirementCreate
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench


def _rows(db: Database, user: uuid.UUID) -> dict[str, int]:
    models = (Requirement, TestSpecification, TestStep, TestStepArgument)
    models += (GenericCommand, Parameter, ParameterVariant)
    with db.user_scope(user) as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[attr-defined]
            for m in models
        }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": "req-1"}, "key"),
        ({"key": "1REQ"}, "key"),
        ({"key": "REQ--1"}, "key"),
        ({"key": "REQ-"}, "key"),
        ({"key": "REQ 1"}, "key"),
        ({"key": "R" * 51}, "key"),
        ({"title": "  "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"statement": ""}, "statement"),
        ({"kind": "wish"}, "kind"),
        ({"priority": "urgent"}, "priority"),
        ({"status": "done"}, "status"),
        ({"source_ref": "s" * 256}, "source_ref"),
    ],
)
def test_requirement_fields(fields: dict[str, Any], field: str) -> None:
    good = {"key": "SYS-PWR-12", "title": "t", "statement": "shall"}
    RequirementCreate(**good)
    with pytest.raises(SchemaError) as caught:
        RequirementCreate(**good | fields)
    assert {e["loc"][0] for e in caught.value.errors()} == {field}
    with pytest.raises(ValidationError) as model_error:
        Requirement(**good | fields)
    assert model_error.value.fields == {field}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Supply"}, "name"),
        ({"name": "9volt"}, "name"),
        ({"name": "supply-voltage"}, "name"),
        ({"data_type": "decimal"}, "data_type"),
        ({"unit": " "}, "unit"),
        ({"unit": "u" * 21}, "unit"),
        ({"data_type": "float", "min_value": 5, "max_value": 1}, "max_value"),
        ({"data_type": "string", "min_value": 1}, "min_value"),
        ({"data_type": "boolean", "max_value": 1}, "max_value"),
        ({"data_type": "integer", "default_value": "1.5"}, "default_value"),
        ({"data_type": "integer", "default_value": "12", "max_value": 10}, "default_value"),
        ({"data_type": "float", "default_value": "nan"}, "default_value"),
        ({"data_type": "float", "default_value": "1e999"}, "default_value"),
        ({"data_type": "boolean", "default_value": "yes"}, "default_value"),
        ({"data_type": "float", "min_value": float("inf")}, "min_value"),
    ],
)
def test_parameter_rules(db: Database, make_user, fields: dict[str, Any], field: str) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ParameterRepository(session).create({"name": "supply"} | fields)
    assert field in caught.value.fields
    assert _rows(db, user)["parameters"] == 0


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([{"name": "high", "value": "31"}], "variants[0].value"),
        ([{"name": "x", "value": "abc"}], "variants[0].value"),
        ([{"name": "a", "value": "1"}, {"name": "a", "value": "2"}], "variants[1].name"),
        (
            [
                {"name": "a", "value": "1", "is_default": True},
                {"name": "b", "value": "2", "is_default": True},
            ],
            "variants[1].is_default",
        ),
    ],
)
def test_variants_given_with_a_parameter(
    db: Database, make_user, variants: list[Any], field: str
) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ParameterRepository(session).create(
            {"name": "v", "data_type": "float", "max_value": 30, "variants": variants}
        )
    assert caught.value.fields == {field}
    assert _rows(db, user)["parameter_variants"] == 0


def test_typed_values_are_stored_as_text(db: Database, make_user) -> None:
    with db.user_scope(make_user()) as session:
        flag = ParameterRepository(session).create(
            {"name": "flag", "data_type": "boolean", "default_value": True}
        )
        variant = VariantRepository(session).create(flag.id, {"name": "off", "value": False})
    assert (flag.default_value, variant.value) == ("true", "false")


def test_variant_values_must_fit_the_parameter(db: Database, bench: Bench) -> None:
    before = _rows(db, bench.user)
    for value in ("30.5", "-1", "twelve", "  "):
        with pytest.raises((ValidationError, SchemaError)), db.user_scope(bench.user) as session:
            VariantRepository(session).create(bench.voltage, {"name": "bad", "value": value})
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        VariantRepository(session).update(bench.low, {"value": "31"})
    assert caught.value.fields == {"value"}
    assert _rows(db, bench.user) == before


def test_at_most_one_default_variant(db: Database, bench: Bench) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        VariantRepository(session).create(
            bench.voltage, {"name": "x", "value": "5", "is_default": True}
        )
    assert caught.value.fields == {"is_default"}
    with pytest.raises(ValidationError), db.user_scope(bench.user) as session:
        VariantRepository(session).update(bench.low, {"is_default": True})
    with db.user_scope(bench.user) as session:
        variants = VariantRepository(session)
        variants.make_default(bench.low)
        defaults = [v.name for v in variants.list_for(bench.voltage) if v.is_default]
    assert defaults == ["low_battery"]


def test_duplicate_names_and_keys_are_conflicts(db: Database, bench: Bench) -> None:
    cases = [
        (ParameterRepository, {"name": "channel"}, "name"),
        (GenericCommandRepository, {"name": "SET_VOLTAGE"}, "name"),
        (TestSpecificationRepository, {"key": "TS-001", "title": "again"}, "key"),
        (RequirementRepository, {"key": "REQ-001", "title": "t", "statement": "s"}, "key"),
    ]
    for repository, data, field in cases:
        with pytest.raises(ConflictError, match=field), db.user_scope(bench.user) as session:
            repository(session).create(data)  # type: ignore[attr-defined]
    with pytest.raises(ConflictError, match="name"), db.user_scope(bench.user) as session:
        VariantRepository(session).create(bench.voltage, {"name": "low_battery", "value": "9"})


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "set_voltage"}, "name"),
        ({"name": "SET-VOLTAGE"}, "name"),
        ({"name": "_SET"}, "name"),
        ({"syntax": "SET {channel} {volts}"}, "syntax"),
        ({"syntax": "SET {}"}, "syntax"),
        ({"signature": [{"parameter_id": str(uuid.uuid4())}]}, "signature[0].parameter_id"),
    ],
)
def test_command_rules(db: Database, bench: Bench, fields: dict[str, Any], field: str) -> None:
    data = {"name": "SET_CURRENT", "signature": [{"parameter_id": str(bench.channel)}]} | fields
    before = _rows(db, bench.user)
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).create(data)
    assert field in caught.value.fields
    assert _rows(db, bench.user) == before


def test_a_parameter_appears_once_in_a_signature(db: Database, bench: Bench) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(
            bench.set_voltage,
            {"signature": [{"parameter_id": bench.channel}, {"parameter_id": bench.channel}]},
        )
    assert caught.value.fields == {"signature[1].parameter_id"}


def test_changing_syntax_is_checked_against_the_signature(db: Database, bench: Bench) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(bench.set_voltage, {"syntax": "SET {volts}"})
    assert caught.value.fields == {"syntax"}
    assert "{volts}" in str(caught.value)


def _args(*pairs: tuple[uuid.UUID, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"parameter_id": parameter} | binding for parameter, binding in pairs]


def test_step_arguments_rules(db: Database, bench: Bench) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"command_id": None, "arguments": _args((bench.channel, {"value": "1"}))}, "arguments"),
        ({"command_id": uuid.uuid4()}, "command_id"),
        ({"arguments": _args((bench.channel, {"value": "5"}))}, "arguments[0].value"),
        ({"arguments": _args((bench.channel, {"value": "one"}))}, "arguments[0].value"),
        (
            {"arguments": _args((bench.channel, {"value": "1"}), (bench.voltage, {"value": "99"}))},
            "arguments[1].value",
        ),
        (
            {"arguments": _args((bench.channel, {"value": "1"}), (bench.channel, {"value": "2"}))},
            "arguments[1].parameter_id",
        ),
        (
            {"arguments": _args((bench.channel, {"value": "1"}), (uuid.uuid4(), {"value": "2"}))},
            "arguments[1].parameter_id",
        ),
        (
            {
                "arguments": _args(
                    (bench.channel, {"value": "1"}), (bench.voltage, {"variant_id": uuid.uuid4()})
                )
            },
            "arguments[1].variant_id",
        ),
        ({"arguments": _args((bench.channel, {}))}, "arguments"),
        ({"arguments": []}, "arguments"),
    ]
    before = _rows(db, bench.user)
    for fields, field in cases:
        data = {"action": "set", "command_id": bench.set_voltage} | fields
        with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
            StepService(session).insert(bench.spec, data)
        assert field in caught.value.fields, (fields, caught.value)
    assert _rows(db, bench.user) == before


def test_a_variant_of_another_parameter_is_refused(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        other = ParameterRepository(session).create(
            {"name": "mode", "variants": [{"name": "fast", "value": "fast"}]}
        )
    arguments = _args((bench.channel, {"variant_id": other.variants[0].id}))
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        StepService(session).insert(
            bench.spec, {"action": "x", "command_id": bench.set_voltage, "arguments": arguments}
        )
    assert caught.value.fields == {"arguments[0].variant_id"}
    assert "another parameter" in str(caught.value)


def test_a_value_and_a_variant_together_are_refused() -> None:
    with pytest.raises(SchemaError) as caught:
        ArgumentIn(parameter_id=uuid.uuid4(), variant_id=uuid.uuid4(), value="1")
    assert {e["loc"][0] for e in caught.value.errors()} == {"value"}


def test_required_parameters_may_come_from_a_default(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        step = StepService(session).insert(
            bench.spec,
            {
                "action": "x",
                "command_id": bench.set_voltage,
                "arguments": _args((bench.channel, {"value": 1})),
            },
        )
    assert step.position == 1  # supply_voltage: its default variant


def test_changing_a_steps_command_rebinds_its_arguments(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        step = steps.insert(
            bench.spec,
            {
                "action": "x",
                "command_id": bench.measure,
                "arguments": _args((bench.channel, {"value": 1})),
            },
        )
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        StepService(session).update(
            step.id, {"command_id": None, "arguments": _args((bench.channel, {"value": 1}))}
        )
    assert caught.value.fields == {"arguments"}
    with pytest.raises(ValidationError), db.user_scope(bench.user) as session:
        StepService(session).update(step.id, {"command_id": bench.set_voltage})  # channel unbound
    with db.user_scope(bench.user) as session:
        StepService(session).update(step.id, {"command_id": None, "action": "look"})
    with db.user_scope(bench.user) as session:
        stored = session.get_one(TestStep, (bench.user, step.id))
        arguments = session.scalar(select(func.count()).select_from(TestStepArgument))
    assert (stored.command_id, stored.action, arguments) == (None, "look", 0)


def test_requirement_hierarchy_never_loops(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        requirements = RequirementRepository(session)
        a = requirements.create({"key": "A", "title": "a", "statement": "s"})
        b = requirements.create({"key": "B", "title": "b", "statement": "s", "parent_id": a.id})
        c = requirements.create({"key": "C", "title": "c", "statement": "s", "parent_id": b.id})
    for child, parent in ((a.id, a.id), (a.id, b.id), (a.id, c.id), (b.id, c.id)):
        with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
            RequirementRepository(session).update(child, {"parent_id": parent})
        assert caught.value.fields == {"parent_id"}
    assert "A → B → C → A" in str(caught.value) or "B → C → B" in str(caught.value)
    with db.user_scope(user) as session:
        requirements = RequirementRepository(session)
        requirements.update(c.id, {"parent_id": a.id})
        assert [r.key for r in requirements.ancestors(c.id)] == ["A"]
        assert requirements.get(a.id).parent_id is None


def test_a_parent_must_exist_in_the_users_workspace(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    with db.user_scope(alice) as session:
        alices = RequirementRepository(session).create({"key": "A", "title": "a", "statement": "s"})
    with pytest.raises(ValidationError) as caught, db.user_scope(bob) as session:
        RequirementRepository(session).create(
            {"key": "B", "title": "b", "statement": "s", "parent_id": alices.id}
        )
    assert caught.value.fields == {"parent_id"}


def test_revision_goes_up_when_title_or_statement_change(db: Database, bench: Bench) -> None:
    revisions = []
    for changes in (
        {"status": "approved", "rationale": "why", "kind": "safety"},
        {"statement": "The unit shall power up within 2 s."},
        {"title": "Power-up"},
        {"title": "Power up", "statement": "The unit shall power up within 1 s."},
        {"title": "Power up"},
    ):
        with db.user_scope(bench.user) as session:
            revisions.append(
                RequirementRepository(session).update(bench.requirement, changes).revision
            )
    assert revisions == [1, 2, 3, 4, 4]


def test_the_revision_is_not_writable_through_the_schemas(db: Database, bench: Bench) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        RequirementRepository(session).update(bench.requirement, {"revision": 7})
    assert caught.value.fields == {"revision"}


def test_narrowing_a_parameter_must_keep_its_variants_and_arguments_valid(
    db: Database, bench: Bench
) -> None:
    with db.user_scope(bench.user) as session:
        StepService(session).insert(
            bench.spec,
            {
                "action": "x",
                "command_id": bench.set_voltage,
                "arguments": _args((bench.channel, {"value": 4})),
            },
        )
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"max_value": 10})
    assert caught.value.fields == {"max_value"}
    assert "nominal_12V" in str(caught.value)
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.channel, {"max_value": 3})
    assert "step argument '4'" in str(caught.value)
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"data_type": "integer"})
    assert caught.value.fields == {"data_type"}  # 9.5 is no integer
    with db.user_scope(bench.user) as session:
        assert ParameterRepository(session).update(bench.voltage, {"max_value": 24}).max_value == 24


def test_a_default_that_steps_rely_on_cannot_go(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"default_value": "12"})
        StepService(session).insert(
            bench.spec,
            {
                "action": "x",
                "command_id": bench.set_voltage,
                "arguments": _args((bench.channel, {"value": 1})),
            },
        )
    with db.user_scope(bench.user) as session:
        # The default variant still supplies a value.
        ParameterRepository(session).update(bench.voltage, {"default_value": None})
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        VariantRepository(session).update(bench.nominal, {"is_default": False})
    assert caught.value.fields == {"is_default"}
    assert "TS-001 step 1" in str(caught.value)


def test_a_signature_change_must_keep_the_steps_valid(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        StepService(session).insert(
            bench.spec,
            {
                "action": "x",
                "command_id": bench.measure,
                "arguments": _args(
                    (bench.channel, {"value": 1}), (bench.voltage, {"variant_id": bench.low})
                ),
            },
        )
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(
            bench.measure, {"signature": [{"parameter_id": bench.channel}]}
        )
    assert "TS-001 step 1 binds supply_voltage" in str(caught.value)
    with db.user_scope(bench.user) as session:
        other = ParameterRepository(session).create({"name": "range_mode"})
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(
            bench.measure,
            {
                "signature": [
                    {"parameter_id": bench.channel},
                    {"parameter_id": bench.voltage},
                    {"parameter_id": other.id},
                ]
            },
        )
    assert "range_mode" in str(caught.value)
    with db.user_scope(bench.user) as session:
        commands = GenericCommandRepository(session)
        commands.update(
            bench.measure,
            {
                "signature": [
                    {"parameter_id": bench.voltage},
                    {"parameter_id": bench.channel},
                    {"parameter_id": other.id, "is_required": False},
                ]
            },
        )
        names = [(p.name, required) for p, required in commands.signature(bench.measure)]
    assert names == [("supply_voltage", True), ("channel", True), ("range_mode", False)]


def test_direct_orm_writes_of_a_bad_parameter_are_refused_at_flush(db: Database, make_user) -> None:
    """The repositories check first; the model checks its own row again when it is flushed."""
    user = make_user()
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        session.add(Parameter(name="p", data_type="integer", default_value="1.5"))  # type: ignore[call-arg]
    assert caught.value.fields == {"default_value"}
    with db.user_scope(user) as session:
        parameter = Parameter(name="q", data_type="float", min_value=0)  # type: ignore[call-arg]
        session.add(parameter)
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        stored = session.get_one(Parameter, (user, parameter.id))
        stored.max_value = -1
    assert caught.value.fields == {"max_value"}
    assert _rows(db, user)["parameters"] == 1


def test_a_stale_command_update_changes_nothing(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        read_at = GenericCommandRepository(session).get(bench.measure).updated_at
        GenericCommandRepository(session).update(bench.measure, {"description": "first"})
    with pytest.raises(ConflictError), db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(
            bench.measure,
            {"signature": [{"parameter_id": bench.channel}]},
            expected_updated_at=read_at,
        )
    with db.user_scope(bench.user) as session:
        commands = GenericCommandRepository(session)
        assert len(commands.signature(bench.measure)) == 2
        before = commands.get(bench.measure).updated_at
        commands.update(bench.measure, {"signature": [{"parameter_id": bench.channel}]})
        assert commands.get(bench.measure).updated_at > before  # the signature is the command's


def test_renaming_a_parameter_renames_its_syntax_placeholders(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"name": "volts"})
    with db.user_scope(bench.user) as session:
        assert GenericCommandRepository(session).get(bench.set_voltage).syntax == (
            "SET_VOLTAGE {channel} {volts}"
        )
    with db.user_scope(bench.user) as session:
        GenericCommandRepository(session).update(
            bench.set_voltage, {"syntax": "SET {channel} {volts}" + " " * 470}
        )
    with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"name": "supply_voltage_in_volts"})
    assert caught.value.fields == {"name"}
    with db.user_scope(bench.user) as session:
        assert ParameterRepository(session).get(bench.voltage).name == "volts"
