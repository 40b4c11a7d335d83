"""Run the CLI in-process (typer's CliRunner) against a real database of either backend."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tasktracker.accounts.passwords import hash_password
from tasktracker.cli import app
from tasktracker.db.settings import get_settings
from tasktracker.seeding import demo, volume
from tests import databases
from tests.conftest import require_postgres

Invoke = Callable[..., Result]


_hash_once = functools.cache(hash_password)


def make_invoker(url: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("DATABASE_URL", url)
    # Argon2 is slow on purpose: hash the demo and seed passwords once per test session.
    monkeypatch.setattr(demo, "hash_password", _hash_once)
    monkeypatch.setattr(volume, "hash_password", _hash_once)

    def invoke(*args: str) -> Result:
        get_settings.cache_clear()  # the settings are read once per process
        try:
            return CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()

    return invoke


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend."""
    if request.param == "postgresql":
        require_postgres()
        with databases.fresh_postgres_database() as url:
            yield url
    else:
        with databases.fresh_sqlite_database(tmp_path) as url:
            yield url


@pytest.fixture
def cli(cli_url: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """`cli("db", "stats")` runs `tasktracker db stats` on `cli_url`."""
    return make_invoker(cli_url, monkeypatch)


@pytest.fixture
def sqlite_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """The CLI on a fresh SQLite file only (for checks that do not depend on the backend)."""
    with databases.fresh_sqlite_database(tmp_path) as url:
        yield make_invoker(url, monkeypatch)
