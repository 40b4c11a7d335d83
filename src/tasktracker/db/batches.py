"""The rows a batch job (a purge, closing abandoned streams) claims for its next batch.

A job changes at most a bounded number of rows per unit of work, picked by a SELECT of their
keys with a LIMIT, then changes those rows by key. On PostgreSQL the keys are read `FOR
UPDATE SKIP LOCKED`: a row the application is writing right now is left for a later batch
instead of being waited for, and two jobs running at once take different rows. Citus cannot
lock rows read across shards (an unscoped read of every user's): there two jobs may pick the
same rows, and the second changes none of them. Changing by key, not by a subquery, is also
what Citus can run across shards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from tasktracker.db.distribution import citus_installed
from tasktracker.db.tenancy import USER_ID


def claimed(session: Session, keys: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of `keys` (a SELECT of key columns, with its LIMIT), locked where the
    database can skip what others hold."""
    connection = session.connection()
    scoped = session.info.get(USER_ID) is not None  # one user's rows: one shard on Citus
    if connection.dialect.name == "postgresql" and (scoped or not citus_installed(connection)):
        keys = keys.with_for_update(skip_locked=True)
    return [tuple(row) for row in session.execute(keys)]
