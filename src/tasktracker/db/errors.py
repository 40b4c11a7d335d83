"""The package's exception hierarchy, and the one place driver errors are translated into it."""

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
    """A statement or row would reach beyond the unit of work's user scope; refused before
    anything is sent. `errors` names the field: the scope key (`user_id`), or `statement`
    for a statement the scope cannot limit (the message says what to do instead)."""

    def __init__(self, field: str, message: str, *, model: str | None = None) -> None:
        super().__init__([FieldError(field, message)], model=model)
        where = f" ({model})" if model else ""
        self.args = (f"outside the user scope{where}: {field}: {message}",)


class ConflictError(TaskTrackerError):
    """A duplicate key, or an update based on a stale read."""


class IntegrityError(TaskTrackerError):
    """A reference is broken: the referenced row is missing, or the row is still in use."""


class DatabaseUnavailableError(TaskTrackerError):
    """The database could not be reached, or the connection was lost."""


class PoolTimeoutError(DatabaseUnavailableError):
    """Every pooled connection stayed busy for longer than the pool timeout."""


class QueryTimeoutError(TaskTrackerError):
    """The statement ran longer than the configured statement timeout and was cancelled."""
