"""Row counts and sizes, for the CLI's `db stats` and `quickstart`.

Counts go through the mapped models, so in a user-scoped session the tenancy criteria
limit every count to that user: per-user statistics need no filter of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.orm import Session

from tasktracker.admin import catalog
from tasktracker.db.tenancy import USER_ID


@dataclass(frozen=True)
class TableStats:
    table: str
    domain: str
    rows: int
    bytes: int | None = None
    """Table, index and TOAST size on PostgreSQL; None on SQLite."""


def existing_tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def table_counts(session: Session) -> list[TableStats]:
    """Rows of every table that exists in the database, by domain (a user scope: that
    user's rows). On PostgreSQL each entry also has the table's size on disk."""
    connection = session.connection()
    present = existing_tables(connection)
    models = catalog.models_by_table()
    sizes = _table_sizes(connection, present) if session.info.get(USER_ID) is None else {}
    return [
        TableStats(
            table.name,
            catalog.domain_of(table),
            session.scalar(select(func.count()).select_from(models[table.name])) or 0,
            sizes.get(table.name),
        )
        for table in catalog.tables_by_domain()
        if table.name in present
    ]


def _table_sizes(connection: Connection, present: set[str]) -> dict[str, int]:
    if connection.dialect.name != "postgresql":
        return {}
    rows = connection.execute(
        text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
    ).all()
    return {name: int(size) for name, size in rows if name in present}


def database_size(connection: Connection) -> int | None:
    """The whole database's size in bytes (PostgreSQL: `pg_database_size`; SQLite: pages)."""
    if connection.dialect.name == "postgresql":
        return int(connection.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    if connection.dialect.name == "sqlite":
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar() or 0
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar() or 0
        return int(pages) * int(page_size)
    return None
