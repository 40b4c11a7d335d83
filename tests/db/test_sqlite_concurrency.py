"""Concurrency guarantees hold on SQLite as on PostgreSQL: 20 threads (or tasks), each with
units of work of its own on a real database file or server, and plain-SQL counts after.

Every unit below reads before it writes, the case a deferred SQLite transaction cannot
survive once another writer has committed (it failed with "database is locked").
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import ColumnElement, Table, func, select

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.models import Conversation, Message, MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db import engines
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import ConflictError, LockTimeoutError
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.testspec.models import TestStep
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tests import databases

THREADS = 20
BOUND_SECONDS = 60.0
T = TypeVar("T")


def in_threads(work: Callable[[int], T], threads: int = THREADS) -> list[T | Exception]:
    """`work(i)` in `threads` threads started together; each one's result or exception."""
    results: list[T | Exception] = [RuntimeError("did not finish")] * threads
    start = threading.Barrier(threads)

    def target(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    workers = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + BOUND_SECONDS
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(worker.is_alive() for worker in workers), "a thread hung"
    return results


def failures(results: list[Any]) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def scalar(db: Database, what: Any, source: Any, *where: ColumnElement[bool]) -> Any:
    """One value read with Core on the table itself, in an unscoped unit (no repository)."""
    with db.session() as session:
        return session.execute(select(what).select_from(table(source)).where(*where)).scalar()


def title_of(db: Database, task_id: uuid.UUID) -> str:
    tasks = table(Task)
    return scalar(db, tasks.c.title, Task, tasks.c.id == task_id)  # type: ignore[no-any-return]


def new_user(db: Database) -> uuid.UUID:
    name = f"conc_{uuid.uuid4().hex[:10]}"
    with db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
        session.add(user)
    return user.id


def new_task(db: Database, user_id: uuid.UUID) -> uuid.UUID:
    with db.user_scope(user_id) as session:
        return TaskRepository(session).create({"title": "original"}).id


@pytest.fixture
def user_id(real_db: Database) -> uuid.UUID:
    return new_user(real_db)


def test_mixed_units_of_twenty_users_all_succeed_with_exact_counts(real_db: Database) -> None:
    users = [new_user(real_db) for _ in range(THREADS)]

    def work(i: int) -> None:
        user = users[i]
        for n in range(5):
            with real_db.user_scope(user) as session:
                tasks = TaskRepository(session)
                task = tasks.create({"title": f"task {n}"})
                tasks.update(task.id, {"status": "in_progress"})
                assert tasks.count() == n + 1
            with real_db.user_scope(user, read_only=True) as session:
                assert TaskRepository(session).read(task.id).title == f"task {n}"
        with real_db.user_scope(user) as session:
            CategoryRepository(session).create({"name": f"category {i}"})
            chat = ConversationRepository(session)
            conversation = chat.start({"title": "chat"})
            chat.append(conversation.id, {"role": MessageRole.USER, "content": "hello"})

    assert failures(in_threads(work)) == []
    models = {"tasks": Task, "categories": Category, "conversations": Conversation}
    for user in users:
        counts = {
            name: scalar(real_db, func.count(), model, table(model).c.user_id == user)
            for name, model in (*models.items(), ("messages", Message))
        }
        assert counts == {"tasks": 5, "categories": 1, "conversations": 1, "messages": 1}
        tasks = table(Task)
        in_progress = tasks.c.user_id == user, tasks.c.status == "in_progress"
        assert scalar(real_db, func.count(), Task, *in_progress) == 5


def test_overlapping_updates_of_one_row_last_write_wins(
    real_db: Database, user_id: uuid.UUID
) -> None:
    """The last unit to commit decides the title. Each unit notes its title while it holds
    the row (PostgreSQL: the row lock its UPDATE took; SQLite: the write lock), so the
    notes are in commit order."""
    task_id = new_task(real_db, user_id)
    committed: list[str] = []
    tasks = table(Task)
    before = scalar(real_db, tasks.c.updated_at, Task, tasks.c.id == task_id)

    def work(i: int) -> None:
        with real_db.user_scope(user_id) as session:
            repository = TaskRepository(session)
            repository.get(task_id)
            committed.append(repository.update(task_id, {"title": f"title {i}"}).title)

    assert failures(in_threads(work)) == []
    assert len(committed) == THREADS
    assert title_of(real_db, task_id) == committed[-1]
    assert scalar(real_db, tasks.c.updated_at, Task, tasks.c.id == task_id) > before


def test_overlapping_stale_updates_conflict_and_one_stands(
    real_db: Database, user_id: uuid.UUID
) -> None:
    task_id = new_task(real_db, user_id)
    with real_db.user_scope(user_id, read_only=True) as session:
        read = TaskRepository(session).read(task_id).updated_at

    def work(i: int) -> str:
        with real_db.user_scope(user_id) as session:
            TaskRepository(session).update(
                task_id, {"title": f"title {i}"}, expected_updated_at=read
            )
        return f"title {i}"

    results = in_threads(work)
    conflicts = failures(results)
    assert all(isinstance(error, ConflictError) for error in conflicts), conflicts
    assert len(conflicts) == THREADS - 1
    (winner,) = (result for result in results if isinstance(result, str))
    assert title_of(real_db, task_id) == winner


def test_overlapping_appends_to_one_conversation_are_strictly_ordered(
    real_db: Database, user_id: uuid.UUID
) -> None:
    with real_db.user_scope(user_id) as session:
        conversation_id = ConversationRepository(session).start({"title": "busy"}).id

    def work(i: int) -> None:
        with real_db.user_scope(user_id) as session:
            message = {"role": MessageRole.USER, "content": f"message {i}"}
            ConversationRepository(session).append(conversation_id, message)

    assert failures(in_threads(work)) == []
    messages, conversations = table(Message), table(Conversation)
    of_it = messages.c.conversation_id == conversation_id
    assert scalar(real_db, func.count(), Message, of_it) == THREADS
    distinct = func.count(messages.c.created_at.distinct())
    assert scalar(real_db, distinct, Message, of_it) == THREADS
    latest = scalar(real_db, func.max(messages.c.created_at), Message, of_it)
    moved = scalar(
        real_db, conversations.c.updated_at, Conversation, conversations.c.id == conversation_id
    )
    assert moved == latest


def test_overlapping_step_inserts_keep_positions_one_to_n(
    real_db: Database, user_id: uuid.UUID
) -> None:
    with real_db.user_scope(user_id) as session:
        specification = TestSpecificationRepository(session).create(
            {"key": "TS-CONC", "title": "many hands"}
        )

    def work(i: int) -> None:
        with real_db.user_scope(user_id) as session:
            at_front = {"action": f"step {i}", "position": 1} if i % 2 else {"action": f"s{i}"}
            StepService(session).insert(specification.id, at_front)

    assert failures(in_threads(work)) == []
    steps = table(TestStep)
    of_it = steps.c.test_specification_id == specification.id
    assert scalar(real_db, func.count(steps.c.position.distinct()), TestStep, of_it) == THREADS
    assert scalar(real_db, func.min(steps.c.position), TestStep, of_it) == 1
    assert scalar(real_db, func.max(steps.c.position), TestStep, of_it) == THREADS


def test_overlapping_sign_ups_with_one_email_make_one_user(real_db: Database) -> None:
    name = f"signup_{uuid.uuid4().hex[:8]}"

    def work(i: int) -> uuid.UUID:
        with real_db.session() as session:
            return (
                UserRepository(session)
                .register(
                    {
                        "email": f"{name}@example.com",
                        "username": f"{name}_{i}",
                        "password": "p" * 12,
                    }
                )
                .id
            )

    results = in_threads(work)
    conflicts = failures(results)
    assert len(conflicts) == THREADS - 1
    assert all(isinstance(e, ConflictError) and e.field == "email" for e in conflicts), conflicts
    users = table(User)
    assert scalar(real_db, func.count(), User, users.c.email == f"{name}@example.com") == 1


async def test_async_overlapping_updates_of_one_row_all_succeed(
    real_adb: AsyncDatabase, real_db: Database, user_id: uuid.UUID
) -> None:
    task_id = new_task(real_db, user_id)

    async def work(i: int) -> None:
        async with real_adb.user_scope(user_id) as session:
            await run(session, lambda s: TaskRepository(s).get(task_id))
            await asyncio.sleep(0)  # let the others begin meanwhile
            await run(session, lambda s: TaskRepository(s).update(task_id, {"title": f"a{i}"}))

    async with asyncio.timeout(BOUND_SECONDS):
        results = await asyncio.gather(*(work(i) for i in range(THREADS)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert title_of(real_db, task_id) in {f"a{i}" for i in range(THREADS)}


# SQLite only: how its connections begin.


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    databases.migrate_to(url)
    db = Database.from_settings(databases.test_settings(url))
    yield db
    db.dispose()


def test_a_read_only_unit_reads_while_a_writer_holds_the_lock(sqlite_db: Database) -> None:
    """It begins nothing: no wait for the write lock, and each statement sees the latest
    commit (no snapshot kept between statements, as on PostgreSQL)."""
    user_id = new_user(sqlite_db)
    task_id = new_task(sqlite_db, user_id)
    other = Database(sqlite_db.engine)  # a unit of its own in this thread
    title = select(Task.title).where(Task.id == task_id)
    with other.user_scope(user_id, read_only=True) as reading:
        assert reading.scalar(title) == "original"
        with sqlite_db.user_scope(user_id) as writing:
            TaskRepository(writing).update(task_id, {"title": "changed"})
            started = time.perf_counter()
            assert reading.scalar(title) == "original"
            assert time.perf_counter() - started < 0.5
        assert reading.scalar(title) == "changed"


def test_a_writer_unit_waits_for_the_lock_then_proceeds(sqlite_db: Database) -> None:
    """The busy timeout applies to a writer's BEGIN IMMEDIATE: the second writer waits for
    the first to commit, then reads what it wrote."""
    user_id = new_user(sqlite_db)
    task_id = new_task(sqlite_db, user_id)
    locked = threading.Event()

    def first() -> None:
        with sqlite_db.user_scope(user_id) as session:
            TaskRepository(session).update(task_id, {"title": "first"})
            locked.set()
            time.sleep(0.3)

    holder = threading.Thread(target=first)
    holder.start()
    assert locked.wait(10)
    started = time.perf_counter()
    with sqlite_db.user_scope(user_id) as session:
        seen = TaskRepository(session).get(task_id).title
        waited = time.perf_counter() - started
        TaskRepository(session).update(task_id, {"title": "second"})
    holder.join()
    assert seen == "first"
    assert waited > 0.1


@pytest.mark.parametrize(("url", "journal"), [("sqlite://", "memory"), ("file", "wal")])
def test_wal_on_files_only(url: str, journal: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}" if url == "file" else url
    engine = create_engine(databases.test_settings(url))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == journal
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            connection.commit()
    finally:
        engine.dispose()


def test_a_writer_whose_begin_times_out_returns_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock past the busy timeout: the unit fails with a
    lock timeout (as PostgreSQL's `lock_timeout` does), and its connection is back in the
    pool at once (not when garbage collected)."""
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "held.db"
    databases.migrate_to(f"sqlite:///{path}")
    db = Database.from_settings(databases.test_settings(f"sqlite:///{path}"))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(LockTimeoutError, match=r"locked|busy"), db.session():
            pass
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        holder.execute("ROLLBACK")
        with db.session() as session:  # and the database goes on
            assert session.scalar(select(func.count()).select_from(User)) == 0
    finally:
        holder.close()
        db.dispose()
