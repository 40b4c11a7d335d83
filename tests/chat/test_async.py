"""Async callers use the same repository: as the unit's `conversations` (awaited), and
through the `run` bridge for custom sync code."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import IntegrityError, NotFoundError, ValidationError
from tasktracker.db.sessions import AsyncDatabase, run
from tasktracker.units import AsyncDatabase as UnitDatabase


async def _user(adb: AsyncDatabase, password_hash: str) -> uuid.UUID:
    name = f"chat_{uuid.uuid4().hex[:8]}"
    async with adb.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
        session.add(user)
        await session.flush()
        return user.id


def _start(session: Session, title: str, first: str) -> Conversation:
    message = MessageCreate(role=MessageRole.USER, content=first)
    return ConversationRepository(session).start(
        ConversationCreate(title=title, first_message=message)
    )


def _reply(session: Session, conversation_id: uuid.UUID, content: str) -> Message:
    message = MessageCreate(role=MessageRole.ASSISTANT, content=content)
    return ConversationRepository(session).append(conversation_id, message)


async def test_async_chat_round_trip(adb: AsyncDatabase, password_hash: str) -> None:
    alice = await _user(adb, password_hash)
    units = UnitDatabase(adb.bind)
    async with units.user_scope(alice) as unit:
        first = MessageCreate(role=MessageRole.USER, content="hello")
        conversation = await unit.conversations.start(
            ConversationCreate(title="async", first_message=first)
        )
        for i in range(3):
            reply = MessageCreate(role=MessageRole.ASSISTANT, content=f"reply {i}")
            await unit.conversations.append(conversation.id, reply)
    async with units.user_scope(alice) as unit:
        latest = await unit.conversations.latest_messages(conversation.id, limit=2)
        page = await unit.conversations.list()
        loaded = await unit.conversations.get_with_messages(conversation.id)
    assert [m.content for m in latest] == ["reply 1", "reply 2"]
    assert latest.next_cursor is not None
    [summary] = page.items
    assert (summary.id, summary.last_message_preview) == (conversation.id, "reply 2")
    assert summary.updated_at == latest.items[-1].created_at
    assert [m.content for m in loaded.messages] == ["hello", "reply 0", "reply 1", "reply 2"]


async def test_async_assistant_turn(adb: AsyncDatabase, password_hash: str) -> None:
    """A tool round trip, a stream and the model's view, awaited through the unit."""
    alice = await _user(adb, password_hash)
    units = UnitDatabase(adb.bind)
    call = {"type": "tool_call", "tool_call_id": "c1", "tool_name": "create_task"}
    async with units.user_scope(alice) as unit:
        chats = unit.conversations
        conversation = await chats.start({"first_message": {"role": "user", "content": "add"}})
        await chats.append(conversation.id, {"role": "assistant", "parts": [call]})
        result = {"type": "tool_result", "tool_call_id": "c1", "result": {"id": 1}}
        await chats.append(conversation.id, {"role": "tool", "parts": [result]})
        stream = await chats.open_stream(conversation.id)
        await chats.stream_delta(stream.id, "Added.")
        await chats.finish_stream(stream.id, {"output_tokens": 2})
    async with units.user_scope(alice) as unit:
        view = await unit.conversations.messages_for_model(conversation.id)
        usage = await unit.conversations.usage_by_conversation(conversation.id)
    assert [m["role"] for m in view] == ["user", "assistant", "tool", "assistant"]
    assert view[-1]["content"] == "Added."
    assert usage.output_tokens == 2


async def test_async_isolation_and_integrity(adb: AsyncDatabase, password_hash: str) -> None:
    alice, bob = await _user(adb, password_hash), await _user(adb, password_hash)
    async with adb.user_scope(bob) as session:
        bobs = await run(session, _start, "bob's", "private")
    async with adb.user_scope(alice) as session:
        with pytest.raises(NotFoundError):
            await run(session, _reply, bobs.id, "sneaky")
        with pytest.raises(NotFoundError):
            await run(session, lambda s: ConversationRepository(s).delete(bobs.id))
        assert (await run(session, lambda s: ConversationRepository(s).list())).items == []
    with pytest.raises(IntegrityError):
        async with adb.user_scope(alice) as session:
            session.add(Message(conversation_id=bobs.id, role=MessageRole.USER, content="x"))  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="content"):
        async with adb.user_scope(alice) as session:
            started = await run(session, _start, "rolled back", "with the whole unit")
            blank = MessageCreate.model_construct(role=MessageRole.USER, content="   ")
            await run(session, lambda s: ConversationRepository(s).append(started.id, blank))
    async with adb.session() as session:
        counts = (
            await session.execute(select(Message.user_id, func.count()).group_by(Message.user_id))
        ).all()
    assert dict(counts) == {bob: 1}
