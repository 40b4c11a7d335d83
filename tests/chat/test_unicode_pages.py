"""Paging conversations and messages with Unicode titles and contents, and timestamps that
tie, loses and repeats nothing: the pages concatenated equal the whole listing in one page
and the order the spec promises (newest first by `updated_at`, messages by `created_at`,
the id breaking every tie), on both backends and both read paths of messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.pagination import MAX_PAGE_SIZE
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tests.paging import ids, page_sizes, pages_needed, paging, unicode_names, walk

BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)
_stamps = st.integers(min_value=0, max_value=2).map(lambda s: BASE + timedelta(seconds=s))


@paging
@given(
    conversations=st.lists(
        st.tuples(st.none() | unicode_names, _stamps, _stamps), min_size=1, max_size=8
    ),
    size=page_sizes,
)
def test_conversations_page_newest_first(
    db: Database, make_user, conversations: list[tuple[str | None, datetime, datetime]], size: int
) -> None:
    user = make_user()
    rows = [
        {"id": new_id(), "title": title, "created_at": min(a, b), "updated_at": max(a, b)}
        for title, a, b in conversations
    ]
    with db.user_scope(user) as session:
        session.execute(insert(Conversation), rows)
        whole = ConversationRepository(session).list(limit=MAX_PAGE_SIZE)
    expected = ids(sorted(whole.items, key=lambda c: (c.updated_at, c.id), reverse=True))
    assert ids(whole.items) == expected
    assert sorted(map(str, ids(whole.items))) == sorted(str(row["id"]) for row in rows)

    def fetch(cursor: str | None) -> Any:
        with db.user_scope(user) as session:
            return ConversationRepository(session).list(limit=size, cursor=cursor)

    assert ids(walk(fetch, at_most=pages_needed(len(rows), size))) == expected


@paging
@given(
    messages=st.lists(st.tuples(unicode_names, _stamps), min_size=1, max_size=9),
    size=page_sizes,
)
def test_messages_page_both_ways_on_both_read_paths(
    db: Database, make_user, messages: list[tuple[str, datetime]], size: int
) -> None:
    user = make_user()
    conversation_id = new_id()
    rows = [
        {
            "id": new_id(),
            "conversation_id": conversation_id,
            "role": MessageRole.USER,
            "content": content,
            "created_at": at,
        }
        for content, at in messages
    ]
    with db.user_scope(user) as session:
        session.execute(insert(Conversation), [{"id": conversation_id, "created_at": BASE}])
        session.execute(insert(Message), rows)
    with db.user_scope(user) as session:
        chronological = ids(ConversationRepository(session).messages(conversation_id))
    by_time = sorted(rows, key=lambda row: (row["created_at"], row["id"]))
    assert chronological == [row["id"] for row in by_time]
    at_most = pages_needed(len(rows), size)

    def oldest_first(cursor: str | None) -> Any:
        with db.user_scope(user) as session:
            return ConversationRepository(session).message_page(
                conversation_id, limit=size, cursor=cursor
            )

    def latest(cursor: str | None) -> Any:
        with db.user_scope(user) as session:
            return _backwards(
                ConversationRepository(session).latest_messages(
                    conversation_id, limit=size, cursor=cursor
                )
            )

    def latest_rows(cursor: str | None) -> Any:
        with db.user_scope(user, read_only=True) as session:
            return _backwards(
                ConversationRepository(session).read_latest_messages(
                    conversation_id, limit=size, cursor=cursor
                )
            )

    assert ids(walk(oldest_first, at_most=at_most)) == chronological
    assert ids(walk(latest, at_most=at_most)) == chronological[::-1]
    assert ids(walk(latest_rows, at_most=at_most)) == chronological[::-1]


def _backwards(page: Any) -> Any:
    """A page of the latest messages is chronological; walking back, newest first."""
    return type(page)(page.items[::-1], page.next_cursor)
