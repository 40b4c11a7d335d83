"""Starting, appending, listing, renaming and deleting conversations."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from tasktracker.chat import repository as chat_repository
from tasktracker.chat.models import Conversation, MessageRole
from tasktracker.chat.repository import PREVIEW_LENGTH, ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import ConflictError, NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import StatementCounter, say, sql_id, start


def _get(db: Database, user: uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
    with db.user_scope(user) as session:
        return ConversationRepository(session).get(conversation_id)


def test_start_with_a_first_message(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        conversation = ConversationRepository(session).start(
            ConversationCreate(
                title="Plan my week",
                first_message=MessageCreate(role=MessageRole.USER, content="What is due?"),
            )
        )
        [message] = conversation.messages
    assert (message.role, message.content) == (MessageRole.USER, "What is due?")
    assert message.conversation_id == conversation.id
    assert message.user_id == user
    assert conversation.created_at == conversation.updated_at == message.created_at
    with db.user_scope(user) as session:
        stored = ConversationRepository(session).messages(conversation.id)
    assert [m.id for m in stored] == [message.id]


def test_start_without_a_message(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        conversation = ConversationRepository(session).start(ConversationCreate())
        assert conversation.messages == []
        assert conversation.title is None
    with db.user_scope(user) as session:
        assert ConversationRepository(session).messages(conversation.id) == []


def test_appending_moves_updated_at_to_the_new_message(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, first="hello")
    before = _get(db, user, conversation_id).updated_at
    [message_id] = say(db, user, conversation_id, "again", role=MessageRole.ASSISTANT)
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        conversation = repository.get(conversation_id)
        last = repository.messages(conversation_id)[-1]
    assert conversation.updated_at > before
    assert last.id == message_id
    assert conversation.updated_at == last.created_at
    assert conversation.created_at < conversation.updated_at


def test_updated_at_strictly_increases_even_when_the_clock_stands_still(
    db: Database, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    conversation_id = start(db, user, first="hello")
    frozen = _get(db, user, conversation_id).updated_at
    monkeypatch.setattr(chat_repository, "utc_now", lambda: frozen)
    stamps = []
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        for i in range(20):
            repository.append(conversation_id, MessageCreate(role=MessageRole.USER, content=str(i)))
            stamps.append(repository.get(conversation_id).updated_at)
        repository.rename(conversation_id, "renamed")
        stamps.append(repository.get(conversation_id).updated_at)
    assert all(a < b for a, b in itertools.pairwise([frozen, *stamps]))
    with db.user_scope(user) as session:
        contents = [m.content for m in ConversationRepository(session).messages(conversation_id)]
    assert contents == ["hello", *map(str, range(20))]


def test_list_is_most_recent_first_with_the_last_message_preview(db: Database, make_user) -> None:
    user = make_user()
    first = start(db, user, "first", first="one")
    second = start(db, user, "second")
    third = start(db, user, "third", first="three")
    long_reply = "x" * (PREVIEW_LENGTH + 50)
    say(db, user, first, long_reply, role=MessageRole.ASSISTANT)
    with db.user_scope(user) as session:
        page = ConversationRepository(session).list()
    assert [s.id for s in page] == [first, third, second]
    assert page.next_cursor is None
    by_id = {s.id: s for s in page}
    assert by_id[first].last_message_preview == "x" * PREVIEW_LENGTH
    assert by_id[first].last_message_role == MessageRole.ASSISTANT
    assert by_id[first].last_message_at == by_id[first].updated_at
    assert (by_id[third].last_message_preview, by_id[third].last_message_role) == (
        "three",
        MessageRole.USER,
    )
    assert by_id[second].last_message_preview is None
    assert by_id[second].last_message_at is None


def test_list_is_one_query(db: Database, make_user, count_statements: StatementCounter) -> None:
    user = make_user()
    for i in range(12):
        say(db, user, start(db, user, f"c{i}", first="hi"), "there", "again")
    with db.user_scope(user) as session:
        count_statements.statements.clear()
        page = ConversationRepository(session).list(limit=10)
        assert len(count_statements.statements) == 1
    assert len(page) == 10
    assert all(s.last_message_preview == "again" for s in page)


def test_list_pages_by_keyset(db: Database, make_user) -> None:
    user = make_user()
    ids = [start(db, user, f"c{i}", first="hi") for i in range(7)]
    say(db, user, ids[2], "bump")
    expected = [ids[2], *reversed([i for i in ids if i != ids[2]])]
    seen, cursor = [], None
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        while True:
            page = repository.list(limit=3, cursor=cursor)
            seen.extend(s.id for s in page)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected
        with pytest.raises(ValidationError) as caught:
            repository.list(cursor="not-a-cursor")
        assert caught.value.fields == {"cursor"}
        with pytest.raises(ValidationError):
            repository.message_page(ids[0], cursor=cursor)  # a cursor of another listing


def test_rename_and_clear_the_title(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, "old", first="hi")
    before = _get(db, user, conversation_id)
    with db.user_scope(user) as session:
        renamed = ConversationRepository(session).rename(conversation_id, "new")
    assert renamed.title == "new"
    assert renamed.updated_at > before.updated_at
    with db.user_scope(user) as session:
        ConversationRepository(session).rename(conversation_id, None)
    assert _get(db, user, conversation_id).title is None


@pytest.mark.parametrize("title", ["", "   ", "t" * 201, "nul\x00"])
def test_bad_titles_are_refused_and_change_nothing(db: Database, make_user, title: str) -> None:
    user = make_user()
    conversation_id = start(db, user, "keep")
    before = _get(db, user, conversation_id)
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ConversationRepository(session).rename(conversation_id, title)
    assert caught.value.fields == {"title"}
    after = _get(db, user, conversation_id)
    assert (after.title, after.updated_at) == ("keep", before.updated_at)


def test_rename_with_a_stale_version_is_a_conflict(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, "v1")
    read = _get(db, user, conversation_id).updated_at
    say(db, user, conversation_id, "a message moves updated_at")
    with pytest.raises(ConflictError), db.user_scope(user) as session:
        ConversationRepository(session).rename(conversation_id, "v2", expected_updated_at=read)
    current = _get(db, user, conversation_id)
    assert current.title == "v1"
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        repository.rename(conversation_id, "v2", expected_updated_at=current.updated_at)
    assert _get(db, user, conversation_id).title == "v2"


def test_delete(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, first="bye")
    with db.user_scope(user) as session:
        ConversationRepository(session).delete(conversation_id)
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        for call in (
            lambda: repository.get(conversation_id),
            lambda: repository.messages(conversation_id),
            lambda: repository.delete(conversation_id),
            lambda: repository.rename(conversation_id, "x"),
        ):
            with pytest.raises(NotFoundError):
                call()
        assert list(repository.list()) == []


def test_plain_sql_update_moves_updated_at_on_postgresql(
    db: Database, make_user, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the updated_at trigger is PostgreSQL only (on SQLite the ORM sets it)")
    user = make_user()
    conversation_id = start(db, user, "t")
    before = _get(db, user, conversation_id)
    far_past = datetime(2000, 1, 1, tzinfo=UTC)
    with db.session() as session:
        session.execute(
            text("UPDATE conversations SET title = 'u', updated_at = :past WHERE id = :c"),
            {"past": far_past, "c": sql_id(conversation_id, backend)},
        )
        row = session.execute(
            select(Conversation.created_at, Conversation.updated_at).where(
                Conversation.id == conversation_id
            )
        ).one()
    assert row.created_at == before.created_at
    assert row.updated_at > before.updated_at
