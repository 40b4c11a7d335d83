"""What every command shares: the consoles, the engine, and human-readable numbers.

The command modules import the data layer inside the commands, not at the top: `--help`
then starts without loading SQLAlchemy, the models or the drivers (about 0.1 s instead of
1.5 s). Only this module and `errors` are imported by every start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from tasktracker.db.errors import DatabaseUnavailableError, TaskTrackerError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich exits with 1 when the reader has gone away; the command group handles that
        once for every kind of output instead (exit 0, see app.py)."""
        self.quiet = True
        raise BrokenPipeError


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)


class ExitCodeError(TaskTrackerError):
    """A failure with an exit code of its own (`db health`: 1 unreachable, 3 not at head)."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (None: not SQLite, or an in-memory database)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (`?uri=true`)
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:")
    return None if database in {"", ":memory:"} else Path(database).absolute()


def missing_database(url: URL) -> DatabaseUnavailableError | None:
    """The error for a SQLite URL whose file does not exist (SQLite would create it)."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return None
    return DatabaseUnavailableError(
        f"no SQLite database at {path}: check DATABASE_URL, "
        "or create it with `tasktracker db upgrade`"
    )


@contextmanager
def engine(*, create: bool = False) -> Iterator[Engine]:
    """An engine for the configured database (`DATABASE_URL`), disposed afterwards.

    Only commands that build the schema (`create=True`: upgrade, reset, quickstart) may
    create a SQLite file; any other refuses a missing one, naming the path, instead of
    working on a new empty file where a path was mistyped.
    """
    from tasktracker.db.engines import create_engine
    from tasktracker.db.settings import get_settings

    missing = None if create else missing_database(get_settings().url)
    if missing is not None:
        raise missing
    created = create_engine()
    try:
        yield created
    finally:
        created.dispose()


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
