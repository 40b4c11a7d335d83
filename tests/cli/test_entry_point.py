"""The installed `tasktracker` console script, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "tasktracker"


def _run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_CONNECT_RETRIES": "1"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.mark.skipif(not SCRIPT.exists(), reason="package not installed as a console script")
def test_console_script_exit_codes_and_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    missing = _run("db", "stats", url=f"sqlite:///{path}")
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: no SQLite database at {path}:")
    path.touch()  # an empty database
    failed = _run("db", "stats", url=f"sqlite:///{path}")
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("error: the database is at revision base")
    assert "Traceback" not in failed.stderr

    unreachable = _run("db", "stats", url="postgresql://nobody@127.0.0.1:1/tasktracker_dev")
    assert unreachable.returncode == 1
    assert unreachable.stderr.count("\n") == 1
    assert unreachable.stderr.startswith("error: could not connect to")


@pytest.mark.parametrize(
    ("module", "arguments"), [("typer", []), ("rich", []), ("faker", ["db", "seed"])]
)
def test_without_the_cli_extra_the_command_names_it(
    module: str, arguments: list[str], tmp_path: Path
) -> None:
    """The console script is installed without the `cli` extra too: one line, exit 2 (Faker
    is missed only by the commands that seed)."""
    blocked = (
        f"import sys; sys.modules[{module!r}] = None; sys.argv[1:] = {arguments!r}; "
        "import tasktracker.cli as c; c.main()"
    )
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    if arguments:
        assert _run("db", "upgrade", url=url).returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", blocked],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DATABASE_URL": url},
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: the tasktracker command needs the cli extra ({module} is missing): "
        "pip install 'tasktracker[cli]'\n"
    )


# The data layer's stack. A subcommand's help also loads pydantic: Typer does, to convert
# parameters, so it is left out of this list.
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "faker", "asyncpg")


@pytest.mark.parametrize(
    "arguments",
    [None, ["--help"], ["db", "--help"], ["db", "health", "--help"], ["bench", "--help"]],
    ids=["import tasktracker", "--help", "db --help", "db health --help", "bench --help"],
)
def test_starting_loads_no_database_stack(arguments: list[str] | None) -> None:
    """`import tasktracker` and the command's help load neither SQLAlchemy nor a driver:
    that is what keeps them fast (see README, "Installing it")."""
    run = (
        "import tasktracker"
        if arguments is None
        else f"import sys; sys.argv[1:] = {arguments!r}; from tasktracker.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    roots = "sorted({m.partition('.')[0] for m in sys.modules})"
    probe = f"{run}\nimport json, sys; print(json.dumps({roots}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    heavy = {*HEAVY, "pydantic"} if arguments is None else set(HEAVY)
    assert loaded.isdisjoint(heavy), sorted(loaded & heavy)
