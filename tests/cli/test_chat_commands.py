"""`tasktracker chat purge-expired` on a seeded database of each backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from tasktracker.chat.models import Conversation
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.engines import create_engine
from tasktracker.db.sessions import Database
from tests import databases
from tests.cli.conftest import Invoke


def test_purge_expired_deletes_only_expired_conversations(cli: Invoke, cli_url: str) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("db", "seed", "--users", "4", "--tasks-per-user", "40").exit_code == 0
    engine = create_engine(databases.test_settings(cli_url))
    db = Database(engine)
    try:
        with db.session() as session:
            total = session.scalar(select(func.count()).select_from(Conversation)) or 0
            ids = list(session.scalars(select(Conversation.id).limit(total - 1)))
            session.execute(
                update(Conversation)
                .where(Conversation.id.in_(ids))  # type: ignore[attr-defined]
                .values(expires_at=datetime(2026, 1, 1, tzinfo=UTC))
            )
        result = cli("chat", "purge-expired", "--batch", "2")
        assert result.exit_code == 0, result.output
        assert len(ids) >= 2  # more than one batch
        assert f"purged {len(ids)} expired conversation(s)" in result.stdout
        with db.session() as session:
            left = session.scalar(select(func.count()).select_from(Conversation))
        assert left == 1
        assert "purged 0" in cli("chat", "purge-expired").stdout
    finally:
        engine.dispose()


def test_bench_chat_reports_every_row_and_cleans_up(cli: Invoke, cli_url: str) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("bench-chat", "--messages", "10", "--messages", "40", "--rounds", "2")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    keys = [(row["key"], row["messages"]) for row in rows]
    assert keys[:6] == [
        (key, size)
        for size in (10, 40)
        for key in ("append_tool_call", "read_latest_50_fast", "read_active_path_50")
    ]
    assert [key for key, _ in keys[6:]] == [
        "stream_deltas",
        "usage_by_conversation",
        "usage_by_day",
        "usage_by_model",
    ]
    assert rows[6]["per_second"] > 0
    engine = create_engine(databases.test_settings(cli_url))
    try:
        with Database(engine).session() as session:
            assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    finally:
        engine.dispose()


def test_close_abandoned_closes_idle_streams(cli: Invoke, cli_url: str) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("db", "seed", "--users", "1", "--tasks-per-user", "40").exit_code == 0
    engine = create_engine(databases.test_settings(cli_url))
    db = Database(engine)
    try:
        with db.session() as session:
            user, conversation = session.execute(
                select(Conversation.user_id, Conversation.id).limit(1)
            ).one()
        with db.user_scope(user) as session:
            ConversationRepository(session).open_stream(conversation)
        assert "closed 0 " in cli("chat", "close-abandoned").stdout  # idle for less than 10 min
        result = cli("chat", "close-abandoned", "--idle-minutes", "0")
        assert result.exit_code == 0, result.output
        assert "closed 1 abandoned stream(s) as interrupted" in result.stdout
    finally:
        engine.dispose()
