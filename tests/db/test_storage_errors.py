"""Storage and bulk errors: a full disk is `StorageFullError`, a duplicate key in a bulk load
names its column, and a bad bulk row is refused on its column.

The full disk is real on SQLite (a connection whose `max_page_count` is pinned to the
file's current size: SQLite answers SQLITE_FULL). The shared PostgreSQL server has no small
throwaway disk, so there a trigger raises the server's own `disk_full` error (SQLSTATE
53100, with the message PostgreSQL gives, file path included) in the middle of each write
path: the real server, driver and translation, only the cause is staged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.driver_errors import STORAGE_FULL
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import (
    ConflictError,
    StorageFullError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.transfer.service import export_user, import_user
from tests import databases

LONG = {"title": "t" * 200, "description": "d" * 5000}
PG_DISK_FULL = 'could not extend file "base/16384/16385": No space left on device'

Write = Callable[[Database, uuid.UUID], object]


def _orm_writes(session: Session) -> None:
    for _ in range(2000):
        TaskRepository(session).create(LONG)


def _compiled_writes(session: Session) -> None:
    for _ in range(2000):
        TaskRepository(session).create_row(LONG)


def _in_a_unit(writes: Callable[[Session], None]) -> Write:
    def write(db: Database, user: uuid.UUID) -> None:
        with db.user_scope(user) as session:
            writes(session)

    return write


def _bulk(db: Database, user: uuid.UUID) -> None:
    assert isinstance(db.bind, Connection)
    bulk_insert(db.bind, Task, ({"user_id": user, **LONG} for _ in range(2000)))


WRITES: dict[str, Write] = {
    "orm": _in_a_unit(_orm_writes),
    "compiled": _in_a_unit(_compiled_writes),
    "bulk": _bulk,
}


def _new_user(db: Database) -> uuid.UUID:
    name = f"se_{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    return user.id


@pytest.fixture
def full_database(engine: Engine, backend: str) -> Iterator[tuple[Database, uuid.UUID]]:
    """A `Database` on one connection (its transaction rolled back afterwards), with a user,
    whose storage is full as soon as a task is written."""
    if backend == "postgresql" and databases.CITUS:
        pytest.skip(
            "Citus: the full disk is staged by a temporary trigger on tasks, which Citus"
            " cannot put on a distributed table (its shards are on the workers)"
        )
    with engine.connect() as connection:
        transaction = connection.begin()
        database = Database(connection)
        user = _new_user(database)
        try:
            if backend == "sqlite":  # at no less than the file's size: 1 pins it there
                _pin_page_count(connection.connection.dbapi_connection, None)
            else:
                _stage_disk_full(connection)
            yield database, user
        finally:
            if backend == "sqlite":
                connection.invalidate()  # the pinned limit leaves with the driver connection
            elif transaction.is_active:
                transaction.rollback()


def _stage_disk_full(connection: Connection) -> None:
    connection.exec_driver_sql(
        "CREATE FUNCTION pg_temp.disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = '{PG_DISK_FULL}'; END $$"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER disk_full BEFORE INSERT ON tasks FOR EACH ROW "
        "EXECUTE FUNCTION pg_temp.disk_full()"
    )


@pytest.mark.parametrize("path", WRITES)
def test_a_full_disk_is_storage_full_without_internal_paths(
    full_database: tuple[Database, uuid.UUID], path: str
) -> None:
    database, user = full_database
    with pytest.raises(StorageFullError) as caught:
        WRITES[path](database, user)
    assert str(caught.value) == STORAGE_FULL
    assert "base/" not in str(caught.value)


def test_an_import_onto_a_full_disk_is_storage_full(
    full_database: tuple[Database, uuid.UUID], backend: str
) -> None:
    database, user = full_database
    document = export_user(database, user)
    document["tables"]["tasks"] = [{"id": str(uuid.uuid4()), **LONG} for _ in range(2000)]
    with pytest.raises(StorageFullError):
        import_user(database, user, document)


def test_after_a_full_disk_postgresql_goes_on(full_database: tuple[Database, uuid.UUID]) -> None:
    """PostgreSQL keeps the transaction: the failed write's savepoint undoes only it."""
    database, user = full_database
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: see the next test")
    with database.user_scope(user) as session:
        categories = CategoryRepository(session)
        categories.create({"name": "before"})
        with pytest.raises(StorageFullError):
            _orm_writes(session)
        categories.create({"name": "after"})
        assert categories.count() == 2


def _command_writes(session: Session) -> None:
    commands = GenericCommandRepository(session)
    for n in range(2000):
        commands.create({"name": f"C{n}", "description": "d" * 5000})


def test_after_a_full_disk_sqlite_fails_the_whole_unit(committed_url: str) -> None:
    """SQLite may end the whole transaction on SQLITE_FULL (here: a table's own pages run
    out). Its connections run in driver-level autocommit (the BEGIN is ours), so a unit
    going on would commit each statement on its own: the connection is dropped instead, and
    nothing goes through."""
    if not committed_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: see the previous test")
    with _full(committed_url) as (plain, full, user):
        went_on = False
        with pytest.raises(TaskTrackerError), full.user_scope(user) as session:
            with pytest.raises(StorageFullError):
                _command_writes(session)
            went_on = True
            CategoryRepository(session).create({"name": "not on its own"})
        assert went_on
        with plain.user_scope(user) as session:
            assert CategoryRepository(session).count() == 0
            assert GenericCommandRepository(session).list() == []


@pytest.mark.parametrize("writes", [_orm_writes, _compiled_writes], ids=["orm", "compiled"])
def test_after_a_full_disk_sqlite_unit_fails_whole_or_goes_on_whole(
    committed_url: str, writes: Callable[[Session], None]
) -> None:
    """A task's insert also writes its search copy (a trigger): there SQLite may end only the
    statement, and keep the transaction. Either way nothing goes through on its own: the
    unit fails whole, or it goes on in its transaction (the failed write undone by its
    savepoint) and commits what followed."""
    if not committed_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: see test_after_a_full_disk_postgresql_goes_on")
    with _full(committed_url) as (plain, full, user):
        failed = False
        try:
            with full.user_scope(user) as session:
                with pytest.raises(StorageFullError):
                    writes(session)
                CategoryRepository(session).create({"name": "after"})
        except TaskTrackerError:
            failed = True
        with plain.user_scope(user) as session:
            assert CategoryRepository(session).count() == (0 if failed else 1)
            assert TaskRepository(session).count() == 0


@contextmanager
def _full(committed_url: str) -> Iterator[tuple[Database, Database, uuid.UUID]]:
    """A database, the same one behind a full disk, and a new user (deleted afterwards)."""
    plain = Database.from_settings(databases.test_settings(committed_url))
    full_engine = create_engine(databases.test_settings(committed_url))
    event.listen(full_engine, "connect", _pin_page_count)
    full = Database(full_engine)
    user = _new_user(plain)
    try:
        yield plain, full, user
    finally:
        full.dispose()
        with plain.session() as session:
            UserRepository(session).delete(user)
        plain.dispose()


def _pin_page_count(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.execute("PRAGMA max_page_count = 1")


# --- bulk loads ---------------------------------------------------------------------------


def test_a_duplicate_key_in_a_bulk_load_names_the_column(db: Database, make_user) -> None:
    """COPY on PostgreSQL, executemany on SQLite: the same message as any duplicate key."""
    user = make_user()
    assert isinstance(db.bind, Connection)
    taken = uuid.uuid4()
    rows = [{"user_id": user, "id": taken, "title": t} for t in ("first", "same id")]
    with pytest.raises(ConflictError) as caught, db.bind.begin_nested():
        bulk_insert(db.bind, Task, rows)
    assert str(caught.value) == "tasks: id already exists"
    assert caught.value.field == "id"
    assert taken.hex not in str(caught.value)  # no value shown
    assert str(taken) not in str(caught.value)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"due_date": datetime(2030, 1, 1)}, "due_date: must be timezone-aware"),
        ({"status": "bogus"}, "status: is not a value this column can store"),
        ({"titel": "typo"}, "titel: is not a column of tasks"),
    ],
)
def test_a_bad_bulk_row_is_refused_on_its_column(
    db: Database, make_user, row: dict[str, Any], problem: str
) -> None:
    user = make_user()
    assert isinstance(db.bind, Connection)
    with pytest.raises(ValidationError, match=problem), db.bind.begin_nested():
        bulk_insert(db.bind, Task, [{"user_id": user, "title": "t", **row}])
    with db.user_scope(user) as session:
        assert TaskRepository(session).count() == 0
