"""What every command shares: the consoles, the engine, and human-readable numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Connection, Engine

from tasktracker.db import schema
from tasktracker.db.engines import create_engine

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@contextmanager
def engine() -> Iterator[Engine]:
    """An engine for the configured database (`DATABASE_URL`), disposed afterwards."""
    created = create_engine()
    try:
        yield created
    finally:
        created.dispose()


def require_head(connection: Connection) -> None:
    """Refuse to work on a database that is not migrated to the head revision."""
    current, head = schema.current_revision(connection), schema.head_revision()
    if current != head:
        raise schema.NotAtHeadError(
            f"the database is at revision {current or 'base'}, the head is {head}: "
            "run `tasktracker db upgrade` first"
        )


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
