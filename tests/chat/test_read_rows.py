"""`read_latest_messages` (read rows, compiled) gives exactly what `latest_messages` gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from tasktracker.accounts.models import User
from tasktracker.chat.models import Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate, MessageRow
from tasktracker.db.errors import NotFoundError, TaskTrackerError, ValidationError
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.db.types import new_id
from tests.chat.conftest import StatementCounter, say, start

SAME_INSTANT = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def as_row(message: Message) -> MessageRow:
    return MessageRow(*(getattr(message, name) for name in MessageRow._fields))


def _walk_both(
    db: Database, user: uuid.UUID, conversation_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    """Page backwards through both paths, asserting each page and cursor agree; the ids of
    the whole conversation, oldest first."""
    everything: list[uuid.UUID] = []
    cursor = None
    for _ in range(1000):
        with db.user_scope(user) as session:
            repository = ConversationRepository(session)
            orm = repository.latest_messages(conversation_id, limit=limit, cursor=cursor)
            fast = repository.read_latest_messages(conversation_id, limit=limit, cursor=cursor)
        assert fast.items == [as_row(message) for message in orm]
        assert fast.next_cursor == orm.next_cursor
        everything = [row.id for row in fast] + everything
        if fast.next_cursor is None:
            return everything
        cursor = fast.next_cursor
    raise AssertionError("the cursors never reached the start")


@pytest.fixture
def chat(db: Database, make_user) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """A conversation of 23 messages (one of them the assistant's), beside another
    conversation of the same user and one of another user (never to show up)."""
    user, other = make_user(), make_user()
    conversation_id = start(db, user, first="m00")
    ids = say(db, user, conversation_id, *(f"m{i:02}" for i in range(1, 23, 2)))
    ids += say(db, user, conversation_id, "reply", role=MessageRole.ASSISTANT)
    ids += say(db, user, conversation_id, *(f"n{i:02}" for i in range(10)))
    say(db, user, start(db, user, first="elsewhere"), "more elsewhere")
    say(db, other, start(db, other, first="not yours"), "still not yours")
    with db.user_scope(user) as session:
        first = ConversationRepository(session).messages(conversation_id)[0].id
    return user, conversation_id, [first, *ids]


@pytest.mark.parametrize("limit", [1, 5, 7, 23, 50])
def test_read_latest_messages_matches_latest_messages(db: Database, chat, limit: int) -> None:
    user, conversation_id, ids = chat
    assert _walk_both(db, user, conversation_id, limit) == ids


def test_the_first_page_is_the_latest_messages_oldest_first(db: Database, chat) -> None:
    user, conversation_id, ids = chat
    with db.user_scope(user) as session:
        page = ConversationRepository(session).read_latest_messages(conversation_id, limit=5)
    assert [row.id for row in page] == ids[-5:]
    assert [row.content for row in page] == [f"n{i:02}" for i in range(5, 10)]
    assert page.next_cursor is not None


def test_message_rows_equal_the_orm_messages_field_by_field(db: Database, chat) -> None:
    user, conversation_id, _ = chat
    with db.user_scope(user) as session:
        rows = ConversationRepository(session).read_latest_messages(conversation_id).items
    with db.user_scope(user) as session:
        messages = ConversationRepository(session).messages(conversation_id)
    assert rows == [as_row(message) for message in messages]
    for row in rows:
        assert type(row) is MessageRow
        assert type(row.id) is uuid.UUID
        assert type(row.conversation_id) is uuid.UUID
        assert row.conversation_id == conversation_id
        assert type(row.role) is MessageRole
        assert row.created_at.tzinfo is UTC
    assert {row.role for row in rows} == {MessageRole.USER, MessageRole.ASSISTANT}


def test_equal_timestamps_are_ordered_by_id_on_both_paths(db: Database, make_user) -> None:
    """Rows inserted at one instant, in shuffled id order: the id breaks every tie."""
    user = make_user()
    conversation_id = start(db, user)
    ids = sorted(new_id() for _ in range(12))
    rows: list[dict[str, Any]] = [
        {
            "id": message_id,
            "conversation_id": conversation_id,
            "role": MessageRole.USER,
            "content": f"tie {n}",
            "created_at": SAME_INSTANT,
        }
        for n, message_id in enumerate(ids)
    ]
    with db.user_scope(user) as session:
        session.execute(insert(Message), rows[::-1])
    assert _walk_both(db, user, conversation_id, 5) == ids


def test_an_empty_conversation_is_an_empty_page(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user)
    with db.user_scope(user) as session:
        page = ConversationRepository(session).read_latest_messages(conversation_id)
    assert (page.items, page.next_cursor) == ([], None)


def test_a_page_past_the_first_message_is_empty(db: Database, make_user) -> None:
    """A cursor whose older messages are gone since: an empty page, not NotFoundError."""
    user = make_user()
    conversation_id = start(db, user, first="older")
    say(db, user, conversation_id, "newer")
    with db.user_scope(user) as session:
        cursor = ConversationRepository(session).read_latest_messages(conversation_id, limit=1)
        assert [row.content for row in cursor] == ["newer"]
        assert cursor.next_cursor is not None
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        session.delete(repository.messages(conversation_id)[0])
        page = repository.read_latest_messages(conversation_id, cursor=cursor.next_cursor)
    assert (page.items, page.next_cursor) == ([], None)


def test_an_unknown_conversation_is_not_found(db: Database, chat) -> None:
    user, *_ = chat
    for unknown in (new_id(), uuid.uuid4(), uuid.UUID(int=0)):
        with pytest.raises(NotFoundError), db.user_scope(user) as session:
            ConversationRepository(session).read_latest_messages(unknown)


@pytest.fixture
def two_users_chat(db: Database, make_user) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    alice, bob = make_user(), make_user()
    start(db, alice, first="alice's own")
    bobs_conversation = start(db, bob, first="bob's")
    say(db, bob, bobs_conversation, "secret")
    return alice, bob, bobs_conversation


def test_another_users_conversation_is_not_found(db: Database, two_users_chat) -> None:
    alice, bob, bobs_conversation = two_users_chat
    with pytest.raises(NotFoundError), db.user_scope(alice) as session:
        ConversationRepository(session).read_latest_messages(bobs_conversation)
    with pytest.raises(NotFoundError), db.user_scope(alice) as session:
        ConversationRepository(session).latest_messages(bobs_conversation)
    with db.user_scope(bob) as session:
        assert [
            m.content
            for m in ConversationRepository(session).read_latest_messages(bobs_conversation)
        ] == ["bob's", "secret"]


def test_a_cursor_from_another_listing_is_refused(db: Database, chat) -> None:
    user, conversation_id, _ = chat
    with db.user_scope(user) as session:
        oldest_first = ConversationRepository(session).message_page(conversation_id, limit=2)
        conversations = ConversationRepository(session).list(limit=1)
    for cursor in (oldest_first.next_cursor, conversations.next_cursor, "bm9wZQ", "%%%"):
        assert cursor is not None
        with pytest.raises(ValidationError, match="cursor"), db.user_scope(user) as session:
            ConversationRepository(session).read_latest_messages(conversation_id, cursor=cursor)


def test_a_full_page_is_one_statement(
    db: Database, chat, count_statements: StatementCounter
) -> None:
    """Only an empty page needs a second statement (is the conversation visible at all?)."""
    user, conversation_id, _ = chat
    with db.user_scope(user, read_only=True) as session:
        repository = ConversationRepository(session)
        repository.read_latest_messages(conversation_id, limit=5)
        assert len(count_statements.statements) == 1, count_statements.statements
        with pytest.raises(NotFoundError):
            repository.read_latest_messages(new_id())
        assert len(count_statements.statements) == 3, count_statements.statements


@pytest.mark.parametrize("bad_id", ["1 OR 1=1", 42])
def test_an_id_that_is_not_a_uuid_is_the_packages_error(db: Database, chat, bad_id: object) -> None:
    """`latest_messages` surfaces any such id as a TaskTrackerError on both backends."""
    user, *_ = chat
    with pytest.raises(TaskTrackerError), db.user_scope(user) as session:
        ConversationRepository(session).latest_messages(bad_id)  # type: ignore[arg-type]
    with pytest.raises(TaskTrackerError), db.user_scope(user) as session:
        ConversationRepository(session).read_latest_messages(bad_id)  # type: ignore[arg-type]


async def test_async_read_latest_messages(adb: AsyncDatabase, password_hash: str) -> None:
    async with adb.session() as session:
        user = User(email="rows@example.com", username="rows_async", password_hash=password_hash)
        session.add(user)
        await session.flush()
    async with adb.user_scope(user.id) as session:
        conversation = await run(
            session, lambda s: ConversationRepository(s).start(ConversationCreate(title="a"))
        )
        for i in range(6):
            message = MessageCreate(role=MessageRole.USER, content=f"a{i}")
            await run(
                session,
                lambda s, m=message: ConversationRepository(s).append(conversation.id, m),
            )
    async with adb.user_scope(user.id, read_only=True) as session:
        fast = await run(
            session,
            lambda s: ConversationRepository(s).read_latest_messages(conversation.id, limit=4),
        )
        orm = await run(
            session, lambda s: ConversationRepository(s).latest_messages(conversation.id, limit=4)
        )
        with pytest.raises(NotFoundError):
            await run(session, lambda s: ConversationRepository(s).read_latest_messages(new_id()))
    assert [row.content for row in fast] == ["a2", "a3", "a4", "a5"]
    assert fast.items == [as_row(message) for message in orm]
    assert fast.next_cursor == orm.next_cursor
