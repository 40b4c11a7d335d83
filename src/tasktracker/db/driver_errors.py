"""The one place driver errors become the package's own exceptions.

Installed as the engines' `handle_error` hook, so every statement that fails — in a
repository, a flush, a commit — surfaces as a `TaskTrackerError` naming the field or
constraint, never as a psycopg/sqlite3/asyncpg exception.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from tasktracker.db.base import metadata
from tasktracker.db.errors import (
    ConflictError,
    DatabaseUnavailableError,
    IntegrityError,
    LockTimeoutError,
    QueryTimeoutError,
    StorageFullError,
    TaskTrackerError,
    ValidationError,
)

STORAGE_FULL = "the database's storage is full: the write was not made"
"""Said for PostgreSQL's `disk_full` and SQLite's `SQLITE_FULL` alike: the driver's message
names server-side files ("could not extend file "base/16384/16385"")."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add detail lines and hints)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _final_name(table: Table, constraint: Any) -> str | None:
    name = constraint.name
    if name is None:
        return None
    if isinstance(constraint, CheckConstraint) and not name.startswith("ck_"):
        return f"ck_{table.name}_{name}"
    return str(name)


def _find_constraint(name: str) -> tuple[Table, Any] | None:
    """The constraint of that name; on Citus also the one a shard's copy is named after:
    `uq_categories_user_id_name_lower_102010`, the shard's id appended, or, where that
    would pass PostgreSQL's 63 characters, the name cut, a hash of it and the shard's id
    (`uq_message_tool_calls_user_id_conversation_id_t_628316f7_102069`: the one constraint
    whose name the cut one begins)."""
    named = {
        final: (table, item)
        for table in metadata.tables.values()
        for item in (*table.constraints, *table.indexes)
        if (final := _final_name(table, item)) is not None
    }
    for candidate in (name, _SHARD_SUFFIX.sub("", name)):
        if candidate in named:
            return named[candidate]
    cut = _LONG_SHARD_NAME.match(name)
    if cut is None:
        return None
    found = [named[n] for n in named if n.startswith(cut["prefix"]) and n != cut["prefix"]]
    return found[0] if len(found) == 1 else None


_SHARD_SUFFIX = re.compile(r"_\d+$")
_LONG_SHARD_NAME = re.compile(r"^(?P<prefix>.+)_[0-9a-f]{8}_\d+$")
# Citus does not forward the violated constraint's name (`diag.constraint_name` is None):
# only the message names it, as the shard's copy. A violation inside COPY on a worker even
# arrives as XX000 (internal error), recognised by the same message.
_VIOLATION = re.compile(
    r'violates (?P<kind>check|unique|foreign key|not-null) constraint "(?P<name>[^"]+)"'
)
_NULL_COLUMN = re.compile(r'null value in column "(?P<column>[^"]+)"')
_CITUS_SQLSTATE = {"check": "23514", "unique": "23505", "foreign key": "23503"}
# What Citus says for an UPDATE of the distribution column (a row moved to another user):
# refused by its planner (0A000), where PostgreSQL alone refuses it by a foreign key.
_CITUS_MOVES_ROW = "modifying the partition value of rows is not allowed"


def _key_columns(item: Any) -> list[str]:
    """The columns a key or foreign key names, without the tenant key (every one has it)."""
    if isinstance(item, Index):
        names = [getattr(expr, "name", str(expr)) for expr in item.expressions]
    elif isinstance(item, ColumnCollectionConstraint):
        names = [column.name for column in item.columns]
    else:
        names = []
    return [name for name in names if name != "user_id"] or names


def _key_named_by_columns(detail: str) -> str | None:
    """The name of the key SQLite's "UNIQUE constraint failed: tasks.user_id, tasks.id"
    means: SQLite names a primary key or a column UNIQUE by its columns, not its name."""
    table = metadata.tables.get(detail.split(".", 1)[0])
    if table is None:
        return None
    columns = {part.strip().rsplit(".", 1)[-1] for part in detail.split(",")}
    keys: list[Any] = [index for index in table.indexes if index.unique]
    keys += [c for c in table.constraints if isinstance(c, PrimaryKeyConstraint | UniqueConstraint)]
    for key in keys:
        if {column.name for column in key.columns} == columns:
            return _final_name(table, key)
    return None


def _as_on_postgres(sqlstate: str, constraint: str | None, message: str) -> tuple[str, str | None]:
    """The SQLSTATE and constraint PostgreSQL alone would have reported, from Citus's."""
    found = _VIOLATION.search(message)
    if found is None:
        return sqlstate, constraint
    if sqlstate == "XX000":
        sqlstate = _CITUS_SQLSTATE.get(found["kind"], "23502")
    return sqlstate, constraint or found["name"]


def _from_integrity(
    sqlstate: str, constraint: str | None, column: str | None, message: str
) -> TaskTrackerError | None:
    if sqlstate == "23505":
        return _violation(constraint, "unique", message)
    if sqlstate == "23514":
        return _violation(constraint, "check", message)
    if sqlstate == "23502":
        null = _NULL_COLUMN.search(message)
        return ValidationError.single(column or (null and null["column"]) or "value", "is required")
    if sqlstate == "23503":
        kind = "restrict" if message.startswith("update or delete on table") else "foreign_key"
        return _violation(constraint, kind, message)
    return None


def _violation(constraint_name: str | None, kind: str, fallback: str) -> TaskTrackerError:
    found = _find_constraint(constraint_name) if constraint_name else None
    table, item = found if found else (None, None)
    model = table.name if table is not None else None
    if kind == "check":
        if item is not None and "field" in item.info:
            return ValidationError.single(item.info["field"], item.info["message"], model=model)
        return ValidationError.single(constraint_name or "value", fallback, model=model)
    if kind == "unique":
        if item is not None:
            field = item.info.get("field") or ", ".join(_key_columns(item))
            message = item.info.get("message", "already exists")
            return ConflictError(f"{model}: {field} {message}", field=field)
        return ConflictError(f"duplicate key: {fallback}")
    if kind == "restrict":
        return IntegrityError(f"still in use: {fallback}")
    if item is not None:
        referred = item.referred_table.name
        columns = ", ".join(_key_columns(item))
        return IntegrityError(f"{model}.{columns}: no such row in {referred} for this user")
    return IntegrityError(f"a referenced row does not exist: {fallback}")


_CONNECTION_ENDED = {
    "57P01",  # admin_shutdown: terminated, or the server is shutting down
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "57P05",  # idle_session_timeout
    "25P03",  # idle_in_transaction_session_timeout
}


def _from_postgres(orig: Any) -> TaskTrackerError | None:
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    diag = getattr(orig, "diag", None)
    cause = orig.__cause__ if orig.__cause__ is not None else orig
    constraint = getattr(diag, "constraint_name", None) or getattr(cause, "constraint_name", None)
    message = getattr(diag, "message_primary", None) or first_line(orig)
    if sqlstate is None:
        return None
    sqlstate, constraint = _as_on_postgres(sqlstate, constraint, message)
    if sqlstate.startswith("23"):
        column = getattr(diag, "column_name", None) or getattr(cause, "column_name", None)
        return _from_integrity(sqlstate, constraint, column, message)
    if _CITUS_MOVES_ROW in message:
        return IntegrityError(f"a row cannot move to another user: {message}")
    if sqlstate.startswith("22"):
        return ValidationError.single("value", message)
    if sqlstate == "53100":
        return StorageFullError(STORAGE_FULL)
    if sqlstate == "57014":
        return QueryTimeoutError(f"statement cancelled: {message}")
    if sqlstate == "55P03":
        return LockTimeoutError(f"lock not available: {message}")
    if sqlstate in {"40001", "40P01"}:
        return ConflictError(f"concurrent update, try again: {message}")
    if sqlstate.startswith("08") or sqlstate in _CONNECTION_ENDED:
        return DatabaseUnavailableError(f"database connection lost: {message}")
    if sqlstate.startswith("P0"):
        return IntegrityError(message)
    return None


def _from_sqlite(orig: sqlite3.Error) -> TaskTrackerError | None:
    code = getattr(orig, "sqlite_errorname", "")
    message = first_line(orig)
    detail = message.split(": ", 1)[1] if ": " in message else ""
    if code == "SQLITE_CONSTRAINT_CHECK":
        return _violation(detail, "check", message)
    if code in {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}:
        if detail.startswith("index '"):
            return _violation(detail.removeprefix("index '").rstrip("'"), "unique", message)
        return _violation(_key_named_by_columns(detail), "unique", message)
    if code == "SQLITE_CONSTRAINT_NOTNULL":
        return ValidationError.single(detail.rsplit(".", 1)[-1] or "value", "is required")
    if code == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return IntegrityError("a referenced row does not exist, or the row is still referenced")
    if code == "SQLITE_CONSTRAINT_TRIGGER" or code.startswith("SQLITE_CONSTRAINT"):
        return IntegrityError(detail or message)
    if code == "SQLITE_BUSY_SNAPSHOT":  # a read snapshot older than another's commit
        return ConflictError(f"concurrent update, try again: {message}")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return LockTimeoutError(f"database is busy: {message}")
    if code == "SQLITE_FULL":
        return StorageFullError(STORAGE_FULL)
    if code == "SQLITE_TOOBIG":
        return ValidationError.single("value", "too big")
    return None


def translate(context: ExceptionContext) -> BaseException | None:
    """`handle_error` hook: return the exception callers should see instead, or None."""
    if context.is_pre_ping:
        return None
    orig = context.original_exception
    if isinstance(orig, TaskTrackerError):
        return orig  # refused by one of our column types while binding (a naive datetime)
    if context.sqlalchemy_exception is None:
        return _known(orig, context.is_disconnect)
    translated = translate_driver_error(orig, context.is_disconnect)
    if context.connection is not None and transaction_lost(context.connection):
        context.is_disconnect = True  # drop this connection (only: the pool's others are fine)
        context.invalidate_pool_on_disconnect = False
    return translated


def transaction_lost(connection: Connection) -> bool:
    """Whether SQLite ended the connection's transaction by itself after an error, as it
    may on SQLITE_FULL or an I/O error. Its connections run in driver-level autocommit (the
    BEGIN is ours), so the unit's next statements would each commit on their own: such a
    connection is dropped like a lost one, and the unit fails as a whole."""
    if connection.dialect.name != "sqlite" or connection.invalidated:
        return False
    if not connection.in_transaction():
        return False
    # sqlite3's and aiosqlite's connections both say whether SQLite is in a transaction.
    driver = connection.connection.driver_connection
    return getattr(driver, "in_transaction", True) is False


def translate_driver_error(orig: BaseException, is_disconnect: bool = False) -> TaskTrackerError:
    """A driver's exception as the package's own (also for statements sent on the driver
    connection directly: the compiled fast path, COPY)."""
    translated = _known(orig, is_disconnect)
    return translated or TaskTrackerError(f"database error: {first_line(orig)}")


def _known(orig: BaseException, is_disconnect: bool) -> TaskTrackerError | None:
    if is_disconnect:
        return DatabaseUnavailableError(f"database connection lost: {first_line(orig)}")
    if isinstance(orig, sqlite3.Error):
        return _from_sqlite(orig)
    if "cannot contain NUL" in str(orig):
        return ValidationError.single("value", "must not contain NUL characters")
    return _from_postgres(orig)
