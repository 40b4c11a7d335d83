"""Lost updates: last write wins by default; with the `updated_at` the caller read, a stale
write gets `ConflictError` and the first write stands."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository
from tasktracker.tasks.schemas import TaskCreate, TaskUpdate
from tests import databases


def _read(db: Database, user_id: uuid.UUID, task_id: uuid.UUID) -> datetime:
    with db.user_scope(user_id) as session:
        updated_at = TaskRepository(session).get(task_id).updated_at
        assert updated_at is not None
        return updated_at


def _title(db: Database, user_id: uuid.UUID, task_id: uuid.UUID) -> str:
    with db.user_scope(user_id) as session:
        return TaskRepository(session).get(task_id).title


@pytest.fixture
def task(db: Database, make_user) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]
    user_id = make_user()
    with db.user_scope(user_id) as session:
        return user_id, TaskRepository(session).create(TaskCreate(title="original")).id


def test_stale_update_with_expected_updated_at_conflicts(
    db: Database, task: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user_id, task_id = task
    read_by_first, read_by_second = _read(db, user_id, task_id), _read(db, user_id, task_id)
    with db.user_scope(user_id) as session:
        TaskRepository(session).update(
            task_id, TaskUpdate(title="first"), expected_updated_at=read_by_first
        )
    with pytest.raises(ConflictError, match="was changed at"), db.user_scope(user_id) as session:
        TaskRepository(session).update(
            task_id, TaskUpdate(title="second"), expected_updated_at=read_by_second
        )
    assert _title(db, user_id, task_id) == "first"


def test_without_expected_updated_at_last_write_wins(
    db: Database, task: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user_id, task_id = task
    before = _read(db, user_id, task_id)
    for title in ("first", "second"):
        with db.user_scope(user_id) as session:
            TaskRepository(session).update(task_id, TaskUpdate(title=title))
    assert _title(db, user_id, task_id) == "second"
    assert _read(db, user_id, task_id) > before


def test_concurrent_units_of_work_detect_the_lost_update(postgres_committed_url: str) -> None:
    """Both units are open at once and read the task; the first commits its update while
    the second is still open; the second's update must see the new version and conflict.

    The second unit keeps the task it read (as a caller showing it would): its session's
    identity map then holds the old version, whose `updated_at` the locking re-read refreshes.
    PostgreSQL only: SQLite has one writer at a time, and a write from a stale read
    transaction fails there as "busy" before any comparison.
    """
    first_db, second_db = (
        Database.from_settings(databases.test_settings(postgres_committed_url)) for _ in range(2)
    )
    name = f"lost_{uuid.uuid4().hex[:8]}"
    try:
        with first_db.session() as session:
            user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
            session.add(user)
        with first_db.user_scope(user.id) as session:
            task_id = TaskRepository(session).create(TaskCreate(title="original")).id
        with ExitStack() as second_stack:
            second = second_stack.enter_context(second_db.user_scope(user.id))
            with first_db.user_scope(user.id) as first:
                read_by_first = TaskRepository(first).get(task_id).updated_at
                shown_by_second = TaskRepository(second).get(task_id)
                read_by_second = shown_by_second.updated_at
                TaskRepository(first).update(
                    task_id, TaskUpdate(title="first"), expected_updated_at=read_by_first
                )
            with pytest.raises(ConflictError) as info:
                TaskRepository(second).update(
                    task_id, TaskUpdate(title="second"), expected_updated_at=read_by_second
                )
        assert "was changed at" in str(info.value)
        assert shown_by_second.updated_at > read_by_second  # the locking re-read of the version
        with first_db.user_scope(user.id) as session:
            assert session.scalar(select(Task.title).where(Task.id == task_id)) == "first"
    finally:
        first_db.dispose()
        second_db.dispose()


def test_the_check_leaves_loaded_relationships_alone(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    """Only the version is re-read: a conversation's loaded messages stay usable."""
    user_id = make_user()
    first = MessageCreate(role=MessageRole.USER, content="hello")
    with db.user_scope(user_id) as session:
        conversation_id = (
            ConversationRepository(session).start(ConversationCreate(first_message=first)).id
        )
    with db.user_scope(user_id) as session:
        conversation = session.scalars(
            select(Conversation).options(selectinload(Conversation.messages))  # type: ignore[arg-type]
        ).one()
        ConversationRepository(session).rename(
            conversation_id, "renamed", expected_updated_at=conversation.updated_at
        )
        assert [message.content for message in conversation.messages] == ["hello"]
