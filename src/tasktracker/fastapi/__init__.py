"""FastAPI integration (the `tasktracker[fastapi]` extra): the database's lifespan, a unit of
work per request that commits before the response is sent, the error family as HTTP
statuses, and a health endpoint. The decisions, and why, are in docs/fastapi.md.

Not imported by `tasktracker`: only an app that uses FastAPI pays for importing it."""

try:
    import fastapi as _fastapi  # noqa: F401 - only to name the extra when it is missing
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        "tasktracker.fastapi needs FastAPI: pip install 'tasktracker[fastapi]'"
    ) from missing


from tasktracker.fastapi.dependencies import (
    DatabaseDependency,
    database,
    read_only_unit,
    user_unit,
)
from tasktracker.fastapi.errors import error_response, install_error_handlers
from tasktracker.fastapi.health import health_router
from tasktracker.fastapi.lifespan import database_lifespan

__all__ = [
    "DatabaseDependency",
    "database",
    "database_lifespan",
    "error_response",
    "health_router",
    "install_error_handlers",
    "read_only_unit",
    "user_unit",
]
