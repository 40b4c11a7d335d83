"""TaskTracker data layer: users, tasks, chat and test engineering on PostgreSQL and SQLite.

The package's public names, each imported on first use (PEP 562): the core's
(`tasktracker.db`: settings, errors, `run`), except `Database` and `AsyncDatabase`, which
are `tasktracker.units`' — their units carry the repositories (`unit.tasks`) — with those
units, `Unit` and `AsyncUnit`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tasktracker import db

if TYPE_CHECKING:
    from tasktracker.db import ConfigurationError as ConfigurationError
    from tasktracker.db import ConflictError as ConflictError
    from tasktracker.db import DatabaseUnavailableError as DatabaseUnavailableError
    from tasktracker.db import FieldError as FieldError
    from tasktracker.db import IntegrityError as IntegrityError
    from tasktracker.db import LockTimeoutError as LockTimeoutError
    from tasktracker.db import NestedScopeError as NestedScopeError
    from tasktracker.db import NotFoundError as NotFoundError
    from tasktracker.db import PoolTimeoutError as PoolTimeoutError
    from tasktracker.db import QueryTimeoutError as QueryTimeoutError
    from tasktracker.db import ReadOnlyUnitError as ReadOnlyUnitError
    from tasktracker.db import ScopeError as ScopeError
    from tasktracker.db import Settings as Settings
    from tasktracker.db import StorageFullError as StorageFullError
    from tasktracker.db import StoredValueError as StoredValueError
    from tasktracker.db import TaskTrackerError as TaskTrackerError
    from tasktracker.db import ValidationError as ValidationError
    from tasktracker.db import get_settings as get_settings
    from tasktracker.db import load_settings as load_settings
    from tasktracker.db import run as run
    from tasktracker.units import AsyncDatabase as AsyncDatabase
    from tasktracker.units import AsyncUnit as AsyncUnit
    from tasktracker.units import Database as Database
    from tasktracker.units import Unit as Unit

_UNITS = {"AsyncDatabase", "AsyncUnit", "Database", "Unit"}

__all__ = [
    "AsyncDatabase",
    "AsyncUnit",
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
    "Unit",
    "ValidationError",
    "get_settings",
    "load_settings",
    "run",
]


def __getattr__(name: str) -> Any:
    if name not in _UNITS:
        return db.__getattr__(name)
    value = getattr(importlib.import_module("tasktracker.units"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
