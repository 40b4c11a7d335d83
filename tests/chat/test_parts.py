"""Typed parts: stored and read back as given, `content` derived, tool calls and results
matched within their conversation; bad parts refused naming the part, nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from tasktracker.chat.models import Message, ToolCall
from tasktracker.chat.parts import loaded
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import MessageRead
from tasktracker.db.errors import ConflictError, NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import start

SHA = "ab" * 32
CALL = {
    "type": "tool_call",
    "tool_call_id": "call_1",
    "tool_name": "create_task",
    "arguments": {"title": "Buy milk", "due": None},
}


def assistant(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"role": "assistant", "parts": list(parts), **extra}


def result(call_id: str = "call_1", status: str = "ok") -> dict[str, Any]:
    part = {"type": "tool_result", "tool_call_id": call_id, "status": status, "result": {"id": 7}}
    return {"role": "tool", "parts": [part]}


def counts(db: Database, user: uuid.UUID) -> tuple[int, int]:
    with db.user_scope(user) as session:
        messages = session.scalar(select(func.count()).select_from(Message))
        calls = session.scalar(select(func.count()).select_from(ToolCall))
        return messages or 0, calls or 0


def test_every_part_type_round_trips_and_content_is_the_text(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    parts = [
        {"type": "reasoning", "text": "The user wants a task."},
        {"type": "text", "text": "Creating it."},
        CALL,
        {"type": "text", "text": "Done."},
        {"type": "data", "name": "task_card", "data": {"id": 7, "tags": ["a"]}},
        {
            "type": "file",
            "name": "plan.pdf",
            "media_type": "application/pdf",
            "size": 1234,
            "sha256": SHA,
            "storage_key": "u/1/plan.pdf",
        },
    ]
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        system = chats.append(conversation, {"role": "system", "content": "Be brief."})
        stored = chats.append(conversation, assistant(*parts))
        answer = chats.append(conversation, result())
    with db.user_scope(user) as session:
        messages = ConversationRepository(session).messages(conversation)
    assert [m.id for m in messages] == [system.id, stored.id, answer.id]
    assert messages[1].content == "Creating it.\n\nDone."
    assert messages[1].parts == parts
    assert messages[2].content == ""  # a tool result has no text
    assert loaded(messages[0].parts, messages[0].content)[0].text == "Be brief."
    assert MessageRead.model_validate(messages[1]).parts == messages[1].parts
    with db.user_scope(user) as session:
        call = session.scalars(select(ToolCall)).one()
    assert (call.tool_call_id, call.message_id, call.result_message_id) == (
        "call_1",
        stored.id,
        answer.id,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(result("call_9"), "parts.0.tool_call_id", id="answers-no-call"),
        pytest.param({"role": "user", "parts": [CALL]}, "parts.0", id="call-by-user"),
        pytest.param(assistant(result()["parts"][0]), "parts.0", id="result-by-assistant"),
        pytest.param(assistant(CALL, CALL), "parts.1.tool_call_id", id="call-id-twice"),
        pytest.param(assistant({"type": "image", "url": "x"}), "parts.0", id="unknown-type"),
        pytest.param(
            assistant({**CALL, "tool_name": " "}), "parts.0.tool_call.tool_name", id="blank-name"
        ),
        pytest.param(
            assistant(
                {
                    "type": "file",
                    "name": "a",
                    "media_type": "text/plain",
                    "size": -1,
                    "sha256": "nothex",
                    "storage_key": "k",
                }
            ),
            "parts.0.file.size parts.0.file.sha256",
            id="bad-file",
        ),
        pytest.param({"role": "assistant", "content": "x", "parts": []}, "value", id="both"),
        pytest.param({"role": "assistant", "parts": []}, "value", id="no-parts"),
        pytest.param(
            {
                "role": "tool",
                "parts": [{"type": "tool_result", "tool_call_id": "c", "status": "maybe"}],
            },
            "parts.0.tool_result.status",
            id="bad-status",
        ),
    ],
)
def test_bad_parts_are_refused_naming_the_part_and_nothing_is_written(
    db: Database, make_user, data: dict[str, Any], field: str
) -> None:
    user = make_user()
    conversation = start(db, user, first="hello")
    before = counts(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        with pytest.raises(ValidationError) as caught:
            chats.append(conversation, data)
        assert caught.value.fields == set(field.split())
        chats.append(conversation, {"role": "user", "content": "still usable"})
    assert counts(db, user) == (before[0] + 1, before[1])


def test_a_call_id_is_unique_in_its_conversation_and_answered_once(db: Database, make_user) -> None:
    user = make_user()
    first, second = start(db, user), start(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        chats.append(first, assistant(CALL))
        with pytest.raises(ConflictError) as caught:
            chats.append(first, assistant(CALL))
        assert caught.value.field == "tool_call_id"
        chats.append(second, assistant(CALL))  # another conversation may reuse it
        chats.append(first, result())
        with pytest.raises(ValidationError, match="unanswered"):
            chats.append(first, result())
    assert counts(db, user) == (3, 2)


def test_a_result_cannot_answer_another_users_call(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    bobs = start(db, bob)
    with db.user_scope(bob) as session:
        ConversationRepository(session).append(bobs, assistant(CALL))
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        with pytest.raises(NotFoundError):
            chats.append(bobs, result())
        mine = chats.start({"title": "mine"}).id
        with pytest.raises(ValidationError):
            chats.append(mine, result())  # bob's call_1 is not visible
        assert session.scalar(select(func.count()).select_from(ToolCall)) == 0
    with db.user_scope(bob) as session:
        assert session.scalars(select(ToolCall)).one().result_message_id is None


def test_start_can_begin_with_a_system_prompt(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        first = {"role": "system", "parts": [{"type": "text", "text": "You manage tasks."}]}
        conversation = chats.start({"first_message": first})
        assert conversation.messages[0].content == "You manage tasks."
        with pytest.raises(ValidationError) as caught:
            chats.start({"first_message": {"role": "user", "parts": [CALL]}})
        assert caught.value.fields == {"first_message.parts.0"}


def test_the_fast_read_path_returns_the_parts_as_stored(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user, first="hi")
    with db.user_scope(user) as session:
        ConversationRepository(session).append(conversation, assistant(CALL))
    with db.user_scope(user, read_only=True) as session:
        rows = ConversationRepository(session).read_latest_messages(conversation).items
    assert [(row.parts, row.status) for row in rows] == [(None, "complete"), ([CALL], "complete")]
