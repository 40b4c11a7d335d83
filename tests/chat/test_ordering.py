"""Messages come back in chronological order: `created_at`, then `id`."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from tasktracker.chat.models import Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tests.chat.conftest import say, sql_id, start

SAME_INSTANT = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def _contents(db: Database, user: uuid.UUID, conversation_id: uuid.UUID) -> list[str]:
    with db.user_scope(user) as session:
        return [m.content for m in ConversationRepository(session).messages(conversation_id)]


def test_rapid_appends_come_back_in_append_order(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, first="m000")
    expected = [f"m{i:03}" for i in range(150)]
    say(db, user, conversation_id, *expected[1:])
    assert _contents(db, user, conversation_id) == expected
    with db.user_scope(user) as session:
        stamps = [m.created_at for m in ConversationRepository(session).messages(conversation_id)]
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_messages_of_the_same_millisecond_are_ordered_by_id(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user)
    expected = [f"m{i:03}" for i in range(200)]
    with db.user_scope(user) as session:
        for content in expected:  # one instant for all: the UUIDv7 ids keep creation order
            session.add(
                Message(
                    conversation_id=conversation_id,
                    role=MessageRole.ASSISTANT,
                    content=content,
                    created_at=SAME_INSTANT,
                )
            )
    assert _contents(db, user, conversation_id) == expected
    with db.user_scope(user) as session:
        relationship = ConversationRepository(session).get_with_messages(conversation_id).messages
        assert [m.content for m in relationship] == expected
        assert {m.created_at for m in relationship} == {SAME_INSTANT}


def test_plain_sql_rows_with_equal_timestamps_are_ordered_by_id(
    db: Database, make_user, backend: str
) -> None:
    user = make_user()
    conversation_id = start(db, user)
    ids = sorted(new_id() for _ in range(50))
    shuffled = random.Random(7).sample(ids, len(ids))
    stamp = SAME_INSTANT if backend == "postgresql" else "2030-01-02 03:04:05.678000"
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO messages (user_id, id, conversation_id, role, content, created_at) "
                "VALUES (:u, :i, :c, 'user', :content, :at)"
            ),
            [
                {
                    "u": sql_id(user, backend),
                    "i": sql_id(i, backend),
                    "c": sql_id(conversation_id, backend),
                    "content": str(i),
                    "at": stamp,
                }
                for i in shuffled
            ],
        )
    assert _contents(db, user, conversation_id) == [str(i) for i in ids]


def test_paging_oldest_first_and_latest_first_cover_everything_in_order(
    db: Database, make_user
) -> None:
    user = make_user()
    conversation_id = start(db, user, first="m00")
    expected = [f"m{i:02}" for i in range(23)]
    say(db, user, conversation_id, *expected[1:])
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        forward, cursor = [], None
        while True:
            page = repository.message_page(conversation_id, limit=5, cursor=cursor)
            forward.extend(m.content for m in page)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert forward == expected

        latest = repository.latest_messages(conversation_id, limit=5)
        assert [m.content for m in latest] == expected[-5:]  # the latest five, oldest of them first
        backward, cursor = [], None
        while True:
            page = repository.latest_messages(conversation_id, limit=5, cursor=cursor)
            backward = [m.content for m in page] + backward
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert backward == expected
        assert [
            m.content for m in repository.latest_messages(conversation_id, limit=100)
        ] == expected
