"""Sync units carry the same repositories, as attributes of the unit (both backends)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

import tasktracker
from tasktracker import Database as RootDatabase
from tasktracker import db as core
from tasktracker.accounts.models import User
from tasktracker.db import sessions
from tasktracker.db.errors import ConflictError, NotFoundError, ReadOnlyUnitError, ScopeError
from tasktracker.db.tenancy import TaskTrackerSession
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.units import Database, Unit


@pytest.fixture
def udb(engine: Engine) -> Iterator[Database]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield Database(connection)
        finally:
            if transaction.is_active:
                transaction.rollback()


def _user(udb: Database, password_hash: str) -> uuid.UUID:
    name = f"sync_{uuid.uuid4().hex[:8]}"
    with udb.session() as unit:
        user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
        unit.add(user)
        unit.flush()
        return user.id


def test_the_package_root_exports_the_unit_carrying_databases() -> None:
    assert RootDatabase is Database
    assert issubclass(Database, sessions.Database)


def test_the_package_root_exports_every_name_of_the_core() -> None:
    """The root's `__all__` is a literal (for type checkers and linters); it must not fall
    behind the core's (`LockTimeoutError` once did)."""
    assert set(core.__all__) <= set(tasktracker.__all__)
    assert set(tasktracker.__all__) - set(core.__all__) == {"AsyncUnit", "Unit"}


def test_a_unit_carries_its_repositories(udb: Database, password_hash: str) -> None:
    alice, bob = _user(udb, password_hash), _user(udb, password_hash)
    with udb.user_scope(alice) as unit:
        assert isinstance(unit, Unit)
        assert isinstance(unit.tasks, TaskRepository)
        assert unit.tasks is unit.tasks  # built once per unit
        task = unit.tasks.create({"title": "sync", "priority": "high"})
        page = unit.tasks.read_page(TaskFilter(priority=["high"]), limit=50)
        assert [row.id for row in page] == [task.id]
        with pytest.raises(ConflictError), udb.user_scope(alice) as inner:  # a savepoint
            assert inner is unit
            unit.categories.create({"name": "Home"})
            unit.categories.create({"name": "HOME"})
        assert unit.categories.count() == 0
    with udb.user_scope(bob, read_only=True) as unit:
        with pytest.raises(NotFoundError):
            unit.tasks.get(task.id)
        with pytest.raises(ReadOnlyUnitError):
            unit.conversations.start({"title": "refused"})
    with udb.session() as unit, pytest.raises(ScopeError):
        _ = unit.tasks


def test_the_core_database_still_yields_the_core_session(engine: Engine) -> None:
    with engine.connect() as connection:
        with sessions.Database(connection).session() as session:
            assert type(session) is TaskTrackerSession
        connection.rollback()
