"""The SQL of every revision passes squawk, and squawk (with our config) still bites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasktracker.admin import schema
from tests.migrations.squawk import lint, squawk_binary, write_revision_sql

pytestmark = pytest.mark.skipif(
    squawk_binary() is None, reason="squawk not installed (pip install -e '.[dev]')"
)


def _outside_transactions(sql: str) -> list[str]:
    """The statements of a revision's SQL that run outside any BEGIN ... COMMIT."""
    outside, inside = [], False
    for part in sql.split(";\n"):
        lines = part.strip().splitlines()
        statement = "\n".join(line for line in lines if not line.startswith("-- ")).strip()
        if statement in {"BEGIN", "COMMIT"}:
            assert inside == (statement == "COMMIT"), "transactions neither nest nor dangle"
            inside = statement == "BEGIN"
        elif statement and not inside:
            outside.append(statement)
    assert not inside, "the last transaction is committed"
    return outside


_CONCURRENT = (
    "CREATE INDEX CONCURRENTLY ",
    "CREATE UNIQUE INDEX CONCURRENTLY ",
    "DROP INDEX CONCURRENTLY ",
    "SET statement_timeout = ",
)


def test_every_revision_passes_squawk(tmp_path: Path) -> None:
    paths = write_revision_sql(tmp_path)
    assert len(paths) == len(schema.history())
    for path in paths:
        sql = path.read_text()
        # Offline mode rendered PostgreSQL, with the timeouts first; everything else runs in
        # transactions (one per revision, except where a revision validates a constraint
        # in a second one, or builds indexes concurrently, which PostgreSQL does only
        # outside a transaction, with their own statement timeout: docs/migrations.md).
        assert sql.startswith("SET lock_timeout = '5s';\n\nSET statement_timeout = '60s';")
        outside = _outside_transactions(sql)
        assert outside[:2] == ["SET lock_timeout = '5s'", "SET statement_timeout = '60s'"]
        concurrent = outside[2:]
        for statement in concurrent:
            assert statement.startswith(_CONCURRENT), statement
        if concurrent:
            assert concurrent[0] == "SET statement_timeout = '30min'"
            assert concurrent[-1] == "SET statement_timeout = '60s'"
        two = "VALIDATE CONSTRAINT" in sql or bool(concurrent)
        assert sql.count("\nBEGIN;\n") == (2 if two else 1)
        assert " CHAR(32)" not in sql  # SQLite's rendering of UUIDs
    first = paths[0].read_text()
    assert "CREATE FUNCTION tasktracker_uuid7()" in first  # ddl.py's PostgreSQL-only part
    assert "EXECUTE FUNCTION tasktracker_touch_updated_at()" in first

    result = lint(paths, reporter="gcc")
    assert result.returncode == 0, result.stdout + result.stderr


def test_squawk_flags_an_unsafe_migration(tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.sql"
    unsafe.write_text(
        "SET lock_timeout = '5s';\nSET statement_timeout = '60s';\nBEGIN;\n"
        "CREATE INDEX ix_tasks_title ON tasks (title);\n"
        "ALTER TABLE tasks ADD COLUMN estimate integer NOT NULL;\n"
        "COMMIT;\n"
    )
    result = lint([unsafe], reporter="gcc")
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout
    assert "adding-required-field" in result.stdout
