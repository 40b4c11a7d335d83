"""Factories for the test-engineering tests: a small bench most tests start from."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy.orm import Session

from tasktracker.db.sessions import Database
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    Requirement,
    RequirementTestLink,
    TestSpecification,
    TestStep,
    TestStepArgument,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository


@dataclass(frozen=True)
class Bench:
    """One user's workspace: two parameters, two commands, a specification, a requirement."""

    user: uuid.UUID
    channel: uuid.UUID  # integer 1..4, no default
    voltage: uuid.UUID  # float 0..30 V, default variant nominal_12V
    nominal: uuid.UUID  # voltage variant 12, the default
    low: uuid.UUID  # voltage variant 9.5
    set_voltage: uuid.UUID  # SET_VOLTAGE(channel, supply_voltage)
    measure: uuid.UUID  # MEASURE_CURRENT(channel, optional supply_voltage)
    spec: uuid.UUID  # TS-001, no steps yet
    requirement: uuid.UUID  # REQ-001


def build_bench(db: Database, user: uuid.UUID) -> Bench:
    with db.user_scope(user) as session:
        return fill_bench(session)


def fill_bench(session: Session) -> Bench:
    """The bench, written in the scope's own unit of work (also through `run`, async)."""
    user = scope_user_id(session)
    parameters = ParameterRepository(session)
    channel = parameters.create(
        {"name": "channel", "data_type": "integer", "min_value": 1, "max_value": 4}
    )
    voltage = parameters.create(
        {
            "name": "supply_voltage",
            "data_type": "float",
            "unit": "V",
            "min_value": 0,
            "max_value": 30,
            "variants": [
                {"name": "nominal_12V", "value": "12", "is_default": True},
                {"name": "low_battery", "value": "9.5"},
            ],
        }
    )
    nominal, low = (
        next(v.id for v in voltage.variants if v.name == name)
        for name in ("nominal_12V", "low_battery")
    )
    commands = GenericCommandRepository(session)
    set_voltage = commands.create(
        {
            "name": "SET_VOLTAGE",
            "syntax": "SET_VOLTAGE {channel} {supply_voltage}",
            "signature": [{"parameter_id": channel.id}, {"parameter_id": voltage.id}],
        }
    )
    measure = commands.create(
        {
            "name": "MEASURE_CURRENT",
            "signature": [
                {"parameter_id": channel.id},
                {"parameter_id": voltage.id, "is_required": False},
            ],
        }
    )
    spec = TestSpecificationRepository(session).create({"key": "TS-001", "title": "Power up"})
    requirement = RequirementRepository(session).create(
        {"key": "REQ-001", "title": "Power", "statement": "The unit shall power up."}
    )
    return Bench(
        user,
        channel.id,
        voltage.id,
        nominal,
        low,
        set_voltage.id,
        measure.id,
        spec.id,
        requirement.id,
    )


@pytest.fixture
def bench(db: Database, make_user: Callable[[], uuid.UUID]) -> Bench:
    return build_bench(db, make_user())


def uid(value: uuid.UUID, backend: str) -> Any:
    """A UUID as a plain-SQL parameter (SQLite stores UUIDs as 32 hex digits)."""
    return value.hex if backend == "sqlite" else value


@contextmanager
def counted_statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements sent on `connection` inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


TABLES = (
    Requirement,
    RequirementTestLink,
    TestSpecification,
    TestStep,
    TestStepArgument,
    CommandCategory,
    ParameterCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterVariant,
)
"""Every test-engineering table."""


def row_counts(db: Database, user: uuid.UUID) -> dict[str, int]:
    """Rows per test-engineering table in `user`'s scope."""
    with db.user_scope(user) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[attr-defined]
            for model in TABLES
        }
