"""Concurrent writers on a database where commits land: 20 retries of one client message id
store one message, and concurrent deltas of one stream are all kept (both backends)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from tasktracker.accounts.models import User
from tasktracker.chat.models import Message, MessageStatus
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.sessions import Database
from tests import databases
from tests.conftest import BACKENDS, require_postgres

THREADS = 20
T = TypeVar("T")


@pytest.fixture(scope="module", params=BACKENDS)
def real_db(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        require_postgres()
    with databases.migrated_database(request.param, sqlite_dir, "ttchat") as url:
        database = Database.from_settings(databases.test_settings(url))
        yield database
        database.dispose()


@pytest.fixture
def user(real_db: Database) -> uuid.UUID:
    name = f"chat_{uuid.uuid4().hex[:10]}"
    with real_db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
        session.add(user)
    return user.id


def in_threads(work: Callable[[int], T]) -> list[T | Exception]:
    results: list[T | Exception] = [RuntimeError("did not finish")] * THREADS
    barrier = threading.Barrier(THREADS)

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_twenty_concurrent_retries_of_one_client_id_store_one_message(
    real_db: Database, user: uuid.UUID
) -> None:
    with real_db.user_scope(user) as session:
        conversation = ConversationRepository(session).start({"title": "retries"}).id
    data = {"role": "user", "content": "Add milk to my list", "client_message_id": "c-1"}

    def work(i: int) -> uuid.UUID:
        with real_db.user_scope(user) as session:
            return ConversationRepository(session).append(conversation, data).id

    results = in_threads(work)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(set(results)) == 1
    with real_db.user_scope(user) as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_concurrent_deltas_of_one_stream_are_all_kept(real_db: Database, user: uuid.UUID) -> None:
    with real_db.user_scope(user) as session:
        chats = ConversationRepository(session)
        conversation = chats.start({"title": "stream"}).id
        stream = chats.open_stream(conversation).id
    deltas_each = 5

    def work(i: int) -> None:
        for n in range(deltas_each):
            with real_db.user_scope(user) as session:
                ConversationRepository(session).stream_delta(stream, f"<{i}.{n}>")

    assert [r for r in in_threads(work) if isinstance(r, Exception)] == []
    with real_db.user_scope(user) as session:
        chats = ConversationRepository(session)
        finished = chats.finish_stream(stream, {"output_tokens": 100})
    pieces = finished.content.replace("><", ">|<").split("|")
    assert sorted(pieces) == sorted(
        f"<{i}.{n}>" for i in range(THREADS) for n in range(deltas_each)
    )
    for i in range(THREADS):  # each writer's deltas in its own order
        mine = [p for p in pieces if p.startswith(f"<{i}.")]
        assert mine == [f"<{i}.{n}>" for n in range(deltas_each)]
    assert finished.status is MessageStatus.COMPLETE
