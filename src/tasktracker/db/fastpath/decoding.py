"""Rows from the driver into read rows: each column's driver value into its Python value.

A column is decoded by its type's own result processor, or by a cheaper equivalent where
one is known (the tests compare every field with what the ORM reads), and not at all where
the driver already returns the final value (UUIDs and UTC timestamps from psycopg).

A stored value a decoder refuses (a malformed UUID or timestamp written around the models,
which SQLite's columns take) is reported as `StoredValueError` naming the column, never as
the decoder's own exception.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Float, Numeric, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from tasktracker.db.errors import StoredValueError
from tasktracker.db.types import StrEnumType, UTCDateTime

RowT = TypeVar("RowT", bound=tuple[Any, ...])
Converter = Callable[[Any], Any]
Decoders = tuple[tuple[int, Converter], ...]
"""(column index, decoder) for each column whose driver value is not its Python value."""

_REFUSED = (TypeError, ValueError, KeyError)
"""What a decoder raises on a value it cannot read (a `KeyError`: an unknown enum value)."""


def _as_utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is UTC else value.astimezone(UTC)


def _utc_from_text(value: str | None) -> datetime | None:
    """SQLAlchemy's SQLite text form of a UTC timestamp ("YYYY-MM-DD HH:MM:SS.ffffff")."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


_new_object = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown
_fromhex = bytes.fromhex
_from_bytes = int.from_bytes


def uuid_from_hex(value: str | None) -> uuid.UUID | None:
    """SQLAlchemy's SQLite form of a UUID: exactly 32 hex digits; anything else (a sign, a
    `0x`, 40 digits) is a `ValueError`. Built as `uuid.UUID` builds itself, without its
    re-parsing: half the cost of `UUID(hex)` on a hot path."""
    if value is None:
        return None
    raw = _fromhex(value)  # pairs of hex digits only (or spaces, which the lengths exclude)
    if len(raw) != 16 or len(value) != 32:
        raise ValueError("a UUID is 32 hexadecimal digits")
    decoded = _new_object(uuid.UUID)
    _set(decoded, "int", _from_bytes(raw))
    _set(decoded, "is_safe", _UNKNOWN)
    return decoded


def _decoder(column_type: TypeEngine[Any], dialect: Dialect) -> Converter | None:
    """How a column's driver value becomes its Python value; None when it already is one."""
    if isinstance(column_type, StrEnumType):
        return column_type.members.__getitem__
    if isinstance(column_type, UTCDateTime):
        if dialect.name == "postgresql":
            return _as_utc  # psycopg returns aware datetimes; UTC ones pass as they are
        if dialect.name == "sqlite":
            return _utc_from_text
    if isinstance(column_type, Uuid) and dialect.name == "sqlite":
        return uuid_from_hex
    # The PostgreSQL drivers' numeric processors depend on the column's type code, which
    # the cursor gives at execution: a plan knows it from the column's type.
    code = (
        _NUMERIC_CODE[isinstance(column_type, Float)]
        if isinstance(column_type, Float | Numeric)
        else None
    )
    return column_type.dialect_impl(dialect).result_processor(dialect, code)


_NUMERIC_CODE = {True: 701, False: 1700}
"""PostgreSQL's type codes (OIDs) of a `Float` column (double precision) and a `Numeric`."""


def decoders(types: Iterable[TypeEngine[Any]], dialect: Dialect) -> Decoders:
    """The decoders of the selected columns (of these types, in order) on `dialect`."""
    found = ((index, _decoder(column_type, dialect)) for index, column_type in enumerate(types))
    return tuple((index, decode) for index, decode in found if decode is not None)


def decode_rows(
    rows: Sequence[Any],
    decoders: Decoders,
    columns: Sequence[str],
    make_row: Callable[[Iterable[Any]], RowT],
) -> list[RowT]:
    """The driver's rows as read rows; `columns` names the selected columns, for errors."""
    try:
        return _decoded(rows, decoders, make_row)
    except _REFUSED:
        field = _unreadable(rows, decoders, columns)
        if field is None:  # not a decoder's refusal: a bug, shown as it is
            raise
        message = f"{field}: a stored value is not valid for the column's type"
        raise StoredValueError(message, field=field) from None


def _decoded(
    rows: Sequence[Any], decoders: Decoders, make_row: Callable[[Iterable[Any]], RowT]
) -> list[RowT]:
    if not rows:
        return []
    if not decoders:
        return list(map(make_row, rows))
    if len(rows) == 1:
        values = list(rows[0])
        for index, decode in decoders:
            values[index] = decode(values[index])
        return [make_row(values)]
    # Column by column: one `map` per decoded column instead of a loop per value, and
    # none for a column that is all NULL (`completed_at` of open tasks) or whose values
    # are final already: psycopg gives every timestamp of a column of one result the same
    # time zone, the session's, so the first tells (UTC, unless a pooler kept the server's).
    by_column: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for index, decode in decoders:
        column = by_column[index]
        first = next(filter(_is_not_none, column), None)
        if first is None or (decode is _as_utc and first.tzinfo is UTC):
            continue
        by_column[index] = map(decode, column)
    return list(map(make_row, zip(*by_column, strict=True)))


def _is_not_none(value: object) -> bool:
    return value is not None


def _unreadable(rows: Sequence[Any], decoders: Decoders, columns: Sequence[str]) -> str | None:
    """The first column holding a value its decoder refuses (after a failed decoding)."""
    for index, decode in decoders:
        for row in rows:
            try:
                decode(row[index])
            except _REFUSED:
                return columns[index]
    return None
