"""What a downgrade would drop, worked out before it runs (for the CLI's confirmation).

The tables a downgrade drops are read from the migrations themselves: a scratch in-memory
SQLite database is migrated to the database's current revision, the downgrade is run
there, and the tables it removed are the ones the real downgrade will drop. Nothing is
written to the database; a relative target (`-1`) resolves exactly as it will for the
real downgrade, which is then run to the revision found here (`DowngradePlan.target`),
so what was counted is what runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic.util import CommandError
from sqlalchemy import Engine, func, select, table

from tasktracker.admin import schema
from tasktracker.admin.stats import existing_tables
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import TaskTrackerError
from tasktracker.db.search.index import is_search_object
from tasktracker.db.settings import load_settings


@contextmanager
def revision_errors() -> Iterator[None]:
    """Alembic's refusals (an unknown revision, `-2` from 0001) as our error, one line."""
    try:
        yield
    except CommandError as exc:
        raise TaskTrackerError(f"migration refused: {exc}") from None


@dataclass(frozen=True)
class DowngradePlan:
    current: str | None
    target: str | None
    """The revision the database will be at (None: base)."""
    dropped: dict[str, int]
    """Each table the downgrade drops, with its rows."""

    @property
    def rows(self) -> int:
        return sum(self.dropped.values())

    def describe(self) -> str:
        """E.g. `it drops 2 tables holding 16 rows (tasks 12, categories 4)`."""
        holding = ", ".join(f"{name} {rows:,}" for name, rows in self.dropped.items() if rows)
        return (
            f"it drops {len(self.dropped)} table(s) holding {self.rows:,} rows ({holding})"
            if self.rows
            else f"it drops {len(self.dropped)} empty table(s)"
        )


def plan_downgrade(engine: Engine, revision: str) -> DowngradePlan:
    """Where downgrading to `revision` leads from the current revision, and the rows of
    every table on the way that it drops (largest first)."""
    with engine.connect() as connection:
        current = schema.current_revision(connection)
        present = existing_tables(connection)
    scratch = create_engine(load_settings(database_url="sqlite://"))
    try:
        with scratch.connect() as connection, revision_errors():
            if current is not None:
                schema.upgrade(connection, current)
            before = existing_tables(connection)
            schema.downgrade(connection, revision)
            target = schema.current_revision(connection)
            removed = (before - existing_tables(connection)) & present
            # The search tables (SQLite FTS5) hold a copy of other tables' text: no data.
            dropped = {name for name in removed if not is_search_object(name, "table")}
    finally:
        scratch.dispose()
    with engine.connect() as connection:
        rows = {
            name: connection.scalar(select(func.count()).select_from(table(name))) or 0
            for name in dropped
        }
    ordered = sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    return DowngradePlan(current, target, dict(ordered))
