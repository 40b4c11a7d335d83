"""A chat write the database refuses undoes only itself; the unit of work goes on."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import MessageCreate
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tests.chat.conftest import start


def test_a_refused_append_leaves_the_conversation_as_stored(
    db: Database, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message and the conversation's new `updated_at` are one write: the database
    refuses the message (its id already exists), and neither stays."""
    user = make_user()
    conversation_id = start(db, user, first="hello")
    elsewhere = start(db, user, first="elsewhere")
    with db.user_scope(user) as session:
        (taken,) = [m.id for m in ConversationRepository(session).messages(elsewhere)]
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        conversation = repository.get_with_messages(conversation_id)  # appends to the list
        stored_at = conversation.updated_at
        real = ConversationRepository._new_message

        def same_id(conversation: Conversation, data: MessageCreate, at: datetime) -> Message:
            message = real(conversation, data, at)
            message.id = taken
            return message

        monkeypatch.setattr(ConversationRepository, "_new_message", staticmethod(same_id))
        with pytest.raises(ConflictError) as caught:
            repository.append(conversation_id, {"role": MessageRole.USER, "content": "again"})
        assert caught.value.field == "id"
        assert conversation.updated_at == stored_at
        assert [m.content for m in conversation.messages] == ["hello"]
        monkeypatch.undo()
        repository.append(conversation_id, {"role": MessageRole.ASSISTANT, "content": "hi"})
    with db.user_scope(user) as session:
        contents = [m.content for m in ConversationRepository(session).messages(conversation_id)]
        assert contents == ["hello", "hi"]
        assert session.scalar(select(func.count()).select_from(Message)) == 3
