"""Fixtures for the docs tests: each runs in an empty directory with its own database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tasktracker.db.settings import get_settings
from tests import databases
from tests.conftest import BACKENDS, require_postgres


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory (no `.env`, nothing left behind); settings read afresh."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(params=BACKENDS)
def docs_database(
    request: pytest.FixtureRequest, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh database of each backend, migrated to head, as `DATABASE_URL`."""
    if request.param == "postgresql":
        require_postgres()
        fresh = databases.fresh_postgres_database("tt_docs")
    else:
        fresh = databases.fresh_sqlite_database(isolated)
    with fresh as url:
        databases.migrate_to(url)
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        yield url
