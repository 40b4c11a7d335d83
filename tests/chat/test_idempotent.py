"""Idempotent appends: a client message id names one message of its conversation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tasktracker.chat.models import Message
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tests.chat.conftest import start


def test_an_exact_retry_returns_the_stored_message(db: Database, make_user) -> None:
    user = make_user()
    conversation, other = start(db, user), start(db, user)
    data = {"role": "user", "content": "Add milk", "client_message_id": "m-1"}
    with db.user_scope(user) as session:
        first = ConversationRepository(session).append(conversation, data)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        updated_at = chats.get(conversation).updated_at
        again = chats.append(conversation, data)
        assert again.id == first.id
        assert chats.get(conversation).updated_at == updated_at  # nothing written
        as_parts = {**data, "content": None, "parts": [{"type": "text", "text": "Add milk"}]}
        with pytest.raises(ConflictError):  # the same text, but as parts: not the same message
            chats.append(conversation, {k: v for k, v in as_parts.items() if v is not None})
        chats.append(other, data)  # another conversation: another message
        assert session.scalar(select(func.count()).select_from(Message)) == 2


@pytest.mark.parametrize(
    "changed", [{"content": "Add eggs"}, {"role": "assistant"}], ids=["content", "role"]
)
def test_a_retry_with_different_content_is_a_conflict(
    db: Database, make_user, changed: dict[str, str]
) -> None:
    user = make_user()
    conversation = start(db, user)
    data = {"role": "user", "content": "Add milk", "client_message_id": "m-1"}
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        stored = chats.append(conversation, data)
        with pytest.raises(ConflictError) as caught:
            chats.append(conversation, {**data, **changed})
        assert caught.value.field == "client_message_id"
        assert [m.id for m in chats.messages(conversation)] == [stored.id]
        chats.append(conversation, {"role": "user", "content": "unit still usable"})
