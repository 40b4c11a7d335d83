"""Deletion rules, done by the database (so they hold for plain SQL) and mirrored by the ORM."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.db.errors import IntegrityError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import (
    GenericCommand,
    GenericCommandParameter,
    Parameter,
)
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench, build_bench, row_counts, uid


def _add_step(db: Database, bench: Bench, variant: uuid.UUID | None = None) -> uuid.UUID:
    voltage = {"parameter_id": bench.voltage, "variant_id": variant} if variant else None
    arguments: list[dict[str, Any]] = [{"parameter_id": bench.channel, "value": 1}]
    with db.user_scope(bench.user) as session:
        return (
            StepService(session)
            .insert(
                bench.spec,
                {
                    "action": "set",
                    "command_id": bench.set_voltage,
                    "arguments": arguments + ([voltage] if voltage else []),
                },
            )
            .id
        )


def test_deleting_a_specification_removes_its_steps_arguments_and_links(
    db: Database, bench: Bench
) -> None:
    for _ in range(3):
        _add_step(db, bench, bench.low)
    with db.user_scope(bench.user) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
    before = row_counts(db, bench.user)
    assert (before["test_steps"], before["test_step_arguments"]) == (3, 6)
    with db.user_scope(bench.user) as session:
        TestSpecificationRepository(session).delete(bench.spec)
    after = row_counts(db, bench.user)
    assert after == before | {
        "test_specifications": 0,
        "test_steps": 0,
        "test_step_arguments": 0,
        "requirement_test_links": 0,
    }


def test_deleting_a_loaded_specification_deletes_its_loaded_steps(
    db: Database, bench: Bench
) -> None:
    _add_step(db, bench, bench.low)
    with db.user_scope(bench.user) as session:
        specs = TestSpecificationRepository(session)
        spec = specs.load(bench.spec)
        assert len(spec.steps) == 1
        session.delete(spec)
    assert row_counts(db, bench.user)["test_step_arguments"] == 0


def test_deleting_an_unused_parameter_removes_its_variants(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        unused = ParameterRepository(session).create(
            {"name": "mode", "variants": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}]}
        )
    before = row_counts(db, bench.user)
    with db.user_scope(bench.user) as session:
        ParameterRepository(session).delete(unused.id)
    after = row_counts(db, bench.user)
    assert after == before | {
        "parameters": before["parameters"] - 1,
        "parameter_variants": before["parameter_variants"] - 2,
    }


def test_a_parameter_in_a_signature_cannot_be_deleted(db: Database, bench: Bench) -> None:
    before = row_counts(db, bench.user)
    with pytest.raises(IntegrityError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).delete(bench.voltage)
    assert "supply_voltage" in str(caught.value)
    assert "MEASURE_CURRENT, SET_VOLTAGE" in str(caught.value)
    assert row_counts(db, bench.user) == before


def test_a_parameter_bound_by_a_step_argument_cannot_be_deleted(db: Database, bench: Bench) -> None:
    _add_step(db, bench)
    with db.user_scope(bench.user) as session:
        # Leave the signatures without `channel`, so only the step argument still uses it.
        session.execute(
            delete(GenericCommandParameter).where(GenericCommandParameter.position == 1)
        )
    before = row_counts(db, bench.user)
    with pytest.raises(IntegrityError) as caught, db.user_scope(bench.user) as session:
        ParameterRepository(session).delete(bench.channel)
    assert "the arguments of TS-001 step 1" in str(caught.value)
    assert "signature" not in str(caught.value)
    assert row_counts(db, bench.user) == before


def test_a_variant_used_by_an_argument_cannot_be_deleted(db: Database, bench: Bench) -> None:
    _add_step(db, bench, bench.low)
    before = row_counts(db, bench.user)
    with pytest.raises(IntegrityError) as caught, db.user_scope(bench.user) as session:
        VariantRepository(session).delete(bench.low)
    assert "low_battery" in str(caught.value)
    assert "TS-001 step 1" in str(caught.value)
    assert row_counts(db, bench.user) == before


def test_a_default_variant_that_steps_rely_on_cannot_be_deleted(db: Database, bench: Bench) -> None:
    _add_step(db, bench)  # supply_voltage left to its default: the nominal_12V variant
    with pytest.raises(IntegrityError) as caught, db.user_scope(bench.user) as session:
        VariantRepository(session).delete(bench.nominal)
    assert "default" in str(caught.value)
    with db.user_scope(bench.user) as session:
        ParameterRepository(session).update(bench.voltage, {"default_value": 13.5})
        VariantRepository(session).delete(bench.nominal)  # the default_value takes over


def test_a_command_used_by_a_step_cannot_be_deleted(db: Database, bench: Bench) -> None:
    _add_step(db, bench)
    before = row_counts(db, bench.user)
    with pytest.raises(IntegrityError) as caught, db.user_scope(bench.user) as session:
        GenericCommandRepository(session).delete(bench.set_voltage)
    assert "SET_VOLTAGE is still used by TS-001 step 1" in str(caught.value)
    assert "is_active" in str(caught.value)
    assert row_counts(db, bench.user) == before


def test_an_unused_command_goes_with_its_signature(db: Database, bench: Bench) -> None:
    before = row_counts(db, bench.user)
    with db.user_scope(bench.user) as session:
        GenericCommandRepository(session).delete(bench.measure)
    after = row_counts(db, bench.user)
    assert after["generic_commands"] == before["generic_commands"] - 1
    assert after["generic_command_parameters"] == before["generic_command_parameters"] - 2


@pytest.mark.parametrize(
    ("sql", "key"),
    [
        ("DELETE FROM parameters WHERE id = :voltage", "voltage"),
        ("DELETE FROM parameter_variants WHERE id = :low", "low"),
        ("DELETE FROM generic_commands WHERE id = :set_voltage", "set_voltage"),
    ],
)
def test_the_database_refuses_the_same_deletes(
    db: Database, bench: Bench, backend: str, sql: str, key: str
) -> None:
    _add_step(db, bench, bench.low)
    before = row_counts(db, bench.user)
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(text(sql), {key: uid(getattr(bench, key), backend)})
    assert row_counts(db, bench.user) == before


def test_deleting_a_category_leaves_its_members_uncategorised(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        power = CommandCategoryRepository(session).create({"name": "Power"})
        electrical = ParameterCategoryRepository(session).create({"name": "Electrical"})
        command = GenericCommandRepository(session).update(
            bench.set_voltage, {"category_id": power.id}
        )
        parameter = ParameterRepository(session).update(
            bench.voltage, {"category_id": electrical.id}
        )
        CommandCategoryRepository(session).delete(power.id)
        ParameterCategoryRepository(session).delete(electrical.id)
        assert (command.category_id, parameter.category_id) == (None, None)  # the session agrees
    with db.user_scope(bench.user) as session:
        assert GenericCommandRepository(session).get(bench.set_voltage).category_id is None
        assert ParameterRepository(session).get(bench.voltage).category_id is None


@pytest.mark.parametrize("table", ["command_categories", "parameter_categories"])
def test_deleting_a_category_by_plain_sql_nulls_only_category_id(
    db: Database, bench: Bench, backend: str, table: str
) -> None:
    with db.user_scope(bench.user) as session:
        if table == "command_categories":
            category = CommandCategoryRepository(session).create({"name": "Power"})
            GenericCommandRepository(session).update(bench.measure, {"category_id": category.id})
            member, member_id = GenericCommand, bench.measure
        else:
            category = ParameterCategoryRepository(session).create({"name": "Electrical"})
            ParameterRepository(session).update(bench.channel, {"category_id": category.id})
            member, member_id = Parameter, bench.channel
    with db.session() as session:
        session.execute(
            text(f"DELETE FROM {table} WHERE id = :c"), {"c": uid(category.id, backend)}
        )
        row = session.execute(
            select(member.user_id, member.category_id, member.name).where(member.id == member_id)  # type: ignore[attr-defined]
        ).one()
    assert row[:2] == (bench.user, None)


def test_deleting_a_parent_requirement_keeps_its_children(
    db: Database, bench: Bench, backend: str
) -> None:
    with db.user_scope(bench.user) as session:
        requirements = RequirementRepository(session)
        child = requirements.create(
            {"key": "REQ-001-A", "title": "c", "statement": "s", "parent_id": bench.requirement}
        )
        grandchild = requirements.create(
            {"key": "REQ-001-A-1", "title": "g", "statement": "s", "parent_id": child.id}
        )
        requirements.delete(bench.requirement)
        assert child.parent_id is None  # mirrored in the session
    with db.session() as session:
        session.execute(
            text("DELETE FROM requirements WHERE id = :c"), {"c": uid(child.id, backend)}
        )
    with db.user_scope(bench.user) as session:
        assert RequirementRepository(session).get(grandchild.id).parent_id is None


def test_deleting_a_user_removes_every_test_engineering_row(
    db: Database, bench: Bench, make_user
) -> None:
    other = build_bench(db, make_user())
    for owner in (bench, other):
        _add_step(db, owner, owner.low)
        with db.user_scope(owner.user) as session:
            TraceabilityService(session).link(owner.requirement, owner.spec)
            power = CommandCategoryRepository(session).create({"name": "Power"})
            GenericCommandRepository(session).update(owner.set_voltage, {"category_id": power.id})
            RequirementRepository(session).create(
                {"key": "REQ-001-A", "title": "c", "statement": "s", "parent_id": owner.requirement}
            )
    others = row_counts(db, other.user)
    with db.session() as session:
        UserRepository(session).delete(bench.user)
    assert set(row_counts(db, bench.user).values()) == {0}
    assert row_counts(db, other.user) == others


def test_deleting_a_user_in_the_transaction_that_created_the_rows(
    db: Database, make_user, backend: str
) -> None:
    """The nulling triggers stand aside while the user's own cascade removes the rows."""
    user = make_user()
    with db.user_scope(user) as session:
        owner = build_bench(db, user)  # a nested unit of work: the same transaction
        _add_step(db, owner, owner.low)
        RequirementRepository(session).create(
            {"key": "REQ-001-A", "title": "c", "statement": "s", "parent_id": owner.requirement}
        )
        power = CommandCategoryRepository(session).create({"name": "Power"})
        GenericCommandRepository(session).update(owner.set_voltage, {"category_id": power.id})
        session.execute(delete(User))  # the scope's own row: the scope limits it
        session.expunge_all()
    assert set(row_counts(db, user).values()) == {0}
