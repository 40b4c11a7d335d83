"""Branches: edits and regenerations add siblings and never change history; the active path
is read from the leaf up, one statement a page; linear conversations are as before."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tasktracker.chat.models import Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import StatementCounter, say, start


def contents(messages: object) -> list[str]:
    return [m.content for m in messages]  # type: ignore[attr-defined]


def _linear(db: Database, user: uuid.UUID, n: int = 4) -> tuple[uuid.UUID, list[uuid.UUID]]:
    conversation = start(db, user)
    ids = say(db, user, conversation, *(f"m{i}" for i in range(n)))
    return conversation, ids


def test_a_linear_conversation_reads_as_before(db: Database, make_user) -> None:
    user = make_user()
    conversation, ids = _linear(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        assert chats.get(conversation).active_leaf_id is None
        assert contents(chats.active_path(conversation)) == ["m0", "m1", "m2", "m3"]
        assert chats.siblings(ids[2]) == ([chats.message(ids[2])], 1)
        child = chats.append(conversation, {"role": "user", "content": "m4", "parent_id": ids[3]})
        assert (child.parent_id, chats.get(conversation).active_leaf_id) == (None, None)


def test_regenerating_an_answer_adds_a_sibling_and_keeps_history(db: Database, make_user) -> None:
    user = make_user()
    conversation, ids = _linear(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        again = chats.add_sibling(ids[3], {"role": "assistant", "content": "m3 again"})
        assert chats.get(conversation).active_leaf_id == again.id
        assert contents(chats.active_path(conversation)) == ["m0", "m1", "m2", "m3 again"]
        found = chats.siblings(again.id)
        assert (contents(found.messages), found.position) == (["m3", "m3 again"], 2)
        assert chats.siblings(ids[3]).position == 1
        # history unchanged: every message is still there, in order
        assert contents(chats.messages(conversation)) == ["m0", "m1", "m2", "m3", "m3 again"]
        follow = chats.append(conversation, {"role": "user", "content": "m4"})
        assert (follow.parent_id, follow.depth) == (again.id, 4)
        chats.switch_leaf(conversation, ids[3])
        assert contents(chats.active_path(conversation)) == ["m0", "m1", "m2", "m3"]


def test_editing_a_prompt_branches_at_its_parent(db: Database, make_user) -> None:
    user = make_user()
    conversation, ids = _linear(db, user)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        edited = chats.add_sibling(ids[0], {"role": "user", "content": "m0 edited"})
        assert (edited.parent_id, edited.depth) == (None, 0)
        assert contents(chats.active_path(conversation)) == ["m0 edited"]
        assert chats.siblings(ids[0]) == (chats.siblings(edited.id).messages, 1)
        assert len(chats.siblings(edited.id).messages) == 2
        branch = chats.append(conversation, {"role": "user", "content": "x", "parent_id": ids[1]})
        assert contents(chats.active_path(conversation)) == ["m0", "m1", "x"]
        assert chats.siblings(branch.id).position == 2


def test_the_active_path_is_keyset_paged_one_statement_a_page(
    db: Database, make_user, count_statements: StatementCounter
) -> None:
    user = make_user()
    conversation, ids = _linear(db, user, 12)
    with db.user_scope(user) as session:
        chats = ConversationRepository(session)
        chats.add_sibling(ids[-1], {"role": "user", "content": "last"})
        seen: list[str] = []
        cursor = None
        while True:
            count_statements.statements.clear()
            page = chats.active_path(conversation, limit=5, cursor=cursor)
            assert len(count_statements.statements) <= 2  # the conversation, then the page
            seen = contents(page) + seen
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [f"m{i}" for i in range(11)] + ["last"]
        with pytest.raises(ValidationError) as caught:
            chats.active_path(conversation, cursor="nonsense")
        assert caught.value.fields == {"cursor"}


def test_bad_branch_operations_are_refused(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    conversation, ids = _linear(db, alice)
    _, other_ids = _linear(db, alice)
    bobs, bob_ids = _linear(db, bob)
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        with pytest.raises(ValidationError) as caught:
            chats.append(conversation, {"role": "user", "content": "x", "parent_id": other_ids[0]})
        assert caught.value.fields == {"parent_id"}
        with pytest.raises(ValidationError):
            chats.switch_leaf(conversation, other_ids[0])
        with pytest.raises(NotFoundError):
            chats.add_sibling(bob_ids[1], {"role": "user", "content": "x"})
        with pytest.raises(NotFoundError):
            chats.siblings(bob_ids[1])
        with pytest.raises(NotFoundError):
            chats.active_path(bobs)
        assert contents(chats.active_path(conversation)) == ["m0", "m1", "m2", "m3"]
        result = {"type": "tool_result", "tool_call_id": "none"}
        with pytest.raises(ValidationError):  # refused after the branch would be made
            chats.add_sibling(ids[1], {"role": "tool", "parts": [result]})
        with pytest.raises(ValidationError):
            chats.append(conversation, {"role": "tool", "parts": [result], "parent_id": ids[0]})
        assert chats.get(conversation).active_leaf_id is None  # still linear: nothing changed
    with db.user_scope(bob) as session:
        assert contents(ConversationRepository(session).active_path(bobs)) == [
            "m0",
            "m1",
            "m2",
            "m3",
        ]


def test_a_deep_branched_conversation_is_deleted_whole(db: Database, make_user) -> None:
    """Deleting a conversation deletes a chain deeper than SQLite's trigger depth (1,000)."""
    user = make_user()
    conversation = start(db, user)
    with db.user_scope(user) as session:
        session.add_all(
            Message(conversation_id=conversation, role=MessageRole.USER, content=f"m{i}")  # type: ignore[call-arg]
            for i in range(1_100)
        )
        chats = ConversationRepository(session)
        session.flush()
        last = chats.latest_messages(conversation, limit=1).items[0]
        chats.switch_leaf(conversation, last.id)
        assert chats.message(last.id).depth == 1_099
        chats.delete(conversation)
        assert session.scalar(select(func.count()).select_from(Message)) == 0
