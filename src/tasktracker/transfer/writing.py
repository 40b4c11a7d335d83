"""Writing an imported table's rows, and naming the row at fault when that fails.

Each row is built through its table model, so every field is validated before anything
is sent; a refusal is reported under the row's place in the document
(`tables.tasks[17].title: ...`). The import checks the rules across rows on the built
objects (`transfer.service`) before any is written. The rows of one table then go to the
database in one flush (the ORM batches them), inside a savepoint. If the database refuses
the batch (a name the user already has, the same name twice in the document), the
savepoint is rolled back and the rows are sent again one at a time, so the first that
fails on its own is named, with the value at fault: `tables.categories[1].name: 'Home' is
already used by another category`. That second pass only runs on the way to an error: the
unit of work rolls back whole either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Column, Index, Table, UniqueConstraint, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause, ColumnElement, TextClause
from sqlalchemy.sql.visitors import replacement_traverse

from tasktracker.admin import catalog
from tasktracker.db.errors import (
    ConflictError,
    FieldError,
    IntegrityError,
    TaskTrackerError,
    ValidationError,
)


class Row(NamedTuple):
    """A row of the document: where it is (`tables.tasks[17]`) and its values, ids remapped."""

    where: str
    values: dict[str, Any]


_REFUSALS = (ValidationError, ConflictError, IntegrityError)
"""What the database says about the data itself (anything else, e.g. a lost connection,
is not retried row by row)."""


def build_rows(table: Table, rows: list[Row]) -> list[Any]:
    """A model instance of `table` for each row, validated; a refused row is named."""
    model = catalog.model_for(table)
    return [_build(model, row) for row in rows]


def write_rows(session: Session, table: Table, rows: list[Row], objects: list[Any]) -> None:
    """Add `objects` (built from `rows` by `build_rows`) to the session's unit of work; a
    row the database refuses is named."""
    try:
        with session.begin_nested(), _quiet_pipeline_ends(session):
            session.add_all(objects)
            session.flush()
    except _REFUSALS as exc:
        raise _first_refused(session, table, rows) or exc from None


def _build(model: type[Any], row: Row) -> Any:
    try:
        return model(**row.values)
    except ValidationError as exc:
        raise _named(row, exc) from None


def _first_refused(session: Session, table: Table, rows: list[Row]) -> TaskTrackerError | None:
    """Send the rows one INSERT each until one is refused; that refusal, named."""
    model = catalog.model_for(table)
    for row in rows:
        duplicate = _duplicated_key(session, table, row)
        if duplicate is not None:
            field, message = duplicate
            return ConflictError(f"{row.where}.{field}: {row.values.get(field)!r} {message}")
        try:
            session.add(model(**row.values))
            session.flush()
        except _REFUSALS as exc:
            return _named(row, exc)
    return None


def _named(row: Row, error: TaskTrackerError) -> TaskTrackerError:
    """`error` about `row`, under the row's place in the document."""
    if isinstance(error, ValidationError):
        return ValidationError(
            FieldError(f"{row.where}.{e.field}", e.message) for e in error.errors
        )
    return type(error)(f"{row.where}: {error}")


def _duplicated_key(session: Session, table: Table, row: Row) -> tuple[str, str] | None:
    """The unique key that `row` shares with a row the user already has, as (field, message)
    of the key's `info`. The database is asked with the key's own expressions and
    condition (`lower(name)`, `WHERE is_default`), so it compares as the constraint does."""
    model = catalog.model_for(table)
    dialect = session.connection().dialect.name
    for key, expressions in _unique_keys(table):
        criteria = [
            _replaced(table, expression, lambda column: getattr(model, column.name))
            == _with_values(table, expression, row.values)
            for expression in expressions
            if getattr(expression, "name", None) != catalog.TENANT_KEY  # the scope compares it
        ]
        condition = key.dialect_kwargs.get(f"{dialect}_where")
        if condition is not None:
            criteria += [
                _replaced(table, condition, lambda column: getattr(model, column.name)),
                _with_values(table, condition, row.values),
            ]
        if session.scalar(select(func.count()).select_from(model).where(*criteria)):
            return key.info["field"], key.info.get("message", "already exists")
    return None


def _unique_keys(table: Table) -> Iterator[tuple[UniqueConstraint | Index, list[Any]]]:
    """The unique constraints and indexes that name their field, with their expressions."""
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and "field" in constraint.info:
            yield constraint, list(constraint.columns)
    for index in table.indexes:
        if index.unique and "field" in index.info:
            yield index, list(index.expressions)


def _with_values(
    table: Table, expression: ColumnElement[Any], values: dict[str, Any]
) -> ColumnElement[Any]:
    """`expression` with each column of `table` in it replaced by the row's value for it."""
    return _replaced(
        table, expression, lambda column: literal(values.get(column.name), column.type)
    )


def _replaced(
    table: Table, expression: ColumnElement[Any], by: Callable[[Column[Any]], Any]
) -> ColumnElement[Any]:
    """`expression` with each column of `table` in it (a `Column`, or a `text("name")`
    inside an expression index) replaced by `by(column)`: the row's value, or the model's
    attribute (which the user scope limits; the table's own column it would refuse)."""

    def replacement(element: Any, **kw: Any) -> Any:
        if isinstance(element, TextClause):
            name = element.text
        elif isinstance(element, ColumnClause):
            name = element.name
        else:
            return None
        column = table.c.get(name)
        return None if column is None else by(column)

    replaced: ColumnElement[Any] = replacement_traverse(expression, {}, replacement)
    return replaced


class _PipelineEndFilter(logging.Filter):
    def __init__(self, pgconn: Any) -> None:
        super().__init__()
        self.pgconn = pgconn

    def filter(self, record: logging.LogRecord) -> bool:
        pipeline = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return not (
            str(record.msg).startswith("error ignored")
            and getattr(pipeline, "pgconn", None) is self.pgconn
        )


@contextmanager
def _quiet_pipeline_ends(session: Session) -> Iterator[None]:
    """psycopg sends the ORM's batched INSERTs (`executemany`) in a pipeline of its own.
    When one of them fails, psycopg raises that error, and also logs a warning that ending
    the aborted pipeline failed ("error ignored terminating <psycopg.Pipeline [INERROR]>:
    pipeline aborted"). The pipeline is psycopg's, closed by psycopg; its warning only
    repeats the error being raised, so it is dropped, for this unit's connection only."""
    driver = session.connection().connection.driver_connection
    pgconn = getattr(driver, "pgconn", None)
    if pgconn is None:  # not psycopg
        yield
        return
    logger, quiet = logging.getLogger("psycopg"), _PipelineEndFilter(pgconn)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
