"""The commands as a user runs them: `tasktracker db upgrade/downgrade/check`, `alembic check`.

`tasktracker` runs in-process through its real entry point (`tasktracker.cli.main`, exit
codes included); `alembic check` runs as a process from the repository root, where
alembic.ini is. All on fresh SQLite files.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tasktracker.admin import schema
from tasktracker.cli import main
from tasktracker.db.engines import create_engine
from tasktracker.db.settings import get_settings
from tests import databases

ROOT = Path(__file__).resolve().parents[2]
STEP = r"{verb} {revision} \({doc}\) in \d+\.\d{{3}} s"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """`cli(url, "db", "check")` → (exit code, stdout, stderr) of `tasktracker db check`."""
    migrations_log = logging.getLogger("tasktracker.migrations")
    level = migrations_log.level

    def run(url: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setattr(sys, "argv", ["tasktracker", *args])
        get_settings.cache_clear()
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()
    migrations_log.setLevel(level)


def _alembic_checks(*urls: str) -> list[subprocess.CompletedProcess[str]]:
    """`alembic check` against each database, side by side."""
    alembic = Path(sys.executable).parent / "alembic"
    processes = [
        subprocess.Popen(
            [str(alembic), "check"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(
            subprocess.CompletedProcess(["alembic", "check"], process.returncode, stdout, stderr)
        )
    return results


def _add_column_by_hand(url: str) -> None:
    engine = create_engine(databases.test_settings(url))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE tasks ADD COLUMN sneaky INTEGER")
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_print_each_revision_and_its_time(cli: Cli, sqlite_dir: Path) -> None:
    history = schema.history()
    with databases.fresh_sqlite_database(sqlite_dir) as url:
        code, out, _ = cli(url, "db", "upgrade")
        assert code == 0
        lines = out.splitlines()
        assert len(lines) == len(history) + 1
        for script, line in zip(history, lines, strict=False):
            pattern = STEP.format(verb="upgraded to", revision=script.revision, doc=script.doc)
            assert re.fullmatch(pattern, line), line
        assert lines[-1] == f"database at revision {schema.head_revision()}"

        code, out, _ = cli(url, "db", "downgrade", "base")
        assert code == 0
        lines = out.splitlines()
        assert len(lines) == len(history) + 1
        for script, line in zip(reversed(history), lines, strict=False):
            pattern = STEP.format(verb="downgraded from", revision=script.revision, doc=script.doc)
            assert re.fullmatch(pattern, line), line
        assert lines[-1] == "database at revision base"


def test_db_check_passes_clean_fails_on_drift_and_behind_head(cli: Cli, sqlite_dir: Path) -> None:
    with databases.fresh_sqlite_database(sqlite_dir) as url:
        Path(url.removeprefix("sqlite:///")).touch()  # a new, empty database
        code, _, err = cli(url, "db", "check")
        assert code == 1
        assert "database is at revision base" in err
        assert "run `tasktracker db upgrade` first" in err

        databases.migrate_to(url)
        assert cli(url, "db", "check")[:2] == (0, "models and migrations agree\n")

        _add_column_by_hand(url)
        code, _, err = cli(url, "db", "check")
        assert code == 1
        assert "models and migrations differ" in err
        assert "sneaky" in err


def test_alembic_check_passes_clean_and_fails_on_drift(sqlite_dir: Path) -> None:
    with (
        databases.fresh_sqlite_database(sqlite_dir) as clean,
        databases.fresh_sqlite_database(sqlite_dir) as drifted,
    ):
        databases.migrate_to(clean)
        databases.migrate_to(drifted)
        _add_column_by_hand(drifted)
        passed, failed = _alembic_checks(clean, drifted)
    assert passed.returncode == 0, passed.stderr
    assert "No new upgrade operations detected" in passed.stdout
    assert failed.returncode != 0
    assert "FAILED: New upgrade operations detected" in failed.stdout
    assert "sneaky" in failed.stdout
