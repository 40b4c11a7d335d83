"""Each revision runs in its own transaction, with lock and statement timeouts on PostgreSQL.

The history is copied to a temporary script location and one extra revision is added on
top of the head: one that fails half-way, one that waits for a lock held by a long
transaction, one that records the settings it ran under.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect

import tasktracker.migrations
from tasktracker import models
from tasktracker.admin import schema
from tasktracker.db.errors import TaskTrackerError

REVISION = '''"""{doc}"""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def _history_plus(tmp_path: Path, doc: str, body: str) -> Config:
    """An Alembic config whose history is the real one plus revision 9999 running `body`."""
    location = tmp_path / "migrations"
    source = Path(tasktracker.migrations.__file__).parent
    shutil.copytree(source, location, ignore=shutil.ignore_patterns("__pycache__"))
    text = REVISION.format(doc=doc, head=schema.head_revision(), body=body)
    (location / "versions" / "9999_extra.py").write_text(text)
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def _on(config: Config, engine: Engine, **attributes: str) -> Config:
    config.attributes.update(connection=engine, **attributes)
    return config


def _relations(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master"
    else:
        query = "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    return set(connection.exec_driver_sql(query).scalars())


FAILING = """
    op.create_table(
        "doomed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_doomed_note", "doomed", ["note"])
    op.execute("INSERT INTO doomed (id, note) VALUES (1, 'first')")
    op.execute("INSERT INTO doomed (id, note) VALUES (1, 'same key: fails')")
"""


def test_a_failing_revision_leaves_the_previous_revision(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    config = _on(_history_plus(tmp_path, "fails half-way", FAILING), fresh_engine)
    with pytest.raises(TaskTrackerError, match="doomed"):
        command.upgrade(config, "heads")  # from empty: the real revisions, then 9999

    with fresh_engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
        relations = _relations(connection)
    assert "doomed" not in relations
    assert "ix_doomed_note" not in relations
    assert set(models.metadata.tables) <= relations  # the revisions before it were committed


def test_migrations_run_with_lock_and_statement_timeouts(pg_engine: Engine, tmp_path: Path) -> None:
    body = """
    op.execute(
        "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lock_timeout, "
        "current_setting('statement_timeout') AS statement_timeout"
    )
"""
    command.upgrade(_on(_history_plus(tmp_path, "records", body), pg_engine), "heads")
    with pg_engine.connect() as connection:
        seen = connection.exec_driver_sql("SELECT * FROM seen").one()
        assert tuple(seen) == ("5s", "1min")
        # SET LOCAL: the pooled connection is back to the server's defaults.
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "0"


def test_a_revision_waiting_for_a_lock_gives_up_and_rolls_back(
    pg_engine: Engine, tmp_path: Path
) -> None:
    schema.upgrade(pg_engine)
    body = """
    op.create_table("audit_log", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
"""
    config = _on(_history_plus(tmp_path, "needs users", body), pg_engine, lock_timeout="200ms")
    with pg_engine.connect() as blocker:
        blocker.begin()
        # Were the lock timeout not applied, the migration would wait for this transaction,
        # which the server ends after 10 s: the test then fails instead of hanging.
        blocker.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = '10s'")
        blocker.exec_driver_sql("UPDATE users SET is_active = true")  # a long write transaction
        started = time.perf_counter()
        with pytest.raises(TaskTrackerError, match="lock timeout"):
            command.upgrade(config, "heads")
        assert time.perf_counter() - started < 5
        blocker.rollback()

    with pg_engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
        assert "audit_log" not in _relations(connection)
        assert "nickname" not in {c["name"] for c in inspect(connection).get_columns("users")}
