"""Distribution on Citus (docs/citus.md): what the revisions, `tasktracker db distribute` and
the health check share.

The spec's rule: `users` is a reference table (a copy on every node); every other table is
distributed by `user_id`, all in one co-location group, so one user's rows of every table
are on one node. Every function here is a no-op (or reports nothing) on a database without
the `citus` extension, so the same revisions run on plain PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, text

from tasktracker.db.distribution import citus_installed

REFERENCE_TABLES = ("users",)
DISTRIBUTION_COLUMN = "user_id"

# What a migration transaction needs on Citus (env.py sets them with SET LOCAL, on every
# PostgreSQL, where without Citus they are inert placeholders): the project's triggers on
# distributed tables (`updated_at`, the nulling triggers) are created and dropped only with
# the unsafe-trigger check off; DDL after a multi-shard statement in one transaction (a
# downgrade's DROP FUNCTION after DROP TRIGGER) needs the shards touched one connection per
# node, not in parallel; a new table's foreign key to `users` (a reference table by then)
# must leave it a plain table for `distribute` (on, Citus would make it a Citus local table,
# which a distributed table cannot be referenced by).
MIGRATION_SETTINGS = {
    "citus.enable_local_reference_table_foreign_keys": "off",
    "citus.enable_unsafe_triggers": "on",
    "citus.multi_shard_modify_mode": "sequential",
}


@dataclass(frozen=True)
class Placement:
    """How Citus holds one table: `kind` is `reference`, `distributed`, `local` (a Citus
    local table) or None (a plain table Citus does not know)."""

    table: str
    kind: str | None
    column: str | None
    colocation: int | None


def placements(connection: Connection) -> dict[str, Placement]:
    """Every table Citus knows, by name (an empty mapping without Citus)."""
    if not citus_installed(connection):
        return {}
    rows = connection.execute(
        text(
            "SELECT table_name::text, citus_table_type, distribution_column, colocation_id"
            " FROM citus_tables"
        )
    )
    return {
        name: Placement(name, kind, None if column == "<none>" else column, colocation)
        for name, kind, column, colocation in rows
    }


def distribute(
    connection: Connection, *, reference: Iterable[str] = (), by_user: Iterable[str] = ()
) -> list[str]:
    """Make `reference` reference tables and distribute `by_user` (parents first) by
    `user_id`, co-located with the tables already distributed; returns the tables changed.

    Tables already placed as asked are left alone, so it is idempotent. Runs in the caller's
    transaction; a no-op without Citus."""
    if not citus_installed(connection):
        return []
    known = placements(connection)
    changed = []
    # Also outside a migration (`tasktracker db distribute`): the tables have triggers, and
    # the tenant tables foreign keys to `users`.
    for name, value in MIGRATION_SETTINGS.items():
        connection.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
    for table in reference:
        if _kind(known, table) != "reference":
            connection.execute(text("SELECT create_reference_table(:t)"), {"t": table})
            changed.append(table)
    anchor = _colocation_anchor(known)
    for table in by_user:
        if _kind(known, table) == "distributed":
            continue
        connection.execute(
            text("SELECT create_distributed_table(:t, :column, colocate_with => :anchor)"),
            {"t": table, "column": DISTRIBUTION_COLUMN, "anchor": anchor or "default"},
        )
        anchor = anchor or table
        changed.append(table)
    return changed


def _kind(known: Mapping[str, Placement], table: str) -> str | None:
    placement = known.get(table)
    return placement.kind if placement is not None else None


def _colocation_anchor(known: Mapping[str, Placement]) -> str | None:
    """A table distributed by `user_id` to co-locate new ones with (the oldest group's)."""
    tenant = [
        placement
        for placement in known.values()
        if placement.kind == "distributed" and placement.column == DISTRIBUTION_COLUMN
    ]
    if not tenant:
        return None
    return min(tenant, key=lambda placement: (placement.colocation or 0, placement.table)).table
