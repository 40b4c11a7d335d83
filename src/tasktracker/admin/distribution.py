"""Whether a Citus database is distributed as the spec says (docs/citus.md), and making it
so: `users` a reference table, every tenant table distributed by `user_id`, all co-located.

Every table of the registry is checked, so a table a revision forgot to distribute (or one
Citus silently made a "Citus local table") is reported by `db health` and `db check`.
"""

from __future__ import annotations

from sqlalchemy import Connection

from tasktracker.admin import catalog
from tasktracker.db.distribution import citus_installed
from tasktracker.migrations import citus
from tasktracker.migrations.citus import Placement

REFERENCE = "reference table"
CO_LOCATED = f"distributed by {citus.DISTRIBUTION_COLUMN}, co-located"


def distribution(connection: Connection) -> dict[str, str] | None:
    """Each table's placement, `REFERENCE` / `CO_LOCATED` when as it should be, else what it
    is instead; None on a database without Citus."""
    if not citus_installed(connection):
        return None
    known = citus.placements(connection)
    tenant = [table.name for table in catalog.tables() if table.name not in citus.REFERENCE_TABLES]
    group = next((known[name].colocation for name in tenant if _by_user(known.get(name))), None)
    found = {name: _reference(known.get(name)) for name in citus.REFERENCE_TABLES}
    for name in tenant:
        placement = known.get(name)
        if not _by_user(placement):
            found[name] = f"not distributed by {citus.DISTRIBUTION_COLUMN} ({_describe(placement)})"
        elif placement is not None and placement.colocation != group:
            found[name] = (
                f"distributed by {citus.DISTRIBUTION_COLUMN}, not co-located with {tenant[0]}"
            )
        else:
            found[name] = CO_LOCATED
    return found


def problems(found: dict[str, str] | None) -> list[str]:
    """`table: what is wrong` for every table not placed as it should be."""
    return [
        f"{name}: {state}"
        for name, state in (found or {}).items()
        if state not in (REFERENCE, CO_LOCATED)
    ]


def distribute_all(connection: Connection) -> list[str]:
    """Distribute every table not yet placed as it should be (an existing plain database
    moved to Citus); returns the tables changed. In the caller's transaction."""
    return citus.distribute(
        connection,
        reference=citus.REFERENCE_TABLES,
        by_user=[table.name for table in catalog.tenant_tables()],
    )


def _by_user(placement: Placement | None) -> bool:
    return (
        placement is not None
        and placement.kind == "distributed"
        and placement.column == citus.DISTRIBUTION_COLUMN
    )


def _reference(placement: Placement | None) -> str:
    if placement is not None and placement.kind == "reference":
        return REFERENCE
    return f"not a reference table ({_describe(placement)})"


def _describe(placement: Placement | None) -> str:
    if placement is None:
        return "a plain table on the coordinator"
    if placement.kind == "local":
        return "a Citus local table"
    return f"{placement.kind} by {placement.column}"
