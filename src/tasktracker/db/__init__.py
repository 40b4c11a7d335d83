"""The data layer's core: settings, engines, units of work, base models, types, errors, health."""

from tasktracker.db.errors import (
    ConfigurationError,
    ConflictError,
    DatabaseUnavailableError,
    FieldError,
    IntegrityError,
    NotFoundError,
    PoolTimeoutError,
    QueryTimeoutError,
    ScopeError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.db.settings import Settings, get_settings, load_settings

__all__ = [
    "AsyncDatabase",
    "ConfigurationError",
    "ConflictError",
    "Database",
    "DatabaseUnavailableError",
    "FieldError",
    "IntegrityError",
    "NotFoundError",
    "PoolTimeoutError",
    "QueryTimeoutError",
    "ScopeError",
    "Settings",
    "TaskTrackerError",
    "ValidationError",
    "get_settings",
    "load_settings",
    "run",
]
