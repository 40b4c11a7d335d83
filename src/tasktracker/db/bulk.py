"""The fast bulk path: many rows of one table in one round of the driver.

    with engine.begin() as connection:
        rows = ({"user_id": uid, "title": f"task {i}"} for i in range(1_000_000))
        bulk_insert(connection, Task, rows)

- PostgreSQL: one `COPY ... FROM STDIN` through psycopg's `cursor.copy()` on the driver
  connection underneath the SQLAlchemy connection (so it joins that connection's
  transaction), rows streamed as they are generated.
- SQLite: the driver's `executemany` of one prepared INSERT, in chunks.

Like the ORM, it fills what the models fill: a UUIDv7 `id` (`new_id`), `created_at` (now)
and `updated_at` (equal to `created_at`), and every column with a Python default (e.g. a
status). A value the caller gives is kept; filled values are written back into the row
mappings, so the caller can read the new ids (`row["id"]`) to reference them in the next
table. Values pass through each column type's bind processing (UTC timestamps, enums), the
same conversion the ORM applies.

This path is for trusted, generated data (seeding, benchmarks): it does not run model
validation. The database still checks every constraint, and a violation aborts the whole
statement (the error is translated as usual).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from itertools import islice
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Table
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from tasktracker.db import driver_errors
from tasktracker.db.errors import FieldError, ValidationError
from tasktracker.db.types import StrEnumType, new_id, utc_now

Row = MutableMapping[str, Any]
Filler = Callable[[Row], Any]
DEFAULT_CHUNK_SIZE = 5_000


def _filler(column: Column[Any]) -> Filler | None:
    """How to fill `column` when a row leaves it out (None: leave it to the database)."""
    if column.name == "updated_at" and "created_at" in column.table.c:
        return lambda row: row["created_at"]
    default = column.default
    if isinstance(default, ScalarElementColumnDefault):
        value = default.arg
        return lambda row: value
    if isinstance(default, CallableColumnDefault):
        if column.name == "id":
            return lambda row: new_id()
        if column.name == "created_at":
            return lambda row: utc_now()
    return None


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processing; memoized for enums (a handful of distinct values)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(column.type, StrEnumType):
        return process
    cache: dict[Any, Any] = {}

    def memoized(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            cache[value] = converted = process(value)
            return converted

    return memoized


_MISSING = object()


class _Plan:
    """The column list of one bulk statement and how each value is produced."""

    def __init__(self, connection: Connection, table: Table, first: Row) -> None:
        fillers = {column.name: _filler(column) for column in table.c}
        # created_at before updated_at, which copies it.
        ordered = sorted(table.c, key=lambda column: column.name == "updated_at")
        self.columns = [c for c in ordered if c.name in first or fillers[c.name] is not None]
        self.names = [column.name for column in self.columns]
        self.known = frozenset(self.names)
        self.steps = [
            (column.name, fillers[column.name], _processor(column, connection.dialect))
            for column in self.columns
        ]
        self.table = table

    def values(self, row: Row) -> tuple[Any, ...]:
        if not row.keys() <= self.known:
            raise self._unknown(row)
        out: list[Any] = []
        append = out.append
        try:
            for name, fill, process in self.steps:
                value = row.get(name, _MISSING)
                if value is _MISSING:
                    value = row[name] = None if fill is None else fill(row)
                append(value if process is None or value is None else process(value))
        except ValidationError as exc:  # refused by one of our column types (a naive datetime)
            reason = exc.errors[0].message
        except (TypeError, ValueError, AttributeError):  # by SQLAlchemy's types, or an enum
            reason = "is not a value this column can store"
        else:
            return tuple(out)
        raise ValidationError.single(name, reason, model=self.table.name)

    def _unknown(self, row: Row) -> ValidationError:
        def problem(name: str) -> str:
            if name in self.table.c:
                return "missing from the first row (every row must name the same columns)"
            return f"is not a column of {self.table.name}"

        return ValidationError(
            (FieldError(name, problem(name)) for name in sorted(row.keys() - self.known)),
            model=self.table.name,
        )


def bulk_insert(
    connection: Connection,
    target: type[Any] | Table,
    rows: Iterable[Row],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `rows` (mappings of column name to value) into the table of `target` (a table
    model or a `Table`); returns how many. The columns are those of the first row plus the
    ones filled by default. `on_progress(n)` is called after every `chunk_size` rows."""
    table: Table = target if isinstance(target, Table) else target.__table__
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    plan = _Plan(connection, table, first)
    stream = _chain(first, iterator)
    if connection.dialect.name == "postgresql":
        return _copy(connection, plan, stream, chunk_size, on_progress)
    return _executemany(connection, plan, stream, chunk_size, on_progress)


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def _copy(
    connection: Connection,
    plan: _Plan,
    rows: Iterator[Row],
    chunk_size: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in plan.names)
    statement = f"COPY {quote(plan.table.name)} ({columns}) FROM STDIN"
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    count = 0
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(plan.values(row))
                count += 1
                if on_progress is not None and count % chunk_size == 0:
                    on_progress(chunk_size)
    except Exception as exc:
        raise _translated(exc) from None
    if on_progress is not None and count % chunk_size:
        on_progress(count % chunk_size)
    return count


def _executemany(
    connection: Connection,
    plan: _Plan,
    rows: Iterator[Row],
    chunk_size: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in plan.names)
    marks = ", ".join("?" for _ in plan.names)
    statement = f"INSERT INTO {quote(plan.table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
    count = 0
    while chunk := [plan.values(row) for row in islice(rows, chunk_size)]:
        connection.exec_driver_sql(statement, chunk)
        count += len(chunk)
        if on_progress is not None:
            on_progress(len(chunk))
    return count


def _translated(exc: Exception) -> Exception:
    """A driver error from COPY (raised outside SQLAlchemy, so not seen by the engine's
    `handle_error` hook) into the project's errors, by the same translator."""
    if not type(exc).__module__.startswith("psycopg"):
        return exc
    return driver_errors.translate_driver_error(exc)
