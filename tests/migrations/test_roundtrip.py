"""The whole history: applied to an empty PostgreSQL database quickly, and fully undone.

`downgrade base` from head must leave the catalog as it was before the first migration —
no table, index, sequence, type, function, trigger or extension left behind, only
Alembic's own version table — and `upgrade head` must then build the same schema again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine

from tasktracker.admin import schema

Catalog = dict[str, set[str]]

_USER_SCHEMAS = "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(catalog|toast|temp)'"
_PG_CATALOG = {
    "schemas": "SELECT nspname FROM pg_namespace n WHERE " + _USER_SCHEMAS,
    "relations": (
        "SELECT n.nspname || '.' || c.relname || ' (' || c.relkind::text || ')' FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " + _USER_SCHEMAS
    ),
    "types": (
        "SELECT t.oid::regtype::text FROM pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE " + _USER_SCHEMAS
    ),
    "functions": (
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE " + _USER_SCHEMAS
    ),
    "triggers": "SELECT tgrelid::regclass || '.' || tgname FROM pg_trigger WHERE NOT tgisinternal",
    "extensions": "SELECT extname FROM pg_extension",
}
_SQLITE_CATALOG = {"objects": "SELECT type || ' ' || name FROM sqlite_master"}


# On Citus the coordinator holds a copy (a shard) of the reference table `users`, named
# after its shard id (`users_102008`), which a rebuild renumbers.
_SHARD_ID = re.compile(r"_\d{6,}\b")


def catalog(connection: Connection) -> Catalog:
    queries = _SQLITE_CATALOG if connection.dialect.name == "sqlite" else _PG_CATALOG
    return {
        kind: {
            _SHARD_ID.sub("_<shard>", name) for name in connection.exec_driver_sql(query).scalars()
        }
        for kind, query in queries.items()
    }


def _without_version_table(catalog: Catalog) -> Catalog:
    return {
        kind: {name for name in names if "alembic_version" not in name}
        for kind, names in catalog.items()
    }


def _at(engine: Engine, read: Callable[[Connection], Catalog]) -> Catalog:
    with engine.connect() as connection:
        return read(connection)


def test_downgrade_base_leaves_nothing_and_upgrade_rebuilds(fresh_engine: Engine) -> None:
    empty = _at(fresh_engine, catalog)
    schema.upgrade(fresh_engine)
    head = _at(fresh_engine, catalog)
    if fresh_engine.dialect.name == "postgresql":  # the check below is not vacuous
        assert "tasktracker_uuid7()" in head["functions"]
        assert "users.users_touch_updated_at" in head["triggers"]
        assert "categories.categories_null_tasks_category_id" in head["triggers"]
    assert all(head[kind] >= empty[kind] for kind in head)
    assert head != empty

    schema.downgrade(fresh_engine, "base")
    after = _at(fresh_engine, catalog)
    assert _without_version_table(after) == empty
    assert any("alembic_version" in name for names in after.values() for name in names)
    with fresh_engine.connect() as connection:
        assert schema.current_revision(connection) is None

    schema.upgrade(fresh_engine)
    assert _at(fresh_engine, catalog) == head


@pytest.mark.parametrize("bound_seconds", [30.0])
def test_whole_history_applies_to_empty_postgres_well_under_the_bound(
    pg_engine: Engine, bound_seconds: float, record_property: Callable[[str, object], None]
) -> None:
    started = time.perf_counter()
    schema.upgrade(pg_engine)
    elapsed = time.perf_counter() - started
    record_property("seconds_to_apply_history", round(elapsed, 3))
    with pg_engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
    assert elapsed < bound_seconds
