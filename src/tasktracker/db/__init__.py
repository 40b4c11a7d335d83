"""The data layer's core: settings, engines, units of work, base models, types, errors, listings."""

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
        LockTimeoutError,
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
        run,
    )
    from tasktracker.db.settings import (
        Settings,
        get_settings,
        load_settings,
    )

# Public names and the module each comes from: imported on first use (PEP 562), so
# importing the package, or one light submodule of it, costs almost nothing.
_SOURCES = {
    "ConfigurationError": "tasktracker.db.errors",
    "ConflictError": "tasktracker.db.errors",
    "DatabaseUnavailableError": "tasktracker.db.errors",
    "FieldError": "tasktracker.db.errors",
    "IntegrityError": "tasktracker.db.errors",
    "LockTimeoutError": "tasktracker.db.errors",
    "NestedScopeError": "tasktracker.db.errors",
    "NotFoundError": "tasktracker.db.errors",
    "PoolTimeoutError": "tasktracker.db.errors",
    "QueryTimeoutError": "tasktracker.db.errors",
    "ReadOnlyUnitError": "tasktracker.db.errors",
    "ScopeError": "tasktracker.db.errors",
    "StorageFullError": "tasktracker.db.errors",
    "StoredValueError": "tasktracker.db.errors",
    "TaskTrackerError": "tasktracker.db.errors",
    "ValidationError": "tasktracker.db.errors",
    "AsyncDatabase": "tasktracker.db.sessions",
    "Database": "tasktracker.db.sessions",
    "run": "tasktracker.db.sessions",
    "Settings": "tasktracker.db.settings",
    "get_settings": "tasktracker.db.settings",
    "load_settings": "tasktracker.db.settings",
}

__all__ = [
    "AsyncDatabase",
    "ConfigurationError",
    "ConflictError",
    "Database",
    "DatabaseUnavailableError",
    "FieldError",
    "IntegrityError",
    "LockTimeoutError",
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
    "get_settings",
    "load_settings",
    "run",
]


def __getattr__(name: str) -> Any:
    try:
        source = _SOURCES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
