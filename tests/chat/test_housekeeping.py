"""Archived, pinned, bounded properties and expiry; the batched purge (repository, and
across users for the command line), cascading to messages, tool calls and summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tasktracker.chat.housekeeping import purge_batch, purge_expired
from tasktracker.chat.models import Conversation, Message, ToolCall, TurnSummary
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import start

PAST = datetime(2026, 1, 1, tzinfo=UTC)


def test_settings_are_set_listed_and_bounded(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        kept = chats.start({"title": "kept", "pinned": True, "properties": {"project": "p1"}})
        old = chats.start({"title": "old"})
        chats.update_settings(old.id, {"archived": True})
        assert [s.title for s in chats.list(archived=False)] == ["kept"]
        assert [s.title for s in chats.list(archived=True)] == ["old"]
        assert {s.title for s in chats.list()} == {"kept", "old"}
        assert chats.get(kept.id).properties == {"project": "p1"}
        assert chats.list(archived=False).items[0].pinned is True
        for bad, field in (
            ({"properties": {"x": "y" * 5000}}, "properties"),
            ({"expires_at": datetime(2026, 1, 1)}, "expires_at"),  # naive
            ({"archived": "maybe"}, "archived"),
            ({"title": "no"}, "title"),
        ):
            with pytest.raises(ValidationError) as caught:
                chats.update_settings(kept.id, bad)
            assert caught.value.fields == {field}
        chats.update_settings(kept.id, {"properties": None})
        assert chats.get(kept.id).properties is None
        assert chats.get(kept.id).pinned is True  # fields not given are unchanged


def test_the_purge_deletes_expired_conversations_in_batches(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        expired = [chats.start({"title": f"e{i}", "expires_at": PAST}).id for i in range(3)]
        chats.append(
            expired[0],
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "tool_call_id": "c", "tool_name": "t"}],
            },
        )
        message = chats.messages(expired[0])[0].id
        chats.add_summary(expired[0], {"covers_until_id": message, "text": "s"})
        later = chats.start({"title": "later", "expires_at": datetime.now(UTC) + timedelta(days=1)})
        never = start(db, alice, first="never expires")
    bobs = start(db, bob, first="bob's")
    with db.user_scope(bob) as session:
        ConversationRepository(session).update_settings(bobs, {"expires_at": PAST})
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        assert chats.purge_expired(batch=2) == 2
        assert chats.purge_expired(batch=2) == 1
        assert chats.purge_expired(batch=2) == 0
        assert chats.purge_expired() == 0  # the default batch is a valid one
        with pytest.raises(ValidationError) as caught:
            chats.purge_expired(batch=0)
        assert caught.value.fields == {"batch"}
        with pytest.raises(NotFoundError):
            chats.get(expired[0])
        assert {c.id for c in chats.list()} == {later.id, never}
        for model in (ToolCall, TurnSummary):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    with db.user_scope(bob) as session:  # another user's expired conversation: not alice's to purge
        assert ConversationRepository(session).get(bobs).id == bobs
    assert purge_expired(db, batch=1) == 1  # the command line's: every user, batch by batch
    with db.session() as session:
        remaining = session.scalars(select(Conversation.id).where(Conversation.user_id == bob))
        assert list(remaining) == []
        assert purge_batch(session, datetime.now(UTC)) == 0
        left = select(func.count()).select_from(Message).where(Message.user_id == alice)
        assert session.scalar(left) == 1
