"""TaskTracker data layer: users, tasks, chat and test engineering on PostgreSQL and SQLite."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasktracker.db.errors import (
        ConfigurationError,
        ConflictError,
        DatabaseUnavailableError,
        FieldError,
        IntegrityError,
        NestedScopeError,
        NotFoundError,
        PoolTimeoutError,
        QueryTimeoutError,
        ReadOnlyUnitError,
        ScopeError,
        StorageFullError,
        StoredValueError,
        TaskTrackerError,
        ValidationError,
    )
    from tasktracker.db.sessions import (
        AsyncDatabase,
        Database,
    )
    from tasktracker.db.settings import (
        Settings,
    )

__all__ = [
    "AsyncDatabase",
    "ConfigurationError",
    "ConflictError",
    "Database",
    "DatabaseUnavailableError",
    "FieldError",
    "IntegrityError",
    "NestedScopeError",
    "NotFoundError",
    "PoolTimeoutError",
    "QueryTimeoutError",
    "ReadOnlyUnitError",
    "ScopeError",
    "Settings",
    "StorageFullError",
    "StoredValueError",
    "TaskTrackerError",
    "ValidationError",
]


def __getattr__(name: str) -> Any:
    """The public names of `tasktracker.db`, imported on first use (PEP 562): importing
    the package costs almost nothing until one of them is needed."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("tasktracker.db"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
