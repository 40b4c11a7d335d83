"""What a Citus user does to a live database, with the application working on it:
adding a worker and rebalancing while 20 workers run a mixed workload (0 errors, no row
lost), and isolating one large tenant to a shard of its own (its queries still routed to
one shard). The numbers are printed (`-s`) and recorded in docs/citus.md."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import Engine, func, select, text

from tasktracker.accounts.models import User
from tasktracker.admin import schema
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.repository import TaskRepository
from tests import databases
from tests.connectivity import citus, servers
from tests.performance.conftest import captured, explain, queries

WORKERS = 20
TASKS_PER_USER = 30


def _users(db: Database, count: int, prefix: str) -> list[uuid.UUID]:
    ids = []
    with db.session() as session:
        for i in range(count):
            name = f"{prefix}{i}_{uuid.uuid4().hex[:6]}"
            user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
            session.add(user)
            session.flush()
            ids.append(user.id)
    for user_id in ids:
        with db.user_scope(user_id) as session:
            tasks = TaskRepository(session)
            for n in range(TASKS_PER_USER):
                tasks.create({"title": f"task {n}"})
    return ids


def _mixed(db: Database, user_id: uuid.UUID, step: int) -> uuid.UUID | None:
    """One unit of work of a mix: write a task, change one, page, count, read, chat."""
    with db.user_scope(user_id) as session:
        tasks = TaskRepository(session)
        match step % 5:
            case 0:
                return tasks.create({"title": f"written {step}"}).id
            case 1:
                page = tasks.list(limit=5)
                tasks.update(page.items[0].id, {"status": TaskStatus.IN_PROGRESS})
            case 2:
                tasks.counts_by_status()
            case 3:
                tasks.read(tasks.list(limit=1).items[0].id)
            case _:
                ConversationRepository(session).list(limit=5)
    return None


def _count_tasks(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Task)) or 0)


@pytest.mark.slow
def test_add_a_worker_and_rebalance_under_load(
    citus_url: str, citus_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    schema.upgrade(citus_engine)
    db = Database.from_settings(
        databases.test_settings(citus_url, database_pool_size=WORKERS, database_max_overflow=0)
    )
    stack = contextlib.ExitStack()
    try:
        users = _users(db, WORKERS, "rebalance")
        before = _count_tasks(citus_engine)
        written: list[uuid.UUID] = []
        errors: Counter[str] = Counter()
        ops = [0]
        lock = threading.Lock()
        stop = threading.Event()

        def work(worker: int) -> None:
            step = 0
            while not stop.is_set():
                try:
                    new = _mixed(db, users[worker], step)
                except Exception as exc:  # counted: the test requires none
                    with lock:
                        errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
                else:
                    with lock:
                        ops[0] += 1
                        if new is not None:
                            written.append(new)
                step += 1

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(WORKERS)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        started = time.perf_counter()
        database = citus_engine.url.database
        assert database is not None
        worker = stack.enter_context(
            servers.throwaway_cluster(servers.PG_BIN, stock=True, settings=citus.SETTINGS)
        )
        citus.add_worker(databases.admin_port(), database, worker.port)
        added = time.perf_counter() - started
        with citus_engine.connect() as connection:
            connection.execute(text("SELECT citus_rebalance_start()"))
            connection.commit()
            connection.execute(text("SELECT citus_rebalance_wait()"))
            moved = connection.scalar(
                text("SELECT count(*) FROM citus_shards WHERE nodeport = :port"),
                {"port": worker.port},
            )
        rebalanced = time.perf_counter() - started - added
        time.sleep(1)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        after = _count_tasks(citus_engine)
        with capsys.disabled():
            print(
                f"\nrebalance: worker added in {added:.1f} s, rebalanced in {rebalanced:.1f} s"
                f" ({moved} shards moved to it), {ops[0]} units of work by {WORKERS} workers,"
                f" {sum(errors.values())} errors, tasks {before} + {len(written)} written"
                f" = {after}"
            )
        assert not errors, errors.most_common(5)
        assert moved, "the new worker got shards"
        assert ops[0] > WORKERS
        assert after == before + len(written)  # no row lost, none doubled
    finally:
        db.dispose()
        stack.close()


def test_isolate_a_large_tenant_to_its_own_shard(
    citus_url: str, citus_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    schema.upgrade(citus_engine)
    db = Database.from_settings(databases.test_settings(citus_url))
    try:
        large, *others = _users(db, 4, "tenant")
        with db.user_scope(large) as session:
            tasks = TaskRepository(session)
            for n in range(200):
                tasks.create({"title": f"large {n}"})
        started = time.perf_counter()
        with citus_engine.connect() as connection:
            shard = connection.scalar(
                text(
                    "SELECT isolate_tenant_to_new_shard('tasks', CAST(:user AS uuid),"
                    " 'CASCADE', shard_transfer_mode => 'block_writes')"
                ),
                {"user": str(large)},
            )
            connection.commit()
        isolated = time.perf_counter() - started
        with citus_engine.connect() as connection:
            alone = connection.scalar(
                text(
                    "SELECT count(DISTINCT user_id) FROM tasks"
                    " WHERE get_shard_id_for_distribution_column('tasks', user_id) = :shard"
                ),
                {"shard": shard},
            )
            shards = connection.scalar(
                text("SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'tasks'::regclass")
            )
        assert alone == 1
        # Its statements still go to one shard, and find its rows and only its rows.
        with citus_engine.connect() as connection:
            own = Database(connection)
            with captured(connection) as statements, own.user_scope(large) as session:
                page = TaskRepository(session).list(limit=500)
                counts = TaskRepository(session).counts_by_status()
            plans = [
                explain(connection, sql, parameters) for sql, parameters in queries(statements)
            ]
        assert len(page.items) == TASKS_PER_USER + 200
        assert sum(counts.values()) == TASKS_PER_USER + 200
        assert len(plans) == 2
        assert all(plan.shard_tasks == [1] for plan in plans), [p.text for p in plans]
        for user_id in others:
            with db.user_scope(user_id, read_only=True) as session:
                assert len(TaskRepository(session).read_page(limit=100).items) == TASKS_PER_USER
        with capsys.disabled():
            print(
                f"\nisolation: tenant of {TASKS_PER_USER + 200} tasks isolated in"
                f" {isolated:.1f} s, tasks now in {shards} shards, its statements"
                f" {[plan.shard_tasks for plan in plans]} tasks each"
            )
    finally:
        db.dispose()
