"""Keyset pagination with opaque cursors.

A cursor encodes the sort values of the last row of a page (plus the name of the ordering,
so a cursor from one listing is refused by another). The next page is
`WHERE (k1, k2, ..., id) > (v1, v2, ..., last_id)` in the ordering's direction: an index
seek at any depth, unlike OFFSET.

The sort values in a cursor are the ones the database returned: the last row's own
columns where they are sort keys (a compiled query's rows), else the sort key expressions
`paginate` selects after them, which `make_page` reads.
Recomputing them in Python (`name.lower()` for `ORDER BY lower(name)`) would be a second
definition of the ordering that can disagree with the database's (SQLite's built-in
`lower()` folds ASCII only), and a cursor that compares wrong loses or repeats rows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    TypeDecorator,
    and_,
    bindparam,
    or_,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnClause, Label, UnaryExpression
from sqlalchemy.types import TypeEngine

from tasktracker.db.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering. How its cursor value is decoded (`kind`) is the Python
    type of the expression's SQL type."""

    expression: ColumnElement[Any]
    descending: bool = False

    kind: type = field(init=False)

    def __post_init__(self) -> None:
        kind = python_type(self.expression.type)
        if kind is object:  # NullType: func.x(...) without type_=
            raise TypeError(f"sort key {self.expression} has no SQL type to decode a cursor by")
        object.__setattr__(self, "kind", kind)

    def order(self) -> UnaryExpression[Any]:
        return self.expression.desc() if self.descending else self.expression.asc()


def python_type(sql_type: TypeEngine[Any]) -> type:
    """The Python type of a column type's values, through decorated types (ours and
    SQLModel's `AutoString` report `object` themselves)."""
    while isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    try:
        return sql_type.python_type
    except NotImplementedError:
        return object


@dataclass(frozen=True)
class Ordering:
    """A named, total ordering (its last key must be unique, e.g. the id)."""

    name: str
    keys: Sequence[SortKey] = field(default_factory=tuple)

    @functools.cached_property
    def order_by(self) -> tuple[UnaryExpression[Any], ...]:
        """The ORDER BY clauses, built once (orderings are module-level constants)."""
        return tuple(key.order() for key in self.keys)

    @functools.cached_property
    def columns(self) -> tuple[Label[Any], ...]:
        """The sort keys as labelled result columns (`paginate` appends those a page's rows
        do not hold)."""
        return tuple(key.expression.label(f"page_key_{i}") for i, key in enumerate(self.keys))


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return getattr(value, "value", value)


def _decode_value(raw: Any, kind: type) -> Any:
    if kind is datetime:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("a cursor's timestamps carry their offset")
        return value
    if kind is uuid.UUID:
        return uuid.UUID(raw)
    return kind(raw)


def encode_cursor(ordering: Ordering, values: Sequence[Any]) -> str:
    payload = json.dumps([ordering.name, [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(ordering: Ordering, cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if name != ordering.name or len(raw_values) != len(ordering.keys):
            raise ValidationError.single("cursor", "belongs to another listing")
        return [
            _decode_value(raw, key.kind) for raw, key in zip(raw_values, ordering.keys, strict=True)
        ]
    except ValidationError:
        raise
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.single("cursor", "is malformed") from None


LIMIT_PARAMETER = "limit"


def _after_parameter(index: int) -> str:
    return f"after_{index}"


def after(ordering: Ordering, values: Sequence[Any]) -> ColumnElement[bool]:
    """The rows strictly after `values` in `ordering` (bound as parameters `after_<i>`).

    Where the ordering has one direction, a row-value comparison; otherwise its expansion
    into ORs. Both imply a bound on the first key alone (`k1 >= v1`), which is also stated
    where it is what an index seek needs: with the expansion (no database seeks an index
    with an OR), and when the first of several keys is an expression (the due-date and
    priority keys), since SQLite seeks with a row-value comparison only when its first
    element is a column: without the bound, it would read the index from the start of the
    user's rows."""
    keys = ordering.keys
    bound = [
        bindparam(_after_parameter(i), value, type_=key.expression.type)
        for i, (key, value) in enumerate(zip(keys, values, strict=True))
    ]
    first = keys[0].expression
    leading = first <= bound[0] if keys[0].descending else first >= bound[0]
    if len({key.descending for key in keys}) == 1:
        left = tuple_(*(key.expression for key in keys))
        right = tuple_(*bound)
        comparison = left < right if keys[0].descending else left > right
        if len(keys) == 1 or isinstance(first.expression, ColumnClause):
            return comparison
        return and_(leading, comparison)
    clauses = []
    for i, key in enumerate(keys):
        equal = [k.expression == v for k, v in zip(keys[:i], bound[:i], strict=True)]
        step = key.expression < bound[i] if key.descending else key.expression > bound[i]
        clauses.append(and_(*equal, step))
    return and_(leading, or_(*clauses))


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def page_parameters(ordering: Ordering, limit: int, cursor: str | None) -> dict[str, Any]:
    """The parameters of a page: its row limit (one extra row, to detect more) and the
    cursor's sort values, named as in the statement `paginate` builds."""
    parameters: dict[str, Any] = {LIMIT_PARAMETER: check_limit(limit) + 1}
    if cursor:
        for i, value in enumerate(decode_cursor(ordering, cursor)):
            parameters[_after_parameter(i)] = value
    return parameters


@dataclass(frozen=True)
class Keyset:
    """Where the rows of a `paginate` statement hold its ordering's sort keys: at
    `positions`; their last `appended` columns were selected for the cursor alone."""

    ordering: Ordering
    positions: tuple[int, ...]
    appended: int


KEYSET_OPTION = "tasktracker_keyset"
"""Execution option of a `paginate` statement: its `Keyset`, for `make_page`."""


def _keyset(statement: Select[Any], ordering: Ordering, columns_only: bool) -> Keyset:
    """A key that the rows already hold as one of their columns is read there; the others
    are appended, in order, after the row's own columns (as `Ordering.columns`)."""
    selected = list(statement.selected_columns) if columns_only else []
    found = [
        next((i for i, c in enumerate(selected) if c.compare(key.expression.expression)), None)
        for key in ordering.keys
    ]
    appended = found.count(None)
    trailing = iter(range(-appended, 0))
    positions = tuple(next(trailing) if p is None else p for p in found)
    return Keyset(ordering, positions, appended)


def paginate(
    statement: Select[Any],
    ordering: Ordering,
    limit: int,
    cursor: str | None,
    *,
    columns_only: bool = False,
) -> Select[Any]:
    """`statement` ordered by `ordering`, after `cursor`, fetching one extra row to detect
    more, with the sort keys its rows do not hold selected after its own columns.

    `columns_only` says that the rows are the statement's selected columns, as the
    database returned them (a compiled query): a sort key that is one of them is read
    there. Otherwise (ORM entities, whose attributes may differ from the row just read)
    every key is selected. The limit and the cursor's values are named bound parameters
    (`page_parameters`), so a compiled query of the same shape runs any page of it with new
    parameters."""
    keyset = _keyset(statement, ordering, columns_only)
    parameters = page_parameters(ordering, limit, cursor)
    if cursor:
        values = [parameters[_after_parameter(i)] for i in range(len(ordering.keys))]
        statement = statement.where(after(ordering, values))
    appended = [c for c, p in zip(ordering.columns, keyset.positions, strict=True) if p < 0]
    limit_parameter = bindparam(LIMIT_PARAMETER, parameters[LIMIT_PARAMETER], type_=Integer)
    return (
        statement.add_columns(*appended)
        .order_by(*ordering.order_by)
        .limit(limit_parameter)
        .execution_options(**{KEYSET_OPTION: keyset})
    )


def make_page(
    rows: Sequence[Any],
    statement: Executable,
    limit: int,
    item: Callable[[Sequence[Any]], T] | None,
) -> Page[T]:
    """The page of the first `limit` rows of the `paginate` statement `statement`, each
    made by `item` from the row's own columns (`None`: the rows are the items already,
    which needs a statement that appended no sort key), and the cursor after the last one
    if there are more: the sort keys the database returned with it."""
    keyset: Keyset = statement.get_execution_options()[KEYSET_OPTION]
    if item is None:
        assert not keyset.appended, "rows with appended sort keys are not items"
        items: list[T] = list(rows[:limit])
    elif keyset.appended:
        own = slice(-keyset.appended)
        items = [item(row[own]) for row in rows[:limit]]
    else:
        items = [item(row) for row in rows[:limit]]
    if len(rows) <= limit or not items:
        return Page(items)
    last = rows[limit - 1]
    return Page(items, encode_cursor(keyset.ordering, [last[p] for p in keyset.positions]))


def appended_keys(statement: Executable) -> int:
    """How many sort-key columns the `paginate` statement selects after its own."""
    keyset: Keyset = statement.get_execution_options()[KEYSET_OPTION]
    return keyset.appended


def entity(columns: Sequence[Any]) -> Any:
    """The `item` of a page of one ORM entity per row (`select(Model)`)."""
    return columns[0]
