"""The migrations on every PostgreSQL major version available here, compared (issue 25).

CI has two: Debian's 15 and the `pgserver` wheel's 16. On a throwaway cluster of each (stock
configuration), a fresh database is migrated base -> head, and the results must be the same:

- the statements the migrations send, in order, the `SET LOCAL lock_timeout` and
  `statement_timeout` of every migration transaction included: the same SQL on every version
  (no revision branches on the server version);
- `alembic check` (`schema.check`): no drift between the models and the database on any;
- the schema as the catalog reports it: every column (type, nullability, default), every
  constraint (`pg_get_constraintdef`: the CHECKs, keys, `NULLS NOT DISTINCT`), every index
  (`pg_get_indexdef`), trigger and function body: identical.

The schema diagram (`tasktracker db diagram`, admin/diagram.py) is drawn from the models, not
from a database: with no drift on either version it describes both (tests/docs keeps
docs/schema.md equal to it).

Fewer than two versions here: the test skips, saying which it found, unless
TASKTRACKER_REQUIRE_PG_MAJORS (CI: "15 16") names versions that must be compared.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, event

from tasktracker.admin import schema
from tasktracker.db.engines import create_engine
from tests import databases
from tests.connectivity import servers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_CATALOG = {
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
               character_maximum_length, numeric_precision
        FROM information_schema.columns WHERE table_schema = 'public'
        ORDER BY table_name, ordinal_position""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
        ORDER BY 1, 2""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), md5(prosrc)
        FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1, 2""",
}


@dataclass
class Migrated:
    version: str
    seconds: float
    statements: list[str]
    catalog: dict[str, list[tuple[object, ...]]]


def available_bins() -> dict[int, Path]:
    """One binaries folder per major version: Debian's installs, then the pgserver wheel's."""
    found: dict[int, Path] = {}
    candidates = [*servers.system_pg_bins(), servers.pgserver_bin(), servers.PG_BIN]
    for bin_dir in candidates:
        if bin_dir is not None and (bin_dir / "initdb").exists():
            found.setdefault(int(servers.server_version(bin_dir).split(".")[0]), bin_dir)
    return dict(sorted(found.items()))


def _normalised(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip()


def migrate_on(bin_dir: Path) -> Migrated:
    with servers.throwaway_cluster(bin_dir, stock=True) as cluster:
        name = f"tt_versions_{uuid.uuid4().hex[:8]}"
        with cluster.admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        url = cluster.admin_url().rsplit("/", 1)[0] + f"/{name}"
        started = time.perf_counter()
        databases.migrate_to(url)
        seconds = time.perf_counter() - started
        migration_sql = _migration_statements(url)
        engine = create_engine(databases.test_settings(url))
        try:
            schema.check(engine)  # alembic check: raises on any drift
        finally:
            engine.dispose()
        with psycopg.connect(databases._libpq(url), autocommit=True) as connection:
            catalog = {key: connection.execute(sql).fetchall() for key, sql in _CATALOG.items()}
        return Migrated(version, seconds, migration_sql, catalog)


def _migration_statements(url: str) -> list[str]:
    """Downgrade to base and upgrade again, recording every statement the migrations send."""
    engine = create_engine(databases.test_settings(url))
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        statements.append(_normalised(statement))

    try:
        schema.downgrade(engine, "base")
        statements.clear()
        schema.upgrade(engine, "head")
    finally:
        engine.dispose()
    return statements


@pytest.fixture(scope="module")
def migrated() -> dict[int, Migrated]:
    bins = available_bins()
    required = {int(v) for v in os.environ.get("TASKTRACKER_REQUIRE_PG_MAJORS", "").split()}
    if missing := required - set(bins):
        pytest.fail(f"TASKTRACKER_REQUIRE_PG_MAJORS: no binaries for {sorted(missing)}")
    if len(bins) < 2:
        pytest.skip(
            f"one PostgreSQL major version here ({sorted(bins)}): nothing to compare; "
            "pip install -e '.[test-pg]' adds 16, apt-get install postgresql adds Debian's"
        )
    if problem := servers.missing_server_component(needs_openssl=False):
        pytest.skip(problem)
    return {major: migrate_on(bin_dir) for major, bin_dir in bins.items()}


def test_migrations_complete_with_no_drift_on_every_version(
    migrated: dict[int, Migrated],
) -> None:
    # migrate_on ran `schema.check` (alembic check) on each: reaching here means no drift.
    for major, result in migrated.items():
        assert result.version.startswith(f"{major}."), result.version
        assert result.statements, f"PostgreSQL {major}: no migration statement recorded"
        assert result.seconds < 120, f"PostgreSQL {major}: migrations took {result.seconds:.0f} s"


def test_migrations_send_the_same_statements_and_timeouts_on_every_version(
    migrated: dict[int, Migrated],
) -> None:
    (first, reference), *others = migrated.items()
    timeouts = [s for s in reference.statements if s.startswith("SET LOCAL")]
    assert any("lock_timeout" in s for s in timeouts)
    assert any("statement_timeout" in s for s in timeouts)
    for major, result in others:
        assert result.statements == reference.statements, f"PostgreSQL {first} vs {major}"


@pytest.mark.parametrize("part", sorted(_CATALOG))
def test_the_migrated_schema_is_identical_on_every_version(
    migrated: dict[int, Migrated], part: str
) -> None:
    (first, reference), *others = migrated.items()
    assert reference.catalog[part], f"no {part} in the migrated schema"
    for major, result in others:
        assert result.catalog[part] == reference.catalog[part], f"PostgreSQL {first} vs {major}"
