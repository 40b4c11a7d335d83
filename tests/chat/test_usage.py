"""Token usage summed by conversation, by UTC day or month, and by model: one statement
each, the same answer on both backends, only the scope's own messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tasktracker.chat.models import Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.usage import Period, UsageTotals
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tests.chat.conftest import StatementCounter, start

DAYS = [
    datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
    datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
]


def _seed(db: Database, user: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    first, second = start(db, user), start(db, user)
    with db.user_scope(user) as session:
        for n, (at, conversation, model) in enumerate(
            [(DAYS[0], first, "gpt-x"), (DAYS[1], first, "claude-y"), (DAYS[2], second, "gpt-x")]
        ):
            session.add(
                Message(  # type: ignore[call-arg]
                    conversation_id=conversation,
                    role=MessageRole.ASSISTANT,
                    content=f"answer {n}",
                    created_at=at,
                    model=model,
                    input_tokens=10 * (n + 1),
                    output_tokens=n + 1,
                    cached_tokens=n,
                    reasoning_tokens=0,
                )
            )
        ConversationRepository(session).append(first, {"role": "user", "content": "no usage"})
    return first, second


def test_usage_aggregates(db: Database, make_user, count_statements: StatementCounter) -> None:
    alice, bob = make_user(), make_user()
    first, second = _seed(db, alice)
    _seed(db, bob)
    with db.user_scope(alice) as session:
        chats = ConversationRepository(session)
        count_statements.statements.clear()
        assert chats.usage_by_conversation(first) == UsageTotals(None, 2, 30, 3, 1, 0)
        assert len(count_statements.statements) == 1
        assert chats.usage_by_conversation(second) == UsageTotals(None, 1, 30, 3, 2, 0)
        since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
        assert chats.usage_by_period(Period.DAY, since=since, until=until) == [
            UsageTotals("2026-11-30", 1, 10, 1, 0, 0),
            UsageTotals("2026-12-01", 2, 50, 5, 3, 0),
        ]
        assert chats.usage_by_period(Period.MONTH, since=since, until=until) == [
            UsageTotals("2026-11", 1, 10, 1, 0, 0),
            UsageTotals("2026-12", 2, 50, 5, 3, 0),
        ]
        assert chats.usage_by_period(Period.DAY, since=DAYS[1], until=DAYS[2]) == [
            UsageTotals("2026-12-01", 1, 20, 2, 1, 0)
        ]
        assert chats.usage_by_model() == [
            UsageTotals("claude-y", 1, 20, 2, 1, 0),
            UsageTotals("gpt-x", 2, 40, 4, 2, 0),
        ]
        with pytest.raises(ValidationError) as caught:
            chats.usage_by_period("week", since=since, until=until)  # type: ignore[arg-type]
        assert caught.value.fields == {"period"}
        with pytest.raises(ValidationError) as caught:
            chats.usage_by_period(Period.DAY, since=datetime(2026, 1, 1), until=until)
        assert caught.value.fields == {"since"}
        with pytest.raises(NotFoundError):
            chats.usage_by_conversation(uuid.uuid4())


def test_another_users_conversation_has_no_usage_to_show(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    bobs, _ = _seed(db, bob)
    with db.user_scope(alice) as session, pytest.raises(NotFoundError):
        ConversationRepository(session).usage_by_conversation(bobs)
