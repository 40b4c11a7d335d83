from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection, Engine, event

from tasktracker.chat.models import MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.sessions import Database


def start(
    db: Database, user_id: uuid.UUID, title: str | None = None, first: str | None = None
) -> uuid.UUID:
    """A committed conversation (optionally with a first user message); returns its id."""
    first_message = None if first is None else MessageCreate(role=MessageRole.USER, content=first)
    with db.user_scope(user_id) as session:
        data = ConversationCreate(title=title, first_message=first_message)
        return ConversationRepository(session).start(data).id


def say(
    db: Database,
    user_id: uuid.UUID,
    conversation_id: uuid.UUID,
    *contents: str,
    role: MessageRole = MessageRole.USER,
) -> list[uuid.UUID]:
    """Append messages, one unit of work; returns their ids in order."""
    with db.user_scope(user_id) as session:
        repository = ConversationRepository(session)
        return [
            repository.append(conversation_id, MessageCreate(role=role, content=c)).id
            for c in contents
        ]


def sql_id(value: uuid.UUID, backend: str) -> object:
    """A UUID as each backend stores it for plain SQL (SQLite: 32 hex characters)."""
    return value.hex if backend == "sqlite" else value


class StatementCounter:
    """Counts the statements sent on a connection (to prove "one query")."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)


@pytest.fixture
def count_statements(engine: Engine):  # type: ignore[no-untyped-def]
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
