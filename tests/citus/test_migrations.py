"""The migrations distribute the schema on Citus as docs/citus.md says, and keep it so
through downgrades and upgrades; `db distribute` converts a database migrated before
Citus; `db health` and `db check` fail on a table that is not distributed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tasktracker.admin import distribution, schema
from tasktracker.admin.catalog import tables
from tasktracker.db.engines import create_engine
from tests import databases
from tests.cli.conftest import make_invoker
from tests.connectivity import citus


def _placements(engine: Engine) -> dict[str, str] | None:
    with engine.connect() as connection:
        return distribution.distribution(connection)


def _assert_distributed(engine: Engine) -> None:
    found = _placements(engine)
    assert found is not None
    assert distribution.problems(found) == []
    assert set(found) == {table.name for table in tables()}
    assert found["users"] == distribution.REFERENCE
    assert list(found.values()).count(distribution.CO_LOCATED) == len(found) - 1


def test_upgrade_downgrade_and_back_keep_the_schema_distributed(citus_engine: Engine) -> None:
    schema.upgrade(citus_engine)
    _assert_distributed(citus_engine)
    for down in ("0002", "0001", "base"):
        schema.downgrade(citus_engine, down)
        schema.upgrade(citus_engine)
        _assert_distributed(citus_engine)


def test_db_distribute_converts_a_database_migrated_before_citus(
    plain_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = make_invoker(plain_url, monkeypatch)
    assert cli("db", "upgrade").exit_code == 0
    assert "no citus extension" in cli("db", "distribute").output
    assert cli("quickstart").exit_code == 0
    engine = create_engine(databases.test_settings(plain_url))
    try:
        tasks = _count(engine, "tasks")
        assert tasks > 0
        database = make_url(plain_url).database
        assert database is not None
        citus.prepare_database(
            databases.admin_port(), database, citus.worker_ports_from_environment()
        )

        health = cli("db", "health")
        assert health.exit_code == 4, health.output
        assert "users: not a reference table" in health.output
        assert "tasks: not distributed by user_id" in health.output
        check = cli("db", "check")
        assert check.exit_code != 0
        assert "categories: not distributed by user_id" in check.output

        distribute = cli("db", "distribute")
        assert distribute.exit_code == 0, distribute.output
        assert cli("db", "health").exit_code == 0
        assert cli("db", "check").exit_code == 0
        assert "already distributed" in cli("db", "distribute").output
        _assert_distributed(engine)
        assert _count(engine, "tasks") == tasks  # moved to the shards, none lost
        # and later revisions still go down and up on the converted database
        schema.downgrade(engine, "0002")
        schema.upgrade(engine)
        _assert_distributed(engine)
    finally:
        engine.dispose()


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
