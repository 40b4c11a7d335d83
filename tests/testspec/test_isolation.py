"""One user's workspace is out of another's reach: not visible, not changeable, not referable."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import GenericCommand, Parameter, Requirement, TestStep
from tasktracker.testspec.repositories.categories import CommandCategoryRepository
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench, build_bench


@dataclass(frozen=True)
class AliceWithCategory(Bench):
    category: uuid.UUID


@pytest.fixture
def two(db: Database, make_user: Callable[[], Any]) -> tuple[Bench, Bench]:
    return build_bench(db, make_user()), build_bench(db, make_user())


def test_each_user_sees_only_their_own_rows(db: Database, two: tuple[Bench, Bench]) -> None:
    alice, bob = two
    with db.user_scope(bob.user) as session:
        counts = [
            session.scalar(select(func.count()).select_from(model))
            for model in (Requirement, GenericCommand, Parameter)
        ]
        assert counts == [1, 2, 2]  # alice has as many again
        assert {c.id for c in GenericCommandRepository(session).list()} == {
            bob.measure,
            bob.set_voltage,
        }
        assert TestSpecificationRepository(session).get_by_key("TS-001").id == bob.spec
        for lookup in (
            lambda: TestSpecificationRepository(session).load(alice.spec),
            lambda: RequirementRepository(session).get(alice.requirement),
            lambda: ParameterRepository(session).with_variants(alice.voltage),
            lambda: GenericCommandRepository(session).with_signature(alice.set_voltage),
        ):
            with pytest.raises(NotFoundError):
                lookup()


CHANGES: list[tuple[str, Callable[[Session, Bench], Any]]] = [
    ("requirement", lambda s, a: RequirementRepository(s).update(a.requirement, {"title": "x"})),
    ("spec", lambda s, a: TestSpecificationRepository(s).delete(a.spec)),
    ("parameter", lambda s, a: ParameterRepository(s).delete(a.voltage)),
    ("variant", lambda s, a: VariantRepository(s).update(a.low, {"value": "10"})),
    ("command", lambda s, a: GenericCommandRepository(s).update(a.measure, {"is_active": False})),
    ("step", lambda s, a: StepService(s).insert(a.spec, {"action": "x"})),
    ("review", lambda s, a: TraceabilityService(s).unlink(a.requirement, a.spec)),
]


@pytest.mark.parametrize(("name", "change"), CHANGES, ids=[name for name, _ in CHANGES])
def test_another_users_rows_cannot_be_changed(
    db: Database, two: tuple[Bench, Bench], name: str, change: Callable[[Session, Bench], Any]
) -> None:
    alice, bob = two
    with pytest.raises(NotFoundError), db.user_scope(bob.user) as session:
        change(session, alice)


REFERENCES: list[tuple[str, Callable[[Session, Bench, Bench], Any]]] = [
    (
        "command_id",
        lambda s, a, b: StepService(s).insert(b.spec, {"action": "x", "command_id": a.set_voltage}),
    ),
    (
        "arguments[0].parameter_id",
        lambda s, a, b: StepService(s).insert(
            b.spec,
            {
                "action": "x",
                "command_id": b.measure,
                "arguments": [{"parameter_id": a.channel, "value": 1}],
            },
        ),
    ),
    (
        "arguments[1].variant_id",
        lambda s, a, b: StepService(s).insert(
            b.spec,
            {
                "action": "x",
                "command_id": b.measure,
                "arguments": [
                    {"parameter_id": b.channel, "value": 1},
                    {"parameter_id": b.voltage, "variant_id": a.low},
                ],
            },
        ),
    ),
    (
        "signature[0].parameter_id",
        lambda s, a, b: GenericCommandRepository(s).create(
            {"name": "STOLEN", "signature": [{"parameter_id": a.channel}]}
        ),
    ),
    (
        "parameter_id",
        lambda s, a, b: VariantRepository(s).create(a.voltage, {"name": "x", "value": "1"}),
    ),
    (
        "parent_id",
        lambda s, a, b: RequirementRepository(s).update(
            b.requirement, {"parent_id": a.requirement}
        ),
    ),
    ("test_specification_id", lambda s, a, b: TraceabilityService(s).link(b.requirement, a.spec)),
    (
        "category_id",
        lambda s, a, b: GenericCommandRepository(s).update(b.measure, {"category_id": a.category}),
    ),
]


@pytest.mark.parametrize(("field", "refer"), REFERENCES, ids=[field for field, _ in REFERENCES])
def test_references_to_another_users_rows_are_refused(
    db: Database,
    two: tuple[Bench, Bench],
    field: str,
    refer: Callable[[Session, Bench, Bench], Any],
) -> None:
    alice, bob = two
    with db.user_scope(alice.user) as session:
        category = CommandCategoryRepository(session).create({"name": "Power"}).id
    alice = AliceWithCategory(**vars(alice), category=category)
    with db.user_scope(bob.user) as session:
        steps_before = session.scalar(select(func.count()).select_from(TestStep))
    with pytest.raises(ValidationError) as caught, db.user_scope(bob.user) as session:
        refer(session, alice, bob)
    assert field in caught.value.fields
    with db.user_scope(bob.user) as session:
        assert session.scalar(select(func.count()).select_from(TestStep)) == steps_before
