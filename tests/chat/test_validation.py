"""Bad messages are refused with a field-level error, and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import ValidationError as SchemaError
from sqlalchemy import text

from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.settings import get_settings
from tasktracker.db.types import new_id
from tests.chat.conftest import sql_id, start

BAD_MESSAGES = [
    pytest.param({"role": "user", "content": ""}, "content", id="empty"),
    pytest.param({"role": "user", "content": " \t\n "}, "content", id="blank"),
    pytest.param({"role": "user", "content": "x" * 10_001}, "content", id="too-long"),
    pytest.param({"role": "user", "content": "nul\x00byte"}, "content", id="nul"),
    pytest.param({"role": "user", "content": "lone \ud800 surrogate"}, "content", id="surrogate"),
    pytest.param({"role": "robot", "content": "hi"}, "role", id="wrong-role"),
    pytest.param({"role": "", "content": "hi"}, "role", id="no-role"),
]


@pytest.fixture
def message_max_length(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`MESSAGE_MAX_LENGTH=20` for this test (the setting is read when validating)."""
    monkeypatch.setenv("MESSAGE_MAX_LENGTH", "20")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("MESSAGE_MAX_LENGTH")
    get_settings.cache_clear()


@pytest.mark.parametrize(("fields", "field"), BAD_MESSAGES)
def test_schema_refuses_bad_messages(fields: dict[str, str], field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        MessageCreate(**fields)
    assert [error["loc"][0] for error in caught.value.errors()] == [field]
    with pytest.raises(SchemaError):
        ConversationCreate(first_message=fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "field"), [p for p in BAD_MESSAGES if p.id not in {"empty", "blank"}]
)
def test_model_refuses_bad_messages(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Message(conversation_id=new_id(), **fields)  # type: ignore[arg-type,call-arg]
    assert caught.value.fields == {field}


@pytest.mark.parametrize(("fields", "field"), BAD_MESSAGES)
def test_repository_refuses_bad_messages_and_writes_nothing(
    db: Database, make_user, fields: dict[str, str], field: str
) -> None:
    user = make_user()
    conversation_id = start(db, user, first="hello")
    before = _state(db, user, conversation_id)
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ConversationRepository(session).append(conversation_id, fields)  # raw input
    assert caught.value.fields == {field}
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ConversationRepository(session).start({"title": "new", "first_message": fields})
    assert caught.value.fields == {f"first_message.{field}"}
    unchecked = MessageCreate.model_construct(**fields)  # a caller that skipped validation
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ConversationRepository(session).append(conversation_id, unchecked)
    assert caught.value.fields == {field}
    with pytest.raises(ValidationError), db.user_scope(user) as session:
        repository = ConversationRepository(session)
        repository.start(ConversationCreate.model_construct(first_message=unchecked))
    assert _state(db, user, conversation_id) == before
    with db.user_scope(user) as session:
        assert [s.id for s in ConversationRepository(session).list()] == [conversation_id]


def test_unknown_fields_are_refused(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user)
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        ConversationRepository(session).append(
            conversation_id, {"role": "user", "content": "hi", "user_id": str(uuid.uuid4())}
        )
    assert caught.value.fields == {"user_id"}


def test_the_maximum_itself_is_accepted(db: Database, make_user) -> None:
    user = make_user()
    longest = "é" * 10_000  # characters, not bytes
    conversation_id = start(db, user, first=longest)
    with db.user_scope(user) as session:
        assert ConversationRepository(session).messages(conversation_id)[0].content == longest


@pytest.mark.usefixtures("message_max_length")
def test_the_maximum_is_a_runtime_setting(db: Database, make_user) -> None:
    user = make_user()
    conversation_id = start(db, user, first="x" * 20)
    with pytest.raises(SchemaError):
        MessageCreate(role=MessageRole.USER, content="x" * 21)
    with pytest.raises(ValidationError, match="at most 20 characters") as caught:
        Message(conversation_id=conversation_id, role=MessageRole.USER, content="x" * 21)  # type: ignore[call-arg]
    assert caught.value.fields == {"content"}


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        pytest.param("'user', '   '", "content", id="blank"),
        pytest.param("'user', ''", "content", id="empty"),
        pytest.param("'robot', 'hi'", "role", id="wrong-role"),
    ],
)
def test_database_refuses_bad_messages_from_plain_sql(
    db: Database, make_user, backend: str, columns: str, field: str
) -> None:
    user = make_user()
    conversation_id = start(db, user)
    with pytest.raises(ValidationError) as caught, db.session() as session:
        session.execute(
            text(
                "INSERT INTO messages (user_id, id, conversation_id, role, content) "
                f"VALUES (:u, :i, :c, {columns})"
            ),
            {
                "u": sql_id(user, backend),
                "i": sql_id(new_id(), backend),
                "c": sql_id(conversation_id, backend),
            },
        )
    assert caught.value.fields == {field}


def test_the_content_column_itself_is_unbounded(db: Database, make_user, backend: str) -> None:
    """The limit is a setting: no length CHECK, so raising it needs no migration."""
    user = make_user()
    conversation_id = start(db, user)
    huge = "y" * 50_000
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO messages (user_id, id, conversation_id, role, content) "
                "VALUES (:u, :i, :c, 'assistant', :content)"
            ),
            {
                "u": sql_id(user, backend),
                "i": sql_id(new_id(), backend),
                "c": sql_id(conversation_id, backend),
                "content": huge,
            },
        )
    with db.user_scope(user) as session:
        assert ConversationRepository(session).messages(conversation_id)[0].content == huge


def test_database_refuses_a_blank_title_from_plain_sql(
    db: Database, make_user, backend: str
) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as caught, db.session() as session:
        session.execute(
            text("INSERT INTO conversations (user_id, id, title) VALUES (:u, :i, '  ')"),
            {"u": sql_id(user, backend), "i": sql_id(new_id(), backend)},
        )
    assert caught.value.fields == {"title"}
    with pytest.raises(ValidationError):
        Conversation(title=" ")  # type: ignore[call-arg]


def _state(db: Database, user: uuid.UUID, conversation_id: uuid.UUID) -> tuple[object, ...]:
    with db.user_scope(user) as session:
        repository = ConversationRepository(session)
        messages = [(m.id, m.content) for m in repository.messages(conversation_id)]
        return repository.get(conversation_id).updated_at, messages
