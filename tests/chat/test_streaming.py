"""A streaming assistant message: opened, grown by one-row UPDATEs, finished once, then
immutable; abandoned streams listed and closed as interrupted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tasktracker.chat.models import MessageStatus
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import ConflictError, NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import StatementCounter, start


def test_a_stream_grows_then_finishes_and_is_immutable(
    db: Database, make_user, count_statements: StatementCounter
) -> None:
    user = make_user()
    conversation = start(db, user, first="What is due?")
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        stream = chats.open_stream(conversation, {"model": "gpt-x", "provider": "openai"})
        assert (stream.status, stream.content) == (MessageStatus.STREAMING, "")
        updated_at = chats.get(conversation).updated_at
        count_statements.statements.clear()
        chats.stream_delta(stream.id, "Three ")
        assert len(count_statements.statements) == 1
        assert count_statements.statements[0].lstrip().upper().startswith("UPDATE MESSAGES")
        chats.stream_delta(stream.id, "tasks.")
        assert chats.message(stream.id).content == "Three tasks."
        assert chats.get(conversation).updated_at == updated_at  # the conversation untouched
        done = chats.finish_stream(
            stream.id, {"output_tokens": 3, "finish_reason": "stop", "latency_ms": 800}
        )
        assert done.status is MessageStatus.COMPLETE
        assert done.parts == [{"type": "text", "text": "Three tasks."}]
        assert (done.model, done.output_tokens, done.finish_reason) == ("gpt-x", 3, "stop")
        with pytest.raises(ConflictError) as caught:
            chats.stream_delta(stream.id, "more")
        assert caught.value.field == "status"
        with pytest.raises(ConflictError):
            chats.finish_stream(stream.id, {"status": "error"})
        assert chats.message(stream.id).content == "Three tasks."  # unit still usable


def test_a_stream_can_finish_with_its_own_parts(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user, first="Add milk")
    call = {"type": "tool_call", "tool_call_id": "c1", "tool_name": "create_task"}
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        stream = chats.open_stream(conversation)
        chats.stream_delta(stream.id, "On it.")
        parts = [{"type": "text", "text": "On it."}, call]
        done = chats.finish_stream(stream.id, {"parts": parts})
        assert done.parts == [*parts[:1], {**call, "arguments": {}}]
        chats.append(
            conversation,
            {
                "role": "tool",
                "parts": [{"type": "tool_result", "tool_call_id": "c1", "result": {"id": 1}}],
            },
        )


def test_bad_deltas_are_refused_and_change_nothing(
    db: Database, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasktracker.db.settings import get_settings

    user, other = make_user(), make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        stream = ConversationRepository(session).open_stream(conversation).id
    monkeypatch.setenv("MESSAGE_MAX_LENGTH", "10")
    get_settings.cache_clear()
    try:
        with db.user_scope(user) as session:
            chats = ConversationRepository(session)
            chats.stream_delta(stream, "0123456789")
            with pytest.raises(ValidationError) as caught:
                chats.stream_delta(stream, "x")
            assert caught.value.fields == {"content"}
            for bad in ("", "nul\x00"):
                with pytest.raises(ValidationError) as caught:
                    chats.stream_delta(stream, bad)
                assert caught.value.fields == {"text"}
            with pytest.raises(ValidationError):
                chats.finish_stream(stream, {"status": "streaming"})
            assert chats.message(stream).content == "0123456789"
    finally:
        monkeypatch.delenv("MESSAGE_MAX_LENGTH")
        get_settings.cache_clear()
    with db.user_scope(other) as session:
        chats = ConversationRepository(session)
        with pytest.raises(NotFoundError):
            chats.stream_delta(stream, "sneaky")
        with pytest.raises(NotFoundError):
            chats.finish_stream(stream)
        assert chats.abandoned_streams(timedelta(0)) == []


def test_abandoned_streams_are_listed_and_closed_in_batches(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        streams = [chats.open_stream(conversation).id for _ in range(3)]
        chats.stream_delta(streams[0], "partial")
        done = chats.open_stream(conversation).id
        chats.finish_stream(done)
        assert chats.abandoned_streams(timedelta(minutes=5)) == []
        idle = [m.id for m in chats.abandoned_streams(timedelta(0))]
        assert sorted(idle) == sorted(streams)
        assert chats.close_abandoned_streams(timedelta(0), limit=2) == 2
        assert chats.close_abandoned_streams(timedelta(0), limit=2) == 1
        assert chats.close_abandoned_streams(timedelta(0)) == 0
        with pytest.raises(ValidationError) as caught:
            chats.close_abandoned_streams(timedelta(0), limit=0)
        assert caught.value.fields == {"limit"}
        closed = [chats.message(i) for i in streams]
        assert {m.status for m in closed} == {MessageStatus.INTERRUPTED}
        assert closed[0].content == "partial"
        with pytest.raises(ConflictError):
            chats.stream_delta(streams[1], "too late")


def test_opening_a_stream_is_idempotent_by_client_id(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        first = chats.open_stream(conversation, {"client_message_id": "s-1"})
        again = chats.open_stream(conversation, {"client_message_id": "s-1"})
        assert again.id == first.id
        chats.append(conversation, {"role": "user", "content": "hi", "client_message_id": "u-1"})
        with pytest.raises(ConflictError):
            chats.open_stream(conversation, {"client_message_id": "u-1"})


def test_every_users_abandoned_streams_are_closed_batch_by_batch(db: Database, make_user) -> None:
    from tasktracker.chat.housekeeping import close_abandoned_streams

    users = [make_user(), make_user()]
    streams = []
    for user in users:
        conversation = start(db, user)
        with db.user_scope(user) as session:
            streams.append(ConversationRepository(session).open_stream(conversation).id)
    assert close_abandoned_streams(db, timedelta(minutes=5)) == 0  # not idle long enough
    assert close_abandoned_streams(db, timedelta(0), batch=1) == 2
    for user, stream in zip(users, streams, strict=True):
        with db.user_scope(user) as session:
            assert (
                ConversationRepository(session).message(stream).status is MessageStatus.INTERRUPTED
            )
