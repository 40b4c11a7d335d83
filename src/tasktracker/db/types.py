"""Column types and value factories shared by every domain."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import uuid_utils.compat
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tasktracker.db.errors import ValidationError

EnumT = TypeVar("EnumT", bound=enum.StrEnum)

NAIVE_DATETIME = "must be timezone-aware (a naive datetime is ambiguous; use UTC)"


def _refuse_naive(value: Any) -> Any:
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
        raise PydanticCustomError("naive_datetime", NAIVE_DATETIME)
    return value


AWARE = AfterValidator(_refuse_naive)
"""Pydantic field metadata refusing a naive datetime (None passes). Fields of `UTCDateTime`
columns get it on assignment (`TableModel`); other inputs (a filter) declare it."""


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered (good index locality), generated here so no sequence is shared."""
    return uuid_utils.compat.uuid7()


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    Naive datetimes are refused on the way in (they are ambiguous), as the package's
    `ValidationError` (field `value`: a bind processor does not know the column; model
    assignment and the compiled path refuse them first, naming the field). PostgreSQL stores
    `timestamptz`; SQLite has no such type, so values are stored as UTC text and UTC is
    re-attached on the way out. Every value read back is an aware `datetime` in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValidationError.single("value", f"must be a datetime, not {type(value).__name__}")
        if value.tzinfo is not UTC:
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValidationError.single("value", NAIVE_DATETIME)
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[EnumT], Generic[EnumT]):
    """A `StrEnum` stored as its short string value (never a native PostgreSQL ENUM).

    The allowed values are enforced by a CHECK constraint generated for the column
    (see `tasktracker.db.constraints`), so adding a value is an ordinary migration.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[EnumT], length: int = 20) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length
        self._members = {member.value: member for member in enum_class}

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if type(value) is self.enum_class:
            return value.value
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> EnumT | None:
        if value is None:
            return None
        return self._members.get(value) or self.enum_class(value)

    @property
    def members(self) -> dict[str | None, EnumT | None]:
        """Stored value -> member (and NULL -> None): a read path's decoder is its lookup."""
        lookup: dict[str | None, EnumT | None] = {None: None}
        lookup.update(self._members)
        return lookup

    @property
    def python_type(self) -> type[EnumT]:
        return self.enum_class

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum_class.__name__}, length={self.length})"
