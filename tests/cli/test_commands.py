"""Help, exit codes and one-line errors of every command; seed, stats and reset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.main import get_command

from tasktracker.cli import app
from tasktracker.cli.guard import looks_like_development
from tests import databases
from tests.cli.conftest import Invoke, make_invoker
from tests.conftest import require_postgres


def _command_paths() -> list[tuple[str, ...]]:
    root = get_command(app)
    paths: list[tuple[str, ...]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            paths.extend((name, child) for child in sub)
        else:
            paths.append((name,))
    return list(paths)


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_command_has_help_with_an_example(sqlite_cli: Invoke, path: tuple[str, ...]) -> None:
    result = sqlite_cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Example: tasktracker" in result.stdout


def test_failures_are_one_line_with_a_nonzero_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "empty.db"
    path.touch()  # a database, nothing migrated yet
    result = make_invoker(f"sqlite:///{path}", monkeypatch)("db", "stats")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"error: the database is at revision base, the head is \w+: "
        r"run `tasktracker db upgrade` first",
        lines[0],
    )
    assert "Traceback" not in result.output


def test_unexpected_errors_exit_2_and_debug_shows_the_traceback(
    sqlite_cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasktracker.admin import diagram as schema_diagram

    def broken() -> str:
        raise KeyError("boom")

    monkeypatch.setattr(schema_diagram, "mermaid", broken)
    result = sqlite_cli("db", "diagram")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: KeyError: 'boom'"
    debug = sqlite_cli("--debug", "db", "diagram")
    assert isinstance(debug.exception, KeyError)


def test_usage_errors_keep_their_exit_code(sqlite_cli: Invoke) -> None:
    result = sqlite_cli("db", "seed", "--users", "0")
    assert result.exit_code == 2
    assert "--users" in result.output


def test_seed_is_deterministic_and_reports_throughput(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("db", "seed", "--users", "2", "--tasks-per-user", "40", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert re.search(
        r"seeded [\d,]+ rows \(2 users x 40 tasks\) in [\d.]+ s: [\d,]+ rows/s", result.stdout
    )

    again = cli("db", "seed", "--users", "2", "--tasks-per-user", "40", "--seed", "5")
    assert again.exit_code == 1
    assert "seed 5 is already loaded" in again.stderr

    stats = cli("db", "stats")
    assert stats.exit_code == 0, stats.output
    assert re.search(r"│\s*tasks\s*│\s*80\s*│\s*40\.0\s*│", stats.stdout)
    assert "database size" in stats.stdout


def test_stats_for_one_user_counts_only_that_user(cli: Invoke) -> None:
    assert cli("quickstart").exit_code == 0
    grace = cli("db", "stats", "--user", "grace@example.com")
    assert grace.exit_code == 0, grace.output
    assert re.search(r"│\s*users\s*│\s*1\s*│", grace.stdout)
    assert re.search(r"│\s*tasks\s*│\s*3\s*│", grace.stdout)
    assert re.search(r"│\s*messages\s*│\s*0\s*│", grace.stdout)
    missing = cli("db", "stats", "--user", "nobody@example.com")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: no user with email or username 'nobody@example.com'"


def test_reset_refuses_without_yes(sqlite_cli: Invoke) -> None:
    assert sqlite_cli("quickstart").exit_code == 0
    result = sqlite_cli("db", "reset")
    assert result.exit_code == 1
    assert "refusing to reset without --yes" in result.stderr
    assert "already present" in sqlite_cli("quickstart").stdout  # nothing was deleted


def test_reset_refuses_a_database_that_does_not_look_like_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Port 1: were the refusal to fail, the command would not reach any server either.
    cli = make_invoker("postgresql://app@127.0.0.1:1/production", monkeypatch)
    result = cli("db", "reset", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: refusing to reset postgresql://app@127.0.0.1:1/production"
    )


def test_reset_empties_a_sqlite_database(sqlite_cli: Invoke) -> None:
    assert sqlite_cli("quickstart").exit_code == 0
    result = sqlite_cli("db", "reset", "--yes")
    assert result.exit_code == 0, result.output
    stats = sqlite_cli("db", "stats")
    assert re.search(r"│\s*users\s*│\s*0\s*│", stats.stdout)


def test_reset_on_postgresql_needs_force_unless_the_name_says_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_postgres()
    with databases.fresh_postgres_database(prefix="tt") as url:  # no dev/test/... in the name
        cli = make_invoker(url, monkeypatch)
        assert cli("quickstart").exit_code == 0
        refused = cli("db", "reset", "--yes")
        assert refused.exit_code == 1
        assert "does not look like a development database" in refused.stderr
        forced = cli("db", "reset", "--yes", "--force")
        assert forced.exit_code == 0, forced.output
        assert re.search(r"│\s*tasks\s*│\s*0\s*│", cli("db", "stats").stdout)
    with databases.fresh_postgres_database(prefix="tasktracker_dev") as url:
        cli = make_invoker(url, monkeypatch)
        accepted = cli("db", "reset", "--yes")  # an empty database: reset just migrates
        assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize(
    ("url", "development"),
    [
        ("sqlite:///./tasktracker.db", True),
        ("postgresql://u@h/tasktracker_dev", True),
        ("postgresql://u@h/test-42", True),
        ("postgresql://u@h/app_local", True),
        ("postgresql://u@h/Scratch", True),
        ("postgresql://u@h/tasktracker", False),
        ("postgresql://u@h/production_latest", False),
        ("postgresql://u@h/devices", False),
        ("postgresql://u@h", False),
    ],
)
def test_what_looks_like_a_development_database(url: str, development: bool) -> None:
    assert looks_like_development(make_url(url)) is development
