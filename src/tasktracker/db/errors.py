"""The package's exception hierarchy: every error the data layer raises on purpose.

Driver errors are translated into it in one place (`tasktracker.db.driver_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class TaskTrackerError(Exception):
    """Base of every error the data layer raises on purpose."""


class ConfigurationError(TaskTrackerError):
    """A setting is missing or malformed; the message names the variable."""


class NotFoundError(TaskTrackerError):
    """The row does not exist, or is not visible in the current user's scope."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(TaskTrackerError):
    """Input was refused; `errors` names each offending field."""

    def __init__(self, errors: Iterable[FieldError], *, model: str | None = None) -> None:
        self.errors = tuple(errors)
        self.model = model
        prefix = f"invalid {model}: " if model else "invalid input: "
        super().__init__(prefix + "; ".join(str(error) for error in self.errors))

    @classmethod
    def single(cls, field: str, message: str, *, model: str | None = None) -> ValidationError:
        return cls([FieldError(field, message)], model=model)

    @property
    def fields(self) -> set[str]:
        return {error.field for error in self.errors}


class ScopeError(ValidationError):
    """A statement, row or operation that does not fit the unit of work's user scope;
    refused before anything is sent. `errors` names the field: the scope key (`user_id`),
    `statement` for a statement the scope cannot limit, `session` for a tenant repository
    given an unscoped session, `scope` for a unit of another scope opened inside one. The
    message says what to do instead."""

    def __init__(self, field: str, message: str, *, model: str | None = None) -> None:
        super().__init__([FieldError(field, message)], model=model)
        where = f" ({model})" if model else ""
        self.args = (f"user scope{where}: {field}: {message}",)


class ConflictError(TaskTrackerError):
    """A duplicate key, or an update based on a stale read.

    `field` names the key that is already used (a duplicate key), else it is None.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class IntegrityError(TaskTrackerError):
    """A reference is broken: the referenced row is missing, or the row is still in use."""


class DatabaseUnavailableError(TaskTrackerError):
    """The database could not be reached, or the connection was lost."""


class PoolTimeoutError(DatabaseUnavailableError):
    """Every pooled connection stayed busy for longer than the pool timeout."""


class QueryTimeoutError(TaskTrackerError):
    """The statement ran longer than the configured statement timeout and was cancelled."""


class LockTimeoutError(QueryTimeoutError):
    """A lock the statement needed was not free in time: PostgreSQL's `lock_timeout` (or
    `NOWAIT`), SQLite's busy timeout on the write lock. Nothing of the statement was done;
    retrying later may succeed. A deadlock is a `ConflictError` instead."""


class StorageFullError(TaskTrackerError):
    """The database's storage is full (PostgreSQL `disk_full`, SQLite `SQLITE_FULL`): the
    write was not made. Retrying cannot help until someone frees or adds space.

    On PostgreSQL the unit of work goes on without the write; SQLite may have ended the
    whole transaction, and then the unit fails as a whole."""


class StoredValueError(TaskTrackerError):
    """A value read from the database is not one its column can hold (a malformed UUID or
    timestamp written around the models, e.g. by plain SQL on SQLite, whose columns take
    any text); `field` names the column. The value itself is not shown."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class NestedScopeError(ScopeError):
    """A unit of work for another scope was opened inside an open one (in the same thread
    or task): it would have joined the outer unit's scope, so it is refused."""


class ReadOnlyUnitError(TaskTrackerError):
    """A write (ORM flush, bulk statement, compiled INSERT) in a read-only unit of work."""
