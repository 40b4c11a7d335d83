from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tasktracker.db.sessions import Database
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate


@pytest.fixture
def two_users(make_user: Callable[[], uuid.UUID]) -> tuple[uuid.UUID, uuid.UUID]:
    return make_user(), make_user()


def add_task(db: Database, user_id: uuid.UUID, **fields: object) -> uuid.UUID:
    with db.user_scope(user_id) as session:
        return TaskRepository(session).create(TaskCreate(**{"title": "a task", **fields})).id


def add_category(
    db: Database, user_id: uuid.UUID, name: str = "Work", **fields: object
) -> uuid.UUID:
    with db.user_scope(user_id) as session:
        return CategoryRepository(session).create(CategoryCreate(name=name, **fields)).id
