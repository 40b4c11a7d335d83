"""SQLite keeps the same guarantees on every connection: foreign keys, WAL, a busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tasktracker.db.engines import SQLITE_BUSY_TIMEOUT_MS, create_async_engine, create_engine
from tasktracker.db.errors import IntegrityError
from tasktracker.db.settings import load_settings

PRAGMAS = ("foreign_keys", "journal_mode", "busy_timeout")
EXPECTED = {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": SQLITE_BUSY_TIMEOUT_MS}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pragmas.db'}"


def test_every_sync_connection_is_configured(sqlite_url: str) -> None:
    engine = create_engine(load_settings(database_url=sqlite_url))
    try:
        with engine.connect() as first, engine.connect() as second:  # two pooled connections
            for connection in (first, second):
                for pragma in PRAGMAS:
                    value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                    assert value == EXPECTED[pragma], pragma
    finally:
        engine.dispose()


async def test_every_async_connection_is_configured(sqlite_url: str) -> None:
    engine = create_async_engine(load_settings(database_url=sqlite_url))
    try:
        async with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                for pragma in PRAGMAS:
                    value = (await connection.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
                    assert value == EXPECTED[pragma], pragma
    finally:
        await engine.dispose()


def test_foreign_keys_are_enforced_and_translated(sqlite_url: str) -> None:
    engine = create_engine(load_settings(database_url=sqlite_url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            connection.exec_driver_sql(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                "NOT NULL REFERENCES parent (id))"
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM child").scalar() == 0
    finally:
        engine.dispose()


def test_writes_use_the_write_ahead_log(sqlite_url: str) -> None:
    """A reader sees the last committed state while a writer's transaction is open (WAL)."""
    engine = create_engine(load_settings(database_url=sqlite_url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        with engine.connect() as writer, engine.connect() as reader:
            writer.begin()
            writer.exec_driver_sql("UPDATE t SET n = 2")
            assert reader.exec_driver_sql("SELECT n FROM t").scalar() == 1  # not blocked
            writer.commit()
            reader.rollback()
            assert reader.exec_driver_sql("SELECT n FROM t").scalar() == 2
        assert Path(sqlite_url.removeprefix("sqlite:///") + "-wal").exists()
    finally:
        engine.dispose()
