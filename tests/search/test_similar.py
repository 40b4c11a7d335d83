"""The typo-tolerant title lookup: PostgreSQL with pg_trgm finds a title despite a typo,
the scope's only; without the extension (SQLite) it is a clear `ConfigurationError`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tasktracker import ConfigurationError, ValidationError
from tasktracker.db.search.similar import has_trigrams
from tasktracker.db.sessions import Database
from tasktracker.tasks.repository import TaskRepository
from tests.search.conftest import Library


def test_a_title_is_found_despite_a_typo(db: Database, library: Library, backend: str) -> None:
    with db.user_scope(library.ada) as session:
        tasks = TaskRepository(session)
        if backend == "sqlite" or not has_trigrams(session):
            with pytest.raises(ConfigurationError, match="pg_trgm"):
                tasks.similar_titles("Quartely reprot")
        if backend == "sqlite":
            return
    with db.session() as session:  # the test's transaction: rolled back, extension and all
        offered = "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        if session.execute(text(offered)).first() is None:
            pytest.skip("this PostgreSQL server does not offer pg_trgm")
        session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    with db.user_scope(library.ada) as session:
        tasks = TaskRepository(session)
        assert has_trigrams(session)
        found = tasks.similar_titles("Quartely reprot")
        assert found[0].title == "Quarterly report"
        assert 0 < found[0].rank <= 1
        assert all("bob" not in (hit.title or "") for hit in found)
        assert tasks.similar_titles("zzzzqqqq") == []
        with pytest.raises(ValidationError) as raised:
            tasks.similar_titles("  ")
        assert raised.value.fields == {"query"}
