"""Alembic environment: runs on a connection handed in, or on an engine from the settings.

Programmatic and async callers hand a (sync) connection in `config.attributes["connection"]`
— from an async engine via `await conn.run_sync(...)`; an `Engine` there is accepted too
(pytest-alembic hands its engine in that way). Each revision runs in its own transaction,
so a failing revision leaves the database at the previous one (PostgreSQL has
transactional DDL; so does SQLite with the engine's explicit BEGIN).

On PostgreSQL every migration transaction starts with `SET LOCAL lock_timeout` and
`statement_timeout` (online also with the settings Citus needs for the revisions' DDL,
`citus.py`): a migration that has to wait for a lock held by a long transaction
fails after a few seconds (and is rolled back) instead of queueing every other query of
the application behind it. Offline (`--sql`) scripts set both once, at the top.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Collection, Mapping
from typing import Any, Literal

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, Engine, event
from sqlmodel.sql.sqltypes import AutoString

from tasktracker import models
from tasktracker.db.engines import create_engine, leave_autocommit
from tasktracker.db.search.index import is_search_object
from tasktracker.db.settings import get_settings
from tasktracker.db.types import StrEnumType, UTCDateTime
from tasktracker.migrations import citus

log = logging.getLogger("tasktracker.migrations")
config = context.config
target_metadata = models.metadata
_started: dict[str, float] = {}

# A revision that legitimately needs longer (a backfill, an index on a big table) raises
# them for itself: op.execute("SET LOCAL statement_timeout = '30min'").
LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "60s"


def _timeouts() -> dict[str, str]:
    """PostgreSQL settings for migrations (tests shorten the lock timeout via attributes)."""
    return {
        "lock_timeout": config.attributes.get("lock_timeout", LOCK_TIMEOUT),
        "statement_timeout": STATEMENT_TIMEOUT,
    }


def _on_version_apply(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    elapsed = time.perf_counter() - _started.pop("step", time.perf_counter())
    verb = "upgraded to" if step.is_upgrade else "downgraded from"
    doc = getattr(step.up_revision, "doc", "")
    log.info("%s %s (%s) in %.3f s", verb, step.up_revision_id, doc, elapsed)
    _started["step"] = time.perf_counter()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render the project's column types as the plain SQLAlchemy types they store as."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, StrEnumType | AutoString):
        return f"sa.String(length={obj.length})"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """The search objects (revision 0007) are not the models': autogenerate leaves them be
    (the GIN indexes, the FTS5 tables and their shadow tables)."""
    return name is None or not is_search_object(name, type_)


def _run(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        transaction_per_migration=True,
        compare_type=True,
        # Alembic compares no CHECK constraints by default; by name is what both backends
        # reflect reliably (a CHECK added or dropped is drift, its SQL text is not compared).
        autogenerate_plugins=["alembic.autogenerate.*", "alembic.ext.checkconstraint_byname"],
        render_item=_render_item,
        include_name=_include_name,
        on_version_apply=_on_version_apply,
    )
    _started["step"] = time.perf_counter()
    if is_sqlite:
        # SQLite cannot reflect expression indexes (lower(email)); PostgreSQL compares them.
        for message in (
            "autogenerate skipping metadata-specified expression-based index",
            "Skipped unsupported reflection of expression-based index",
        ):
            warnings.filterwarnings("ignore", message=message)
        # Batch mode rebuilds tables; with foreign keys enforced, dropping the old copy of
        # a parent table would cascade into its children. The pragma only takes effect
        # outside a transaction, hence on the driver connection before Alembic begins.
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            context.run_migrations()
        finally:
            driver.execute("PRAGMA foreign_keys=ON")
    else:

        def set_timeouts(transaction_connection: Connection) -> None:
            options = transaction_connection.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return  # an autocommit block: no transaction for SET LOCAL to last in
            leave_autocommit(transaction_connection)
            # Citus's settings too, inert without it (offline scripts, which do not
            # distribute, leave them out: docs/citus.md).
            for name, value in (_timeouts() | citus.MIGRATION_SETTINGS).items():
                transaction_connection.exec_driver_sql(f"SET LOCAL {name} = '{value}'")

        event.listen(connection, "begin", set_timeouts)
        try:
            context.run_migrations()
        finally:
            event.remove(connection, "begin", set_timeouts)


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    if context.get_context().dialect.name == "postgresql":
        for name, value in _timeouts().items():
            context.execute(f"SET {name} = '{value}'")
    context.run_migrations()


def _run_on_engine(engine: Engine) -> None:
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Engine):
        _run_on_engine(connection)
        return
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(get_settings())
    try:
        _run_on_engine(engine)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
