"""Settings: each bad value fails at start-up with one line naming the variable; no leaks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from tasktracker.db.engines import create_async_engine
from tasktracker.db.errors import ConfigurationError, DatabaseUnavailableError
from tasktracker.db.settings import Settings, load_settings, mask_url
from tests.connectivity.servers import free_port

SECRET = "s3cr3t-Pw-7741"

BAD_VALUES = [
    ("DATABASE_URL", f"mysql://app:{SECRET}@db.example.com/tasks", "unknown scheme 'mysql'"),
    ("DATABASE_URL", "not a url at all", "malformed URL"),
    ("DATABASE_URL", f"postgresql://app:{SECRET}@db.example.com:port/tasks", "malformed URL"),
    ("DATABASE_URL", f"postgresql://app:{SECRET}@/tasks", "needs a host"),
    ("DATABASE_URL", "", "malformed URL"),
    ("DATABASE_POOL_SIZE", "-1", "greater than or equal to 1"),
    ("DATABASE_POOL_SIZE", "0", "greater than or equal to 1"),
    ("DATABASE_MAX_OVERFLOW", "-5", "greater than or equal to 0"),
    ("DATABASE_POOL_TIMEOUT", "0", "greater than 0"),
    ("DATABASE_POOL_RECYCLE", "-1", "greater than 0"),
    ("DATABASE_CONNECT_RETRIES", "three", "valid integer"),
    ("DATABASE_CONNECT_RETRIES", "2.5", "valid integer"),
    ("DATABASE_CONNECT_RETRIES", "0", "greater than or equal to 1"),
    ("DATABASE_STATEMENT_TIMEOUT_MS", "-100", "greater than 0"),
    ("DATABASE_ECHO", "maybe", "valid boolean"),
    ("DATABASE_PREPARED_STATEMENTS", "sometimes", "valid boolean"),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` of the developer's and no DATABASE_* variables of the caller leak in."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("DEBUG", raising=False)


@pytest.mark.parametrize(("variable", "value", "expected"), BAD_VALUES)
def test_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{variable}: ")
    assert expected in message
    assert "\n" not in message
    assert SECRET not in message
    assert SECRET not in repr(info.value)
    assert info.value.__cause__ is None  # no pydantic traceback chained in


def test_bad_value_from_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_POOL_SIZE=-3\n")
    with pytest.raises(ConfigurationError, match=r"^DATABASE_POOL_SIZE: "):
        load_settings()


def test_several_bad_values_each_named_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "-1")
    monkeypatch.setenv("DATABASE_CONNECT_RETRIES", "x")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert "DATABASE_POOL_SIZE: " in message
    assert "DATABASE_CONNECT_RETRIES: " in message
    assert "\n" not in message


def test_good_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{SECRET}@db.example.com/tasks")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "1500")
    monkeypatch.setenv("DEBUG", "true")
    settings = load_settings()
    assert settings.database_pool_size == 3
    assert settings.database_statement_timeout_ms == 1500
    assert settings.echo is True
    assert settings.is_sqlite is False


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./tasktracker.db"
    assert (settings.database_pool_size, settings.database_max_overflow) == (10, 20)
    assert settings.database_pool_timeout == 30
    assert settings.database_pool_recycle == 1800
    assert settings.database_connect_retries == 5
    assert settings.database_statement_timeout_ms is None
    assert settings.echo is False


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@ep-cool-123.eu-central-1.aws.neon.tech/tasks"
        "?sslmode=require&channel_binding=require",
        f"postgresql+asyncpg://app:{SECRET}@db.example.com:6543/tasks",
        f"postgresql://app@db.example.com/tasks?password={SECRET}&sslmode=require",
        f"postgresql://app:{SECRET.replace('-', '%40')}@db.example.com/tasks",
    ],
)
def test_masked_url_repr_and_str_never_show_the_password(url: str) -> None:
    settings = load_settings(database_url=url)
    secret = SECRET.replace("-", "@") if "%40" in url else SECRET
    for shown in (settings.database_url_masked, repr(settings), str(settings), mask_url(url)):
        assert secret not in shown
        assert SECRET not in shown
    assert "***" in settings.database_url_masked
    assert settings.url.password is not None or "password=" in url  # still usable, just hidden


def test_connect_failure_logs_and_error_never_show_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sqlalchemy import text

    from tasktracker.db.engines import create_engine

    url = f"postgresql://app:{SECRET}@127.0.0.1:{free_port()}/tasks?sslmode=disable"
    settings = load_settings(
        database_url=url,
        database_connect_retries=2,
        database_retry_initial_delay=0.01,
        database_echo=True,
    )
    engine = create_engine(settings)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabaseUnavailableError) as info, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    assert "app:***@127.0.0.1" in str(info.value)
    assert SECRET not in str(info.value)
    assert caplog.records, "the retries were logged"
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert SECRET not in caplog.text


def test_an_asyncpg_url_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncpg is optional: without it, a one-line ConfigurationError, not ModuleNotFoundError."""
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # `import asyncpg` now fails
    settings = load_settings(database_url=f"postgresql+asyncpg://app:{SECRET}@127.0.0.1:1/tasks")
    with pytest.raises(ConfigurationError, match=r"pip install 'tasktracker\[asyncpg\]'") as info:
        create_async_engine(settings)
    assert SECRET not in str(info.value)
