"""search

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 01:00:00

Full-text search of tasks, messages, requirements, test specifications and their steps
(`tasktracker.db.search`, docs/search.md): for each table, its text fields with their
weights, the title above the body.

- PostgreSQL: a GIN index on the weighted document, `ix_<table>_search`, in the
  text-search configuration of the settings (`SEARCH_CONFIG`, default `simple`), built
  `CONCURRENTLY` in autocommit after the revision's (empty) transaction, allowing itself
  30 minutes, as 0005's indexes are (a failed build is redone by the next upgrade). No
  column and no table is added: the indexes follow the tables' shards on Citus.
- SQLite: an FTS5 table `<table>_search` (the fields, then `user_id` and `id`), filled from
  the table and kept in sync by three triggers (`<table>_search_insert`, `_update`,
  `_delete`), in the revision's transaction.

The downgrade drops them. Alembic's autogenerate does not see them (`env.py`).
"""

from collections.abc import Sequence

from alembic import op

from tasktracker.db.search.index import FTS5_TOKENIZER, Weight, document_sql
from tasktracker.db.settings import get_settings

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVISIBLE_TO_AUTOGENERATE = True
"""Only search objects, which `env.py` leaves out of autogenerate: the drift tests look for a
model change in the revisions before this one."""

INDEXES: dict[str, dict[str, Weight]] = {
    "tasks": {"title": "A", "description": "B"},
    "messages": {"content": "A"},
    "requirements": {"key": "A", "title": "A", "statement": "B", "rationale": "C"},
    "test_specifications": {"key": "A", "title": "A", "objective": "B"},
    "test_steps": {"action": "B", "expected_result": "C"},
}


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _drop_gin(table: str) -> None:
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS ix_{table}_search")


def _create_gin(table: str, fields: dict[str, Weight]) -> None:
    _drop_gin(table)  # a failed concurrent build leaves an invalid index of this name
    document = document_sql(get_settings().search_config, fields, list(fields))
    op.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_{table}_search ON {table} "
        f"USING gin (({document}))"
    )


def _create_fts5(table: str, fields: dict[str, Weight]) -> None:
    names = ", ".join(fields)
    new = ", ".join(f"NEW.{name}" for name in fields)
    assigned = ", ".join(f"{name} = NEW.{name}" for name in fields)
    found = f"{table}_search MATCH 'id : \"' || OLD.id || '\"'"
    op.execute(
        f"CREATE VIRTUAL TABLE {table}_search USING fts5({names}, user_id, id, "
        f"tokenize = '{FTS5_TOKENIZER}')"
    )
    op.execute(
        f"INSERT INTO {table}_search ({names}, user_id, id) "
        f"SELECT {names}, user_id, id FROM {table}"
    )
    op.execute(
        f"CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {table}_search ({names}, user_id, id) VALUES ({new}, NEW.user_id, NEW.id); "
        "END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_search_update AFTER UPDATE OF {names} ON {table} BEGIN "
        f"UPDATE {table}_search SET {assigned} WHERE {found}; END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {table}_search WHERE {found}; END"
    )


def _drop_fts5(table: str) -> None:
    for event in ("delete", "update", "insert"):
        op.execute(f"DROP TRIGGER {table}_search_{event}")
    op.execute(f"DROP TABLE {table}_search")


def upgrade() -> None:
    if not _is_postgres():
        for table, fields in INDEXES.items():
            _create_fts5(table, fields)
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = '30min'")
        for table, fields in INDEXES.items():
            _create_gin(table, fields)
        as_sql = op.get_context().as_sql
        op.execute("SET statement_timeout = '60s'" if as_sql else "RESET statement_timeout")


def downgrade() -> None:
    if not _is_postgres():
        for table in reversed(INDEXES):
            _drop_fts5(table)
        return
    with op.get_context().autocommit_block():
        for table in reversed(INDEXES):
            _drop_gin(table)
