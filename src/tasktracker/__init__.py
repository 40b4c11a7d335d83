"""TaskTracker data layer: users, tasks, chat and test engineering on PostgreSQL and SQLite."""

from tasktracker.db import (
    AsyncDatabase,
    ConfigurationError,
    ConflictError,
    Database,
    DatabaseUnavailableError,
    FieldError,
    IntegrityError,
    NotFoundError,
    PoolTimeoutError,
    QueryTimeoutError,
    ScopeError,
    Settings,
    TaskTrackerError,
    ValidationError,
)

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
]
