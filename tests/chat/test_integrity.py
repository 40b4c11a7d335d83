"""Foreign keys and cascades, enforced by the database (so they hold for plain SQL too)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import MessageCreate
from tasktracker.db.errors import IntegrityError, NotFoundError
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tests.chat.conftest import say, sql_id, start


def _count(db: Database, model: type, **where: object) -> int:
    with db.session() as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return session.scalar(statement) or 0


INSERT_MESSAGE = text(
    "INSERT INTO messages (user_id, id, conversation_id, role, content) "
    "VALUES (:u, :i, :c, 'user', 'hello')"
)


def test_a_message_needs_an_existing_conversation(db: Database, make_user, backend: str) -> None:
    user = make_user()
    missing = new_id()
    with pytest.raises(IntegrityError), db.user_scope(user) as session:
        session.add(Message(conversation_id=missing, role=MessageRole.USER, content="hello"))
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(
            INSERT_MESSAGE,
            {
                "u": sql_id(user, backend),
                "i": sql_id(new_id(), backend),
                "c": sql_id(missing, backend),
            },
        )
    with pytest.raises(NotFoundError), db.user_scope(user) as session:
        ConversationRepository(session).append(missing, _hello())
    assert _count(db, Message) == 0


def test_a_message_cannot_point_at_another_users_conversation(
    db: Database, make_user, backend: str
) -> None:
    alice, bob = make_user(), make_user()
    bobs = start(db, bob, "bob's")
    with pytest.raises(IntegrityError), db.user_scope(alice) as session:
        session.add(Message(conversation_id=bobs, role=MessageRole.USER, content="sneaky"))
    # Even unscoped plain SQL is refused: the key is (user_id, conversation_id).
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(
            INSERT_MESSAGE,
            {
                "u": sql_id(alice, backend),
                "i": sql_id(new_id(), backend),
                "c": sql_id(bobs, backend),
            },
        )
    assert _count(db, Message) == 0


def test_deleting_a_conversation_deletes_its_messages_via_the_orm(db: Database, make_user) -> None:
    user = make_user()
    doomed, kept = start(db, user, first="one"), start(db, user, first="keep")
    say(db, user, doomed, *(f"m{i}" for i in range(20)))
    with db.user_scope(user) as session:
        ConversationRepository(session).delete(doomed)  # messages not loaded: the database cascades
    assert _count(db, Message, conversation_id=doomed) == 0
    assert _count(db, Message, conversation_id=kept) == 1

    loaded = start(db, user, first="loaded")
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        conversation = repository.get_with_messages(loaded)  # loaded: the ORM deletes them itself
        assert len(conversation.messages) == 1
        session.delete(conversation)
    assert _count(db, Message, conversation_id=loaded) == 0
    assert _count(db, Conversation) == 1


def test_removing_a_message_from_the_collection_deletes_it(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, first="first")
    say(db, user, conversation_id, "second")
    with db.user_scope(user) as session:
        conversation = ConversationRepository(session).get_with_messages(conversation_id)
        conversation.messages.pop(0)
    with db.user_scope(user) as session:
        assert [m.content for m in ConversationRepository(session).messages(conversation_id)] == [
            "second"
        ]


def test_deleting_a_conversation_by_plain_sql_deletes_its_messages(
    db: Database, make_user, backend: str
) -> None:
    user = make_user()
    doomed, kept = start(db, user, first="one"), start(db, user, first="keep")
    say(db, user, doomed, "two", "three")
    with db.session() as session:
        session.execute(
            text("DELETE FROM conversations WHERE id = :c"), {"c": sql_id(doomed, backend)}
        )
    assert _count(db, Message, conversation_id=doomed) == 0
    assert _count(db, Message, conversation_id=kept) == 1


def test_deleting_a_user_deletes_their_conversations_and_messages(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    start(db, bob, first="bob's")
    say(db, alice, start(db, alice, first="hi"), "more")  # same (test) transaction as the delete
    assert _count(db, Message, user_id=alice) == 2
    with db.session() as session:
        UserRepository(session).delete(alice)
    assert _count(db, Conversation, user_id=alice) == _count(db, Message, user_id=alice) == 0
    assert _count(db, Message, user_id=bob) == 1


def _hello() -> MessageCreate:
    return MessageCreate(role=MessageRole.USER, content="hello")
