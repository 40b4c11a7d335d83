"""Configuration, read once from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from functools import cache

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    computed_field,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tasktracker.db.errors import ConfigurationError

SUPPORTED_SCHEMES = (
    "sqlite",
    "sqlite+pysqlite",
    "sqlite+aiosqlite",
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "postgresql+asyncpg",
)


class Settings(BaseSettings):
    """Every knob of the data layer; each field is read from the upper-cased variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = Field(default="sqlite:///./tasktracker.db", repr=False)
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    database_pool_timeout: float = Field(default=30, gt=0)
    database_pool_recycle: int = Field(default=1800, gt=0)
    database_connect_retries: int = Field(default=5, ge=1)
    database_connect_timeout: float = Field(default=10, gt=0)
    database_retry_initial_delay: float = Field(default=0.5, ge=0)
    database_retry_max_delay: float = Field(default=8, ge=0)
    database_echo: bool = False
    debug: bool = False
    database_statement_timeout_ms: int | None = Field(default=None, gt=0)
    database_slow_query_ms: float = Field(default=500, gt=0)
    database_prepared_statements: bool | None = Field(
        default=None,
        description="Server-side prepared statements; auto (or unset) means on, except "
        "behind a pooler host (a '-pooler' Neon endpoint) where they are off.",
    )
    database_application_name: str = "tasktracker"
    message_max_length: int = Field(default=10_000, ge=1)
    task_max_depth: int = Field(
        default=5,
        ge=1,
        le=100,
        description="How many levels a tree of subtasks may have, its top-level task included "
        "(docs/tasks.md#subtasks).",
    )
    search_config: str = Field(
        default="simple",
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="PostgreSQL text-search configuration of the search indexes (simple: "
        "any language, no stemming; english etc. stem). Read by the search revision when it "
        "builds the indexes, and by every search: change it, then rebuild them (docs/search.md).",
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "malformed URL (expected e.g. postgresql://user:pass@host/db)"
            ) from None
        if url.drivername not in SUPPORTED_SCHEMES:
            raise ValueError(
                f"unknown scheme {url.drivername!r} (expected sqlite:// or postgresql://)"
            )
        if url.drivername.startswith("postgres") and not url.host and "host" not in url.query:
            raise ValueError("a PostgreSQL URL needs a host")
        return value

    @field_validator("database_prepared_statements", mode="wrap")
    @classmethod
    def _auto_or_boolean(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """`auto`, the documented default (also an empty value), is None: decided per host."""
        if isinstance(value, str) and value.strip().lower() in {"auto", ""}:
            return None
        try:
            return handler(value)
        except ValidationError:
            raise ValueError("should be a valid boolean (true or false) or auto") from None

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @computed_field(repr=True)  # type: ignore[prop-decorator]
    @property
    def database_url_masked(self) -> str:
        """The URL with its password replaced by `***`: the only form that is ever shown."""
        return mask_url(self.url)

    @property
    def echo(self) -> bool:
        return self.database_echo or self.debug

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def mask_url(url: URL | str) -> str:
    """The URL with its password (in the user info or libpq's `password=` parameter) as `***`."""
    url = make_url(url)
    if "password" not in url.query:
        return url.render_as_string(hide_password=True)
    masked = url.update_query_dict({"password": "MASKED"}).render_as_string(hide_password=True)
    return masked.replace("password=MASKED", "password=***")


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning any validation failure into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            variable = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{variable}: {message}")
        raise ConfigurationError("; ".join(problems)) from None


@cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
