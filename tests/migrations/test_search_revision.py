"""The search revision indexes the rows already there, and its downgrade removes every
search object, leaving the rest as it was (its objects are none of autogenerate's)."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, Table, inspect

from tasktracker.admin import schema
from tasktracker.db.search.index import is_search_object
from tasktracker.db.types import new_id
from tasktracker.units import Database

SEARCH_REVISION = "0007"


def _search_objects(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        found = inspect(connection)
        tables = set(found.get_table_names())
        indexes = {ix["name"] for t in tables for ix in found.get_indexes(t) if ix["name"]}
    return {n for n in tables if is_search_object(n, "table")} | {
        n for n in indexes if is_search_object(n, "index")
    }


def test_upgrade_indexes_existing_rows_and_downgrade_removes_it_all(fresh_engine: Engine) -> None:
    before = _previous(SEARCH_REVISION)
    schema.upgrade(fresh_engine, before)
    db = Database(fresh_engine)
    with db.session() as unit:
        ada = unit.users.register(
            {"email": "ada@example.com", "username": "ada", "password": "correct horse battery"}
        ).id
    with fresh_engine.begin() as connection:  # as the table is at that revision
        tasks = Table("tasks", MetaData(), autoload_with=connection)
        id, owner = new_id(), ada
        if connection.dialect.name == "sqlite":
            id, owner = id.hex, owner.hex  # type: ignore[assignment]
        connection.execute(tasks.insert().values(user_id=owner, id=id, title="Quarterly report"))
    assert _search_objects(fresh_engine) == set()
    schema.upgrade(fresh_engine, SEARCH_REVISION)
    assert _search_objects(fresh_engine)
    with db.user_scope(ada) as unit:
        assert [hit.title for hit in unit.tasks.search("quarterly")] == ["Quarterly report"]
    schema.downgrade(fresh_engine, before)
    assert _search_objects(fresh_engine) == set()
    with db.user_scope(ada) as unit:
        assert unit.tasks.count() == 1


def _previous(revision: str) -> str:
    script = next(s for s in schema.history() if s.revision == revision)
    assert isinstance(script.down_revision, str)
    return script.down_revision
