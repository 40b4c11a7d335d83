"""What a CLI user should never be surprised by: a mistyped SQLite path creating a file,
global flags that only work in one place, a help text promising subcommands, the
documented settings refused, statements echoed twice."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tasktracker.db.engines import create_engine
from tasktracker.db.errors import ConfigurationError
from tasktracker.db.settings import load_settings
from tests import databases
from tests.cli.conftest import Invoke, make_invoker

READ_ONLY = [
    ("db", "current"),
    ("db", "check"),
    ("db", "stats"),
    ("export", "--user", "ada"),
    ("db", "downgrade", "-1"),
    ("db", "seed", "--users", "1"),
    ("import", "{document}", "--user", "ada"),
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_commands_that_need_a_database_do_not_create_a_missing_sqlite_file(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mistyped.db"
    document = tmp_path / "document.json"
    document.write_text("{}")
    cli = make_invoker(f"sqlite:///{path}", monkeypatch)
    result = cli(*(arg.format(document=document) for arg in command))
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: no SQLite database at {path}: check DATABASE_URL, "
        "or create it with `tasktracker db upgrade`\n"
    )
    assert not path.exists()


def test_upgrade_creates_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "new.db"
    cli = make_invoker(f"sqlite:///{path}", monkeypatch)
    assert cli("db", "upgrade").exit_code == 0
    assert path.exists()
    assert cli("db", "current").exit_code == 0


def test_global_flags_work_after_the_subcommand(
    sqlite_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasktracker.admin import diagram as schema_diagram

    def broken() -> str:
        raise KeyError("boom")

    monkeypatch.setattr(schema_diagram, "mermaid", broken)
    for args in (
        ("--debug", "db", "diagram"),
        ("db", "--debug", "diagram"),
        ("db", "diagram", "--debug"),
    ):
        result = sqlite_cli(*args)
        assert isinstance(result.exception, KeyError), args  # the traceback, not one line
    assert sqlite_cli("db", "diagram").stderr == "error: KeyError: 'boom'\n"
    assert sqlite_cli("db", "history", "-v").exit_code == 0
    assert sqlite_cli("db", "history", "--verbose").exit_code == 0


def test_bench_help_shows_no_subcommands(sqlite_cli: Invoke) -> None:
    result = sqlite_cli("bench", "--help")
    assert result.exit_code == 0
    assert "Usage: tasktracker bench [OPTIONS]\n" in result.stdout
    assert "COMMAND" not in result.stdout


def test_prepared_statements_auto_is_the_documented_default(cli: Invoke, cli_url: str) -> None:
    assert load_settings(database_prepared_statements="auto").database_prepared_statements is None
    assert load_settings(database_prepared_statements="AUTO").database_prepared_statements is None
    assert load_settings(database_prepared_statements="off").database_prepared_statements is False
    with pytest.raises(ConfigurationError, match=r"DATABASE_PREPARED_STATEMENTS: .* or auto"):
        load_settings(database_prepared_statements="sometimes")

    settings = databases.test_settings(cli_url, database_prepared_statements="auto")
    engine = create_engine(settings)
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            # PostgreSQL, not behind a pooler: auto means prepared statements are on.
            assert getattr(driver, "prepare_threshold", 5) is not None
    finally:
        engine.dispose()
    assert cli("db", "upgrade").exit_code == 0
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_PREPARED_STATEMENTS", "auto")
        result = cli("db", "health", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reachable"] is True


def test_echo_logs_each_statement_once_and_never_on_stdout(
    migrated_url: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(databases.test_settings(migrated_url, database_echo=True))
    try:
        with caplog.at_level(logging.INFO), engine.connect() as connection:
            connection.exec_driver_sql("SELECT 42 AS echoed")
    finally:
        engine.dispose()
    echoed = [r for r in caplog.records if r.getMessage() == "SELECT 42 AS echoed"]
    assert len(echoed) == 1
    assert "SELECT 42" not in capsys.readouterr().out
