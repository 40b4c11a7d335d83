"""Fixtures for the data-layer core tests: units of work that really commit, and two users' data
for the isolation tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tasktracker.chat.models import MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.tasks.repository import TaskRepository
from tests import databases
from tests.conftest import BACKENDS, require_postgres


@pytest.fixture(scope="package", params=BACKENDS)
def committed_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[str]:
    """A migrated database per backend of its own: commits land for real (unlike `db`)."""
    if request.param == "postgresql":
        require_postgres()
    with databases.migrated_database(request.param, sqlite_dir, "ttcore") as url:
        yield url


@pytest.fixture(scope="package")
def postgres_committed_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, for tests of concurrent transactions."""
    require_postgres()
    with databases.fresh_postgres_database("ttconc") as url:
        databases.migrate_to(url)
        yield url


@pytest.fixture
def real_db(committed_url: str) -> Iterator[Database]:
    database = Database.from_settings(databases.test_settings(committed_url))
    yield database
    database.dispose()


@pytest.fixture
async def real_adb(committed_url: str) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase.from_settings(databases.test_settings(committed_url))
    yield database
    await database.dispose()


@dataclass(frozen=True)
class Tenants:
    """Two users with a task and a conversation (one message) each."""

    alice: uuid.UUID
    bob: uuid.UUID
    alices_task: uuid.UUID
    bobs_task: uuid.UUID
    alices_conversation: uuid.UUID
    bobs_conversation: uuid.UUID


@pytest.fixture
def tenants(db: Database, make_user: Callable[[str], uuid.UUID]) -> Tenants:
    alice, bob = make_user("alice"), make_user("bob")
    ids: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    for user, name in ((alice, "alice"), (bob, "bob")):
        with db.user_scope(user) as session:
            task = TaskRepository(session).create({"title": f"{name}'s task"})
            first = MessageCreate(role=MessageRole.USER, content=f"{name}'s secret")
            start = ConversationCreate(title=f"{name}'s chat", first_message=first)
            ids[user] = task.id, ConversationRepository(session).start(start).id
    return Tenants(alice, bob, ids[alice][0], ids[bob][0], ids[alice][1], ids[bob][1])


Snapshot = dict[str, list[tuple[uuid.UUID, str | None]]]


def snapshot(db: Database) -> Snapshot:
    """Every user's rows, read with plain SQL in an unscoped unit of work: (owner, text)."""
    queries = {
        "users": "SELECT id, email FROM users",
        "tasks": "SELECT user_id, title FROM tasks",
        "conversations": "SELECT user_id, title FROM conversations",
        "messages": "SELECT user_id, content FROM messages",
    }
    with db.session() as session:
        return {
            table: sorted(
                (uuid.UUID(str(owner)), value) for owner, value in session.execute(text(sql))
            )
            for table, sql in queries.items()
        }
