"""User A can neither see, list, append to, rename nor delete user B's conversations."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import delete, func, select, update

from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import MessageCreate
from tasktracker.db.errors import NotFoundError
from tasktracker.db.sessions import Database
from tests.chat.conftest import say, start

ATTEMPTS: dict[str, Callable[[ConversationRepository, uuid.UUID], object]] = {
    "get": lambda r, c: r.get(c),
    "get_with_messages": lambda r, c: r.get_with_messages(c),
    "messages": lambda r, c: r.messages(c),
    "message_page": lambda r, c: r.message_page(c),
    "latest_messages": lambda r, c: r.latest_messages(c),
    "append": lambda r, c: r.append(c, MessageCreate(role=MessageRole.USER, content="sneaky")),
    "rename": lambda r, c: r.rename(c, "hijacked"),
    "delete": lambda r, c: r.delete(c),
}


def _snapshot(db: Database, user: uuid.UUID, conversation_id: uuid.UUID) -> tuple[object, ...]:
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        conversation = repository.get(conversation_id)
        contents = [m.content for m in repository.messages(conversation_id)]
    return conversation.title, conversation.updated_at, contents


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=str)
def test_another_users_conversation_is_not_found(db: Database, make_user, attempt: str) -> None:
    alice, bob = make_user(), make_user()
    bobs = start(db, bob, "bob's", first="private")
    say(db, bob, bobs, "also private")
    before = _snapshot(db, bob, bobs)
    with pytest.raises(NotFoundError), db.user_scope(alice) as session:
        ATTEMPTS[attempt](ConversationRepository(session), bobs)
    assert _snapshot(db, bob, bobs) == before


def test_lists_and_plain_queries_show_only_the_users_own_rows(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    alices = start(db, alice, "alice's", first="mine")
    bobs = start(db, bob, "bob's", first="his")
    say(db, bob, bobs, "newer than alice's")
    with db.user_scope(alice) as session:
        assert [s.id for s in ConversationRepository(session).list()] == [alices]
        # No filter written: the scope adds it, also to joins and subqueries.
        assert session.scalars(select(Message.content)).all() == ["mine"]
        joined = (
            select(func.count())
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
        )
        assert session.scalar(joined) == 1
        assert session.scalar(select(func.count()).where(Message.conversation_id == bobs)) == 0


def test_bulk_statements_in_a_scope_leave_other_users_alone(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    start(db, alice, "alice's", first="mine")
    bobs = start(db, bob, "bob's", first="his")
    before = _snapshot(db, bob, bobs)
    with db.user_scope(alice) as session:
        session.execute(update(Conversation).values(title="everyone's?"))
        session.execute(delete(Message))
        session.execute(delete(Conversation))
    assert _snapshot(db, bob, bobs) == before
    with db.user_scope(alice) as session:
        assert list(ConversationRepository(session).list()) == []
