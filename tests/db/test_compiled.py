"""`CompiledQuery` at the engine level, on both backends: structural isolation, the SQL it
sends and the events it fires, error translation, and the transactions it runs in."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import psycopg
import pytest
from sqlalchemy import Connection, Engine, bindparam, event, func, insert, select, text, true
from sqlalchemy.orm import aliased
from sqlmodel import col

from tasktracker.accounts.models import User
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import (
    ConflictError,
    DatabaseUnavailableError,
    IntegrityError,
    ScopeError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.fastpath.compiled import CompiledQuery, QueryCache, unit_connection
from tasktracker.db.sessions import Database
from tasktracker.db.tenancy import SCOPE_PARAMETER
from tasktracker.db.types import new_id, utc_now
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate
from tests import databases


class TitleRow(NamedTuple):
    id: uuid.UUID
    title: str


class PairRow(NamedTuple):
    first: str
    second: str


class CountRow(NamedTuple):
    n: int


class UserRow(NamedTuple):
    id: uuid.UUID
    username: str


TITLES = CompiledQuery(select(col(Task.id), col(Task.title)), TitleRow)
"""No WHERE at all: the scope is the only filter."""
TASK_CATEGORY_PAIRS = CompiledQuery(
    select(col(Task.title), col(Category.name)).join(Category, true()), PairRow
)
_other = aliased(Task)
TASK_PAIRS = CompiledQuery(
    select(col(Task.title), _other.title).join(_other, true()),  # type: ignore[arg-type]
    PairRow,
)
COUNT = CompiledQuery(select(func.count()).select_from(Task), CountRow)
USERS = CompiledQuery(select(col(User.id), col(User.username)), UserRow)
NEW_CATEGORY: CompiledQuery[Any] = CompiledQuery(
    insert(Category).values(
        user_id=bindparam(SCOPE_PARAMETER),
        **{name: bindparam(name) for name in ("id", "name", "color", "created_at", "updated_at")},
    )
)
NEW_TASK: CompiledQuery[Any] = CompiledQuery(
    insert(Task).values(
        user_id=bindparam(SCOPE_PARAMETER),
        **{
            name: bindparam(name)
            for name in (
                *("id", "title", "description", "status", "priority", "due_date"),
                *("category_id", "completed_at", "created_at", "updated_at"),
            )
        },
    )
)


def category(name: str, color: str = "#123456", id: uuid.UUID | None = None) -> dict[str, Any]:
    now = utc_now()
    return {
        "id": id or new_id(),
        "name": name,
        "color": color,
        "created_at": now,
        "updated_at": now,
    }


def task(title: str, **fields: Any) -> dict[str, Any]:
    now = utc_now()
    values = {"id": new_id(), "title": title, "description": None, "status": "pending"}
    values |= {"priority": "medium", "due_date": None, "category_id": None}
    return values | {"completed_at": None, "created_at": now, "updated_at": now} | fields


def add_tasks(db: Database, user: uuid.UUID, *titles: str) -> set[uuid.UUID]:
    with db.user_scope(user) as session:
        return {TaskRepository(session).create(TaskCreate(title=t)).id for t in titles}


@pytest.fixture
def two_users(make_user) -> tuple[uuid.UUID, uuid.UUID]:
    return make_user(), make_user()


# --- isolation ---------------------------------------------------------------------------


def test_a_select_without_where_returns_only_the_scope_users_rows(db: Database, two_users) -> None:
    alice, bob = two_users
    alices = add_tasks(db, alice, "a1", "a2", "a3")
    bobs = add_tasks(db, bob, "b1", "b2")
    for _ in range(2):  # one compiled plan serves both scopes, alternately
        with db.user_scope(alice) as session:
            assert {row.id for row in TITLES.all(session)} == alices
            assert COUNT.all(session) == [CountRow(3)]
        with db.user_scope(bob) as session:
            rows = TITLES.all(session)
            assert {row.id for row in rows} == bobs
            assert {row.title for row in rows} == {"b1", "b2"}
            assert all(type(row) is TitleRow and type(row.id) is uuid.UUID for row in rows)


def test_every_joined_entity_and_alias_is_scoped(db: Database, two_users) -> None:
    """Cross joins would pair every row with every other; the criteria cover each entity
    (the scope's user id is then bound, and converted, once for several criteria)."""
    alice, bob = two_users
    add_tasks(db, alice, "a1", "a2")
    add_tasks(db, bob, "b1", "b2", "b3")
    for user, name in ((alice, "Alice's"), (bob, "Bob's")):
        with db.user_scope(user) as session:
            CategoryRepository(session).create(CategoryCreate(name=name))
    with db.user_scope(alice) as session:
        assert sorted(TASK_CATEGORY_PAIRS.all(session)) == [
            ("a1", "Alice's"),
            ("a2", "Alice's"),
        ]
        pairs = TASK_PAIRS.all(session)
        assert len(pairs) == 4
        assert {first for first, _ in pairs} == {second for _, second in pairs} == {"a1", "a2"}
    with db.user_scope(bob) as session:
        assert len(TASK_PAIRS.all(session)) == 9
        assert sorted(TASK_CATEGORY_PAIRS.all(session))[0] == ("b1", "Bob's")


def test_the_users_table_shows_only_the_scope_user(db: Database, two_users) -> None:
    alice, bob = two_users
    for user in (alice, bob):
        with db.user_scope(user) as session:
            assert [row.id for row in USERS.all(session)] == [user]


def test_an_unscoped_session_is_refused(db: Database, two_users) -> None:
    alice, _ = two_users
    add_tasks(db, alice, "a1")
    with db.session() as session:
        for query in (TITLES, COUNT, USERS):
            with pytest.raises(ScopeError, match="user scope"):
                query.all(session)
        with pytest.raises(ScopeError, match="user scope"):
            NEW_CATEGORY.execute(session, **category("no scope"))
    with db.user_scope(alice) as session:
        assert CategoryRepository(session).count() == 0


def test_the_caller_cannot_supply_another_scope(db: Database, two_users) -> None:
    """The scope parameter always comes from the unit of work, whatever the caller passes."""
    alice, bob = two_users
    bobs = add_tasks(db, bob, "b1")
    with db.user_scope(alice) as session:
        assert TITLES.all(session, scope_user_id=bob) == []
        NEW_CATEGORY.execute(session, **category("mine"), scope_user_id=bob)
    with db.user_scope(alice) as session:
        assert [c.name for c in CategoryRepository(session).list()] == ["mine"]
    with db.user_scope(bob) as session:
        assert CategoryRepository(session).count() == 0
        assert {row.id for row in TITLES.all(session)} == bobs


# --- what is sent ------------------------------------------------------------------------


class Capture:
    def __init__(self) -> None:
        self.before: list[tuple[str, Any]] = []
        self.after: list[tuple[str, Any]] = []

    def on_before(
        self, conn: Connection, cursor: Any, sql: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.before.append((sql, parameters))

    def on_after(
        self, conn: Connection, cursor: Any, sql: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.after.append((sql, parameters))


@pytest.fixture
def capture(db: Database) -> Iterator[Capture]:
    """Statements sent on the test's connection (every unit of `db` runs on it)."""
    captured = Capture()
    connection = db.bind
    event.listen(connection, "before_cursor_execute", captured.on_before)
    event.listen(connection, "after_cursor_execute", captured.on_after)
    yield captured
    event.remove(connection, "before_cursor_execute", captured.on_before)
    event.remove(connection, "after_cursor_execute", captured.on_after)


def _values(parameters: Any) -> list[Any]:
    return list(parameters.values()) if isinstance(parameters, dict) else list(parameters)


def test_the_sql_sent_carries_the_scope_filter_once_per_call(
    db: Database, two_users, capture: Capture
) -> None:
    alice, bob = two_users
    add_tasks(db, alice, "a1")
    capture.before.clear()
    capture.after.clear()
    with db.user_scope(alice) as session:
        for _ in range(3):
            TITLES.all(session)
    with db.user_scope(bob) as session:
        TITLES.all(session)
    selects = [(sql, p) for sql, p in capture.before if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4, capture.before
    assert len({sql for sql, _ in selects}) == 1, "compiled once: the same text every time"
    sql = selects[0][0]
    assert "tasks.user_id = " in sql, sql
    assert "WHERE" in sql.upper()
    for user in (alice, bob):
        assert str(user) not in sql, "the user id is a parameter"
        assert user.hex not in sql, "the user id is a parameter"
    stored = [(alice.hex if db.engine.dialect.name == "sqlite" else alice)] * 3
    stored.append(bob.hex if db.engine.dialect.name == "sqlite" else bob)
    assert [_values(p) for _, p in selects] == [[v] for v in stored]
    after = [(sql, p) for sql, p in capture.after if sql.lstrip().upper().startswith("SELECT")]
    assert after == selects, "after_cursor_execute fires for each statement, with the same SQL"


def test_a_compiled_insert_fires_both_events_once(
    db: Database, two_users, capture: Capture
) -> None:
    alice, _ = two_users
    with db.user_scope(alice) as session:
        capture.before.clear()
        capture.after.clear()
        assert NEW_CATEGORY.execute(session, **category("evented")) == 1
    inserts = [sql for sql, _ in capture.before if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert "categories" in inserts[0]
    assert [s for s, _ in capture.after if s.lstrip().upper().startswith("INSERT")] == inserts


def test_the_slow_query_log_sees_compiled_statements(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine's own `before/after_cursor_execute` listeners (the slow-query log) run."""
    engine: Engine = create_engine(
        databases.test_settings(migrated_url, database_slow_query_ms=0.000_001)
    )
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            logged = Database(connection)
            with logged.session() as session:
                user = User(email="slow@example.com", username="slow_log", password_hash="-")
                session.add(user)
            caplog.clear()
            with (
                caplog.at_level(logging.WARNING, "tasktracker.sql"),
                logged.user_scope(user.id) as session,
            ):
                TITLES.all(session)
            transaction.rollback()
    finally:
        engine.dispose()
    slow = [r.getMessage() for r in caplog.records if r.name == "tasktracker.sql"]
    assert any("slow query" in m and "tasks.user_id" in m for m in slow), slow


# --- errors ------------------------------------------------------------------------------

DRIVER_ERRORS = (sqlite3.Error, psycopg.Error)


def _violations(other_category: uuid.UUID) -> list[tuple[str, Any, type[TaskTrackerError]]]:
    return [
        (
            "duplicate name (any case)",
            lambda s: NEW_CATEGORY.execute(s, **category("WORK")),
            ConflictError,
        ),
        (
            "bad color CHECK",
            lambda s: NEW_CATEGORY.execute(s, **category("x", "red")),
            ValidationError,
        ),
        (
            "missing category FK",
            lambda s: NEW_TASK.execute(s, **task("t", category_id=new_id())),
            IntegrityError,
        ),
        (
            "another user's category FK",
            lambda s: NEW_TASK.execute(s, **task("t", category_id=other_category)),
            IntegrityError,
        ),
        ("blank title CHECK", lambda s: NEW_TASK.execute(s, **task("   ")), ValidationError),
        (
            "completed without completed_at",
            lambda s: NEW_TASK.execute(s, **task("t", status="completed")),
            ValidationError,
        ),
    ]


def test_constraint_violations_are_the_packages_errors(db: Database, two_users) -> None:
    alice, bob = two_users
    with db.user_scope(bob) as session:
        bobs_category = CategoryRepository(session).create(CategoryCreate(name="Bob's")).id
    with db.user_scope(alice) as session:
        NEW_CATEGORY.execute(session, **category("work"))
    for name, attempt, expected in _violations(bobs_category):
        with pytest.raises(TaskTrackerError) as caught, db.user_scope(alice) as session:
            attempt(session)
        assert type(caught.value) is expected, (name, caught.value)
        assert not isinstance(caught.value, DRIVER_ERRORS), name
        assert isinstance(caught.value.__cause__, DRIVER_ERRORS), name
    with db.user_scope(alice) as session:
        assert [c.name for c in CategoryRepository(session).list()] == ["work"]
        assert TaskRepository(session).count() == 0


def test_a_duplicate_primary_key_is_a_conflict(db: Database, two_users) -> None:
    alice, _ = two_users
    values = category("first")
    with db.user_scope(alice) as session:
        NEW_CATEGORY.execute(session, **values)
    with pytest.raises(ConflictError), db.user_scope(alice) as session:
        NEW_CATEGORY.execute(session, **values | {"name": "second"})


def test_a_failure_in_a_nested_unit_keeps_the_outer_work(db: Database, two_users) -> None:
    """On PostgreSQL the failed INSERT aborts the transaction: only the savepoint's rollback
    lets the outer unit go on."""
    alice, _ = two_users
    with db.user_scope(alice) as session:
        NEW_CATEGORY.execute(session, **category("kept"))
        with pytest.raises(ConflictError), db.user_scope(alice) as nested:
            NEW_CATEGORY.execute(nested, **category("undone"))
            NEW_CATEGORY.execute(nested, **category("KEPT"))
        NEW_CATEGORY.execute(session, **category("after"))
        assert CategoryRepository(session).count() == 2
    with db.user_scope(alice) as session:
        assert [c.name for c in CategoryRepository(session).list()] == ["after", "kept"]


def test_a_compiled_insert_that_leaves_out_a_python_default_is_refused() -> None:
    """A compiled INSERT runs no Python-side defaults: leaving such a column out would send
    NULL (or a wrong value), so the query is refused when it is defined, naming them."""
    partial = insert(Category).values(user_id=bindparam(SCOPE_PARAMETER), name=bindparam("name"))
    with pytest.raises(ValueError, match="id, created_at, updated_at, color"):
        CompiledQuery(partial)


# --- real commits ------------------------------------------------------------------------


@pytest.fixture
def real(migrated_url: str) -> Iterator[tuple[Database, uuid.UUID]]:
    """A `Database` on its own engine (commits land, read-only units are real), with a user
    that is deleted (with everything it owns) afterwards."""
    database = Database.from_settings(databases.test_settings(migrated_url))
    name = f"compiled_{uuid.uuid4().hex[:8]}"
    with database.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    yield database, user.id
    with database.session() as session:
        session.execute(text("DELETE FROM users WHERE username = :n"), {"n": name})
    database.dispose()


def _checked_out(database: Database) -> int:
    checkedout = getattr(database.engine.pool, "checkedout", None)
    return checkedout() if checkedout else 0


def test_a_violation_rolls_the_whole_unit_back(real) -> None:
    database, user = real
    with pytest.raises(ConflictError), database.user_scope(user) as session:
        NEW_CATEGORY.execute(session, **category("first"))
        TaskRepository(session).create(TaskCreate(title="orm, same unit"))
        NEW_CATEGORY.execute(session, **category("FIRST"))
    assert _checked_out(database) == 0
    with database.user_scope(user) as session:  # the pooled connection is usable again
        assert CategoryRepository(session).count() == 0
        assert TaskRepository(session).count() == 0
        NEW_CATEGORY.execute(session, **category("first"))
    with database.user_scope(user, read_only=True) as session:
        assert [c.name for c in CategoryRepository(session).list()] == ["first"]


def test_compiled_writes_commit_with_the_unit(real) -> None:
    database, user = real
    with database.user_scope(user) as session:
        row = TaskRepository(session).create_row({"title": "committed"})
    with database.user_scope(user, read_only=True) as session:
        assert TaskRepository(session).read(row.id) == row
        assert TITLES.all(session) == [TitleRow(row.id, "committed")]


def _transaction_status(session: Any) -> int:
    return int(unit_connection(session).connection.driver_connection.pgconn.transaction_status)


def test_postgresql_read_only_units_send_no_begin(real, backend: str) -> None:
    """A read-only unit's reads run in autocommit on borrowed connections (no transaction
    is begun), while a writer unit is inside a transaction from its first statement."""
    if backend != "postgresql":
        pytest.skip("transaction status of the driver connection: psycopg only")
    database, user = real
    with database.user_scope(user) as session:
        task_id = TaskRepository(session).create_row({"title": "t"}).id
    in_transaction = psycopg.pq.TransactionStatus.INTRANS
    begun: list[object] = []

    def record(connection: Connection) -> None:
        begun.append(connection)

    event.listen(database.engine, "begin", record)
    try:
        with database.user_scope(user, read_only=True) as session:
            tasks = TaskRepository(session)
            tasks.read(task_id)
            tasks.read_page()
            TITLES.all(session)
            # Each read borrowed a connection and gave it back: none is held between reads.
            assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert begun == []
        with database.user_scope(user) as session:
            TaskRepository(session).read(task_id)
        assert len(begun) == 1
    finally:
        event.remove(database.engine, "begin", record)
    with database.user_scope(user) as session:
        TaskRepository(session).read(task_id)
        assert _transaction_status(session) == in_transaction
        TaskRepository(session).read_page()
        assert _transaction_status(session) == in_transaction


def test_postgresql_a_lost_connection_is_unavailable_and_replaced(real, backend: str) -> None:
    """The server ends the unit's backend mid-unit: the compiled statement raises the
    package's error, the connection is invalidated, and the next unit gets a new one."""
    if backend != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    database, user = real
    with pytest.raises(DatabaseUnavailableError), database.user_scope(user) as session:
        connection = unit_connection(session)
        pid = connection.connection.driver_connection.info.backend_pid
        with psycopg.connect(databases._libpq(databases.ADMIN_URL), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        try:
            TITLES.all(session)
        finally:
            invalidated = connection.invalidated
    assert invalidated
    assert _checked_out(database) == 0
    with database.user_scope(user) as session:
        assert TITLES.all(session) == []
        assert unit_connection(session).connection.driver_connection.info.backend_pid != pid


def test_a_read_only_unit_never_holds_two_connections(migrated_url: str, backend: str) -> None:
    """With one pooled connection and no overflow: compiled reads borrow it per statement;
    once the ORM holds it for the unit, the compiled reads share it instead of waiting for
    a second one (which would time out)."""
    if backend != "postgresql":
        pytest.skip("pool settings apply to PostgreSQL engines")
    settings = databases.test_settings(migrated_url).model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 1}
    )
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            user = User(
                email=f"{uuid.uuid4().hex[:8]}@example.com", username="one", password_hash="-"
            )
            session.add(user)
        with database.user_scope(user.id, read_only=True) as session:
            tasks = TaskRepository(session)
            assert tasks.read_page().items == []
            assert _checked_out(database) == 0
            assert session.scalars(select(Task)).all() == []  # the ORM takes the connection
            assert _checked_out(database) == 1
            assert tasks.read_page().items == []  # shared, not a second checkout
            assert _checked_out(database) == 1
        assert _checked_out(database) == 0
    finally:
        with database.session() as session:
            session.execute(text("DELETE FROM users WHERE username = 'one'"))
        database.dispose()


def test_query_cache_keeps_the_most_recently_used_shapes() -> None:
    cache: QueryCache[Any] = QueryCache(size=2)
    built: list[str] = []

    def builder(shape: str) -> Any:
        def build() -> CompiledQuery[Any]:
            built.append(shape)
            return CompiledQuery(select(Task.id))

        return build

    first = cache.get("a", builder("a"))
    cache.get("b", builder("b"))
    assert cache.get("a", builder("a")) is first  # reused, and now the most recent
    cache.get("c", builder("c"))  # evicts "b", the least recently used
    cache.get("a", builder("a"))
    cache.get("b", builder("b"))
    assert built == ["a", "b", "c", "b"]
