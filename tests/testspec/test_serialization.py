"""Every model to and from plain dicts and JSON through its schemas; async use via the bridge."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.testspec.repositories.categories import CommandCategoryRepository
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.schemas import (
    ArgumentRead,
    CategoryCreate,
    CategoryRead,
    GenericCommandCreate,
    GenericCommandRead,
    ParameterCreate,
    ParameterRead,
    RequirementCreate,
    RequirementRead,
    RequirementTestLinkRead,
    SignatureEntryRead,
    TestSpecificationCreate,
    TestSpecificationRead,
    TestStepRead,
    VariantRead,
)
from tasktracker.testspec.services.resolution import resolve_specification
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench


def _round_trip(schema: type[BaseModel], obj: Any) -> dict[str, Any]:
    """obj → read schema → JSON text → read schema again: nothing lost on the way."""
    read = schema.model_validate(obj, from_attributes=True)
    text = read.model_dump_json()
    again = schema.model_validate_json(text)
    assert again == read
    data: dict[str, Any] = json.loads(text)
    stored = obj.to_dict()
    assert data == {name: stored[name] for name in data}  # the model's own values
    return data


def test_every_model_round_trips_through_its_read_schema(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        StepService(session).insert(
            bench.spec,
            {
                "action": "set",
                "command_id": bench.set_voltage,
                "arguments": [
                    {"parameter_id": bench.channel, "value": 2},
                    {"parameter_id": bench.voltage, "variant_id": bench.low},
                ],
            },
        )
        TraceabilityService(session).link(bench.requirement, bench.spec)
        category = CommandCategoryRepository(session).create({"name": "Power"})
    with db.user_scope(bench.user) as session:
        spec = TestSpecificationRepository(session).load(bench.spec)
        step = spec.steps[0]
        command = step.command
        assert command is not None
        cases: list[tuple[type[BaseModel], Any]] = [
            (TestSpecificationRead, spec),
            (TestStepRead, step),
            (GenericCommandRead, command),
            (RequirementRead, spec.requirement_links[0].requirement),
            (RequirementTestLinkRead, spec.requirement_links[0]),
            (ParameterRead, command.signature[1].parameter),
            (SignatureEntryRead, command.signature[1]),
            (CategoryRead, CommandCategoryRepository(session).get(category.id)),
        ]
        cases += [(ArgumentRead, argument) for argument in step.arguments]
        variant = next(a.variant for a in step.arguments if a.variant is not None)
        cases.append((VariantRead, variant))
        for schema, obj in cases:
            _round_trip(schema, obj)
        assert _round_trip(RequirementRead, spec.requirement_links[0].requirement)["revision"] == 1


def test_create_schemas_from_plain_dicts_make_equal_models(db: Database, make_user) -> None:
    """dict → create schema → model → read schema → dict keeps every field given."""
    requirement = {"key": "R-1", "title": "t", "statement": "s", "kind": "safety"}
    specification = {"key": "TS-9", "title": "t", "priority": "low"}
    cases: list[tuple[type[BaseModel], Any, dict[str, Any]]] = [
        (RequirementCreate, RequirementRepository, requirement),
        (TestSpecificationCreate, TestSpecificationRepository, specification),
        (CategoryCreate, CommandCategoryRepository, {"name": "Power", "description": "PSU"}),
    ]
    with db.user_scope(make_user()) as session:
        parameter = ParameterRepository(session).create(
            ParameterCreate.model_validate_json(
                '{"name": "volts", "data_type": "float", "unit": "V", "min_value": 0, '
                '"max_value": 30, "default_value": 12, "variants": [{"name": "low", "value": 9.5}]}'
            )
        )
        assert (parameter.default_value, parameter.variants[0].value) == ("12", "9.5")
        command = GenericCommandRepository(session).create(
            GenericCommandCreate(name="SET", signature=[{"parameter_id": parameter.id}])  # type: ignore[list-item]
        )
        assert GenericCommandRead.model_validate(command, from_attributes=True).name == "SET"
        for schema, repository, data in cases:
            created = repository(session).create(schema.model_validate(data))
            assert created.model_dump(include=set(data)) == data


async def test_async_callers_use_the_same_repositories(
    adb: AsyncDatabase, password_hash: str
) -> None:
    async with adb.session() as session:
        account = User(
            email="async_spec@example.com", username="async_spec", password_hash=password_hash
        )
        session.add(account)
        await session.flush()
        user = account.id

    def build(session: Session) -> str | None:
        parameter = ParameterRepository(session).create({"name": "n", "data_type": "integer"})
        command = GenericCommandRepository(session).create(
            {"name": "GO", "syntax": "GO {n}", "signature": [{"parameter_id": parameter.id}]}
        )
        spec = TestSpecificationRepository(session).create({"key": "TS-A", "title": "async"})
        StepService(session).insert(
            spec.id,
            {
                "action": "go",
                "command_id": command.id,
                "arguments": [{"parameter_id": parameter.id, "value": 7}],
            },
        )
        loaded = TestSpecificationRepository(session).load(spec.id)
        return resolve_specification(loaded).steps[0].invocation

    async with adb.user_scope(user) as session:
        assert await run(session, build) == "GO 7"
