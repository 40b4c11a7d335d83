"""The assistant chat's numbers: appending to and reading the last 50 messages of a short
and a long conversation with tool parts (the cost must not grow with the conversation),
streaming deltas per second on one message, and the usage aggregates.

    tasktracker bench-chat --messages 100 --messages 10000

A user of its own (`chat-bench@example.com`) gets one conversation per size, loaded
through the bulk path (every third message an assistant tool call, the next its result,
with usage) and then branched (its active leaf set, so appends name a parent and the path
is read by the recursive CTE: the costlier case), and is deleted at the end. Each timed
call is one unit of work, as an application makes it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete

from tasktracker.accounts.models import User
from tasktracker.bench.dataset import analyze
from tasktracker.bench.timing import Stats
from tasktracker.chat.models import Conversation, Message
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.usage import Period
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id

BENCH_EMAIL = "chat-bench@example.com"
PAGE = 50


def _rows(user: uuid.UUID, conversation: uuid.UUID, count: int) -> Iterator[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(count):
        kind = n % 3
        call = {"type": "tool_call", "tool_call_id": f"c{n - 1}", "tool_name": "list_tasks"}
        parts: Any = [{"type": "text", "text": f"message {n}"}]
        role = "user"
        if kind == 1:
            role, parts = "assistant", [{**call, "tool_call_id": f"c{n}", "arguments": {}}]
        elif kind == 2:
            role = "tool"
            parts = [{"type": "tool_result", "tool_call_id": f"c{n - 1}", "result": {"n": n}}]
        yield {
            "user_id": user,
            "conversation_id": conversation,
            "role": role,
            "content": f"message {n}" if kind == 0 else "",
            "parts": parts,
            "model": "bench-model" if kind == 1 else None,
            "input_tokens": 100 if kind == 1 else None,
            "output_tokens": 10 if kind == 1 else None,
            "created_at": start + timedelta(seconds=n),
        }


def _load(db: Database, sizes: Sequence[int]) -> tuple[uuid.UUID, dict[int, uuid.UUID]]:
    with db.session() as session:
        session.execute(delete(User).where(User.email == BENCH_EMAIL))  # type: ignore[arg-type]
        user = User(email=BENCH_EMAIL, username="chat_bench", password_hash="x" * 20)
        session.add(user)
        session.flush()
        conversations = {size: new_id() for size in sizes}
        last = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=max(sizes))
        connection = session.connection()
        bulk_insert(
            connection,
            Conversation,
            ({"user_id": user.id, "id": c, "created_at": last} for c in conversations.values()),
        )
        for size, conversation in conversations.items():
            bulk_insert(connection, Message, _rows(user.id, conversation, size))
    with db.user_scope(user.id) as session:  # branched: appends and the path take parents
        chats = ConversationRepository(session)
        for conversation in conversations.values():
            chats.switch_leaf(
                conversation, chats.latest_messages(conversation, limit=1).items[0].id
            )
    return user.id, conversations


def run(engine: Engine, sizes: Sequence[int], rounds: int = 200) -> list[dict[str, Any]]:
    """The rows of the chat benchmark (medians and p95 in ms; deltas per second)."""
    db = Database(engine)
    user, conversations = _load(db, sizes)
    analyze(engine)  # planner statistics of the loaded rows, as the main benchmark does
    rows: list[dict[str, Any]] = []
    try:
        for size, conversation in conversations.items():
            rows.extend(_per_size(db, user, conversation, size, rounds))
        rows.append(_deltas(db, user, conversations[min(sizes)], rounds))
        rows.extend(_usage(db, user, conversations[max(sizes)], rounds))
    finally:
        with db.session() as session:
            session.execute(delete(User).where(User.id == user))  # type: ignore[arg-type]
    return rows


def _row(key: str, size: int | None, stats: Stats, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "messages": size,
        "median_ms": round(stats.median * 1000, 3),
        "p95_ms": round(stats.p95 * 1000, 3),
        **extra,
    }


def _per_size(
    db: Database, user: uuid.UUID, conversation: uuid.UUID, size: int, rounds: int
) -> list[dict[str, Any]]:
    def append(i: int) -> object:
        part = {"type": "tool_call", "tool_call_id": f"bench-{size}-{i}", "tool_name": "t"}
        with db.user_scope(user) as session:
            return ConversationRepository(session).append(
                conversation, {"role": "assistant", "parts": [part]}
            )

    def read_fast(i: int) -> object:
        with db.user_scope(user, read_only=True) as session:
            return ConversationRepository(session).read_latest_messages(conversation, limit=PAGE)

    def read_path(i: int) -> object:
        with db.user_scope(user, read_only=True) as session:
            return ConversationRepository(session).active_path(conversation, limit=PAGE)

    return [
        _row("append_tool_call", size, Stats.timed(append, rounds)),
        _row("read_latest_50_fast", size, Stats.timed(read_fast, rounds)),
        _row("read_active_path_50", size, Stats.timed(read_path, rounds)),
    ]


def _deltas(db: Database, user: uuid.UUID, conversation: uuid.UUID, rounds: int) -> dict[str, Any]:
    with db.user_scope(user) as session:
        stream = ConversationRepository(session).open_stream(conversation).id

    def delta(i: int) -> None:
        with db.user_scope(user) as session:
            ConversationRepository(session).stream_delta(stream, "token ")

    began = time.perf_counter()
    stats = Stats.timed(delta, rounds * 5)
    elapsed = time.perf_counter() - began
    return _row("stream_deltas", None, stats, per_second=round(rounds * 5 / elapsed))


def _usage(
    db: Database, user: uuid.UUID, conversation: uuid.UUID, rounds: int
) -> list[dict[str, Any]]:
    since, until = datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)

    def unit(call: Callable[[ConversationRepository], object]) -> Callable[[int], object]:
        def timed(i: int) -> object:
            with db.user_scope(user, read_only=True) as session:
                return call(ConversationRepository(session))

        return timed

    return [
        _row(
            "usage_by_conversation",
            None,
            Stats.timed(unit(lambda c: c.usage_by_conversation(conversation)), rounds),
        ),
        _row(
            "usage_by_day",
            None,
            Stats.timed(
                unit(lambda c: c.usage_by_period(Period.DAY, since=since, until=until)), rounds
            ),
        ),
        _row("usage_by_model", None, Stats.timed(unit(lambda c: c.usage_by_model()), rounds)),
    ]
