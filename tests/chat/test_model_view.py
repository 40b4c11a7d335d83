"""`messages_for_model`: a recorded multi-tool conversation, replayed in the shape
chat-completion APIs take; summaries stand in for the turns they cover."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tasktracker.chat.replay import SUMMARY_PREFIX
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import start

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "tool_conversation.json").read_text())


def _record(chats: ConversationRepository, conversation: uuid.UUID) -> list[uuid.UUID]:
    ids = []
    for step in FIXTURE["messages"]:
        if "append" in step:
            ids.append(chats.append(conversation, step["append"]).id)
            continue
        stream = chats.open_stream(conversation).id
        for delta in step["stream"]["deltas"]:
            chats.stream_delta(stream, delta)
        ids.append(chats.finish_stream(stream, step["stream"]["finish"]).id)
    return ids


def test_the_recorded_conversation_replays_as_the_api_takes_it(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        _record(ConversationRepository(session), conversation)
    with db.user_scope(user) as session:
        view = ConversationRepository(session).messages_for_model(conversation)
    assert view == FIXTURE["expected"]
    json.dumps(view)  # ready to send


def test_a_streaming_message_and_an_unanswered_call_are_left_out(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user, first="Add milk")
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        call = {"type": "tool_call", "tool_call_id": "c1", "tool_name": "create_task"}
        chats.append(conversation, {"role": "assistant", "parts": [call]})
        chats.open_stream(conversation)
        assert chats.messages_for_model(conversation) == [{"role": "user", "content": "Add milk"}]


def test_a_summary_stands_in_for_the_turns_it_covers(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        ids = _record(chats, conversation)
        summary = {
            "covers_until_id": ids[4],
            "text": "Ada added Buy milk; Pay rent not found.",
            "model": "gpt-4.1-mini",
            "input_tokens": 900,
            "output_tokens": 12,
        }
        chats.add_summary(conversation, summary)
        view = chats.messages_for_model(conversation)
    expected: list[dict[str, Any]] = FIXTURE["expected"]
    assert view[0] == expected[0]  # the system prompt stays
    assert view[1] == {"role": "system", "content": SUMMARY_PREFIX + summary["text"]}
    assert view[2:] == expected[6:]


def test_a_summary_off_the_active_path_is_not_used(db: Database, make_user) -> None:
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        ids = _record(chats, conversation)
        chats.add_summary(conversation, {"covers_until_id": ids[-1], "text": "Everything."})
        chats.add_sibling(ids[-1], {"role": "assistant", "content": "Only Buy milk is open."})
        view = chats.messages_for_model(conversation)
    assert view[-1] == {"role": "assistant", "content": "Only Buy milk is open."}
    assert view[:-1] == FIXTURE["expected"][:-1]


def test_bad_summaries_are_refused(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    mine, theirs = start(db, alice, first="hi"), start(db, bob, first="hi")
    with db.user_scope(bob) as session:
        bobs_message = ConversationRepository(session).messages(theirs)[0].id
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        with pytest.raises(ValidationError) as caught:
            chats.add_summary(mine, {"covers_until_id": bobs_message, "text": "x"})
        assert caught.value.fields == {"covers_until_id"}
        first = chats.messages(mine)[0].id
        with pytest.raises(ValidationError) as caught:
            chats.add_summary(mine, {"covers_until_id": first, "text": "  "})
        assert caught.value.fields == {"text"}
        with pytest.raises(NotFoundError):
            chats.add_summary(theirs, {"covers_until_id": first, "text": "x"})
        assert chats.messages_for_model(mine) == [{"role": "user", "content": "hi"}]
