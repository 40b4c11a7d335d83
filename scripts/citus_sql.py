"""Print the SQL that distributes an existing TaskTracker schema on Citus (docs/citus.md).

    .venv/bin/python scripts/citus_sql.py > distribute.sql
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f distribute.sql

Derived from the models' metadata, so new tables are included: `users` becomes a reference
table, every other table is distributed by `user_id`, co-located with the others, parents
before children (the order of the foreign keys).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tasktracker import models

REFERENCE_TABLES = ("users",)
DISTRIBUTION_COLUMN = "user_id"


def distribution_order() -> list[str]:
    """Tenant tables, each after every table its foreign keys point to."""
    return [
        table.name for table in models.metadata.sorted_tables if table.name not in REFERENCE_TABLES
    ]


def statements() -> list[str]:
    tenant = distribution_order()
    lines = [
        "-- users: a reference table. On an existing schema the tenant tables already have foreign",
        '-- keys to it; with this setting off Citus does not turn them into "Citus local tables".',
        "SET citus.enable_local_reference_table_foreign_keys = off;",
        *(f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES),
        "RESET citus.enable_local_reference_table_foreign_keys;",
        f"-- every other table by {DISTRIBUTION_COLUMN}, co-located, parents first",
    ]
    for position, name in enumerate(tenant):
        colocate = "default" if position == 0 else tenant[0]
        lines.append(
            f"SELECT create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}', "
            f"colocate_with => '{colocate}');"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(statements()))
