"""The engine factory: the only place engines are created.

One URL (as Neon or a host gives it) serves both sync and async use: the package picks the
driver. PostgreSQL engines pool with pre-ping and recycle, retry connecting with
exponential backoff and jitter, and apply the statement timeout and prepared-statement
policy; SQLite engines enforce foreign keys, use WAL and a busy timeout, get real
transactions (so savepoints work) and the Unicode `lower()` of PostgreSQL
(`db.caseless`). Every engine translates driver errors and logs slow statements.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import select
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tasktracker.db import connect_failures, driver_errors
from tasktracker.db.caseless import register_sqlite_function
from tasktracker.db.errors import ConfigurationError, DatabaseUnavailableError
from tasktracker.db.settings import Settings, get_settings, mask_url

log = logging.getLogger("tasktracker.db")
sql_log = logging.getLogger("tasktracker.sql")

SQLITE_BUSY_TIMEOUT_MS = 5000
PING_AFTER_IDLE_SECONDS = 5.0
# libpq's SSL parameters that asyncpg reads from a DSN (`_asyncpg_ssl_dsn`).
_ASYNCPG_SSL_PARAMS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
)


def sync_url(settings: Settings) -> URL:
    url = settings.url
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    return url.set(drivername="postgresql+psycopg")


def async_url(settings: Settings) -> URL:
    url = settings.url
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if url.drivername == "postgresql+asyncpg":
        return url
    return url.set(drivername="postgresql+psycopg")


def _prepared_statements(settings: Settings, url: URL) -> bool:
    if settings.database_prepared_statements is not None:
        return settings.database_prepared_statements
    return "-pooler" not in (url.host or "")


def _behind_pooler(settings: Settings, url: URL) -> bool:
    """A transaction-mode pooler (PgBouncer, Neon's pooled endpoint) sits in between.

    Then server-side prepared statements are off, and nothing relies on session state: a
    pooler refuses startup parameters other than a few it tracks (PgBouncer: "unsupported
    startup parameter"), and a `SET` would leak to other clients sharing the server
    connection. The statement timeout is therefore applied per transaction (`SET LOCAL`).
    """
    return not _prepared_statements(settings, url)


def _psycopg_connect_args(settings: Settings, url: URL) -> dict[str, Any]:
    args: dict[str, Any] = {
        "connect_timeout": max(1, round(settings.database_connect_timeout)),
        "application_name": settings.database_application_name,
    }
    if _behind_pooler(settings, url):
        args["prepare_threshold"] = None
        return args
    # Sessions in UTC: psycopg then returns `timestamptz` values already in UTC, so reads
    # need no conversion (behind a pooler, the read path converts them instead).
    options = ["-c TimeZone=UTC"]
    if settings.database_statement_timeout_ms:
        options.append(f"-c statement_timeout={settings.database_statement_timeout_ms}")
    # libpq reads PGOPTIONS only when no `options` is passed, and this always passes one:
    # so the variable's, then the URL's, go first (a later `-c` of the same name wins).
    existing = [os.environ.get("PGOPTIONS", ""), url.query.get("options")]
    given = [value for value in existing if isinstance(value, str) and value.strip()]
    args["options"] = " ".join([*given, *options])
    return args


def _asyncpg_ssl_dsn(query: Mapping[str, Any]) -> str | None:
    """libpq's SSL parameters of the URL as a DSN of their own, for asyncpg to read.

    asyncpg applies libpq's rules when it reads them from a DSN (`require` with a root
    certificate verifies the chain, the `~/.postgresql` files and `PGSSL*` variables are
    the defaults), but SQLAlchemy passes a URL's query as keyword arguments, which asyncpg
    does not take for these. So they travel as a DSN with nothing else in it; the host,
    user and database SQLAlchemy passes as arguments, which take precedence over a DSN.
    """
    values = {key: query[key] for key in _ASYNCPG_SSL_PARAMS if key in query}
    if values.get("sslrootcert") == "system":
        raise ConfigurationError(
            "DATABASE_URL: sslrootcert=system is libpq's (PostgreSQL 16) and asyncpg cannot "
            "honour it; name the CA file instead (sslrootcert=/etc/ssl/certs/ca-certificates.crt "
            "on Debian) or use postgresql:// (psycopg)"
        )
    return f"postgresql://?{urlencode(values)}" if values else None


def _refuse_channel_binding(query: Mapping[str, Any]) -> None:
    """asyncpg cannot bind SCRAM to the TLS channel (no SCRAM-SHA-256-PLUS): connecting
    anyway when the URL requires it would authenticate weaker than asked."""
    mode = query.get("channel_binding")
    if mode not in {None, "disable", "prefer", "require"}:
        raise ConfigurationError("DATABASE_URL: channel_binding must be disable, prefer or require")
    if mode == "require":
        raise ConfigurationError(
            "DATABASE_URL: channel_binding=require cannot be honoured by asyncpg, which does "
            "not implement SCRAM channel binding; use postgresql:// (psycopg, sync and async, "
            "honours it) or drop channel_binding from the URL"
        )


def _require_asyncpg() -> None:
    """asyncpg is an optional extra: say so in one line instead of a ModuleNotFoundError."""
    try:
        importlib.import_module("asyncpg")
    except ImportError:
        raise ConfigurationError(
            "DATABASE_URL: postgresql+asyncpg:// needs the asyncpg driver, an optional extra: "
            "pip install 'tasktracker[asyncpg]' (or use postgresql://, psycopg 3, sync and async)"
        ) from None


def _asyncpg_url_and_args(settings: Settings, url: URL) -> tuple[URL, dict[str, Any]]:
    """asyncpg does not read libpq's query parameters: turn them into its own arguments."""
    _require_asyncpg()
    query = dict(url.query)
    args: dict[str, Any] = {"timeout": settings.database_connect_timeout}
    server_settings = {"application_name": settings.database_application_name}
    if _behind_pooler(settings, url):
        # Unnamed statements only: asyncpg names a statement only when it caches it.
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
    elif settings.database_statement_timeout_ms:
        server_settings["statement_timeout"] = str(settings.database_statement_timeout_ms)
    args["server_settings"] = server_settings
    _refuse_channel_binding(query)
    if ssl_dsn := _asyncpg_ssl_dsn(query):
        args["dsn"] = ssl_dsn
    return url.difference_update_query((*_ASYNCPG_SSL_PARAMS, "channel_binding")), args


def _install_connect_retry(engine: Engine, settings: Settings, *, is_async: bool) -> None:
    target = mask_url(engine.url)
    attempts = settings.database_connect_retries

    def sleep(seconds: float) -> None:
        if is_async:
            await_only(asyncio.sleep(seconds))
        else:
            time.sleep(seconds)

    def log_retry(state: RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action else 0.0
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "connect attempt %d/%d to %s failed (%s); retrying in %.2fs",
            state.attempt_number,
            attempts,
            target,
            driver_errors.first_line(error) if error else "?",
            delay,
        )

    @event.listens_for(engine, "do_connect")
    def connect_with_retry(
        dialect: Dialect, record: ConnectionPoolEntry, cargs: Any, cparams: Any
    ) -> DBAPIConnection:
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential_jitter(
                multiplier=settings.database_retry_initial_delay,
                max=settings.database_retry_max_delay,
                jitter=settings.database_retry_initial_delay,
            ),
            retry=retry_if_exception(connect_failures.can_heal),
            sleep=sleep,
            before_sleep=log_retry,
            reraise=True,
        )
        started = time.perf_counter()
        try:
            connection = retrying(dialect.connect, *cargs, **cparams)
        except Exception as exc:
            made = retrying.statistics.get("attempt_number", 1)
            reason = driver_errors.first_line(exc)
            log.warning("could not connect to %s after %d attempt(s): %s", target, made, reason)
            raise DatabaseUnavailableError(
                f"could not connect to {target} after {made} attempt(s): {reason}"
            ) from None
        log.debug("connected to %s in %.1f ms", target, (time.perf_counter() - started) * 1000)
        return connection


def _install_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys, WAL, a busy timeout, the Unicode `lower()`, and writer units that take
    SQLite's write lock up front.

    pysqlite's own transaction handling is switched off (driver-level autocommit) and the
    "begin" hook emits BEGIN itself, so transactions, savepoints and transactional DDL
    behave as on PostgreSQL. A unit that may write (`writer`) begins `IMMEDIATE`: it
    waits, up to the busy timeout, for the write lock before its first statement. A
    deferred BEGIN takes a read snapshot at its first read and fails at its first write as
    soon as another connection has committed meanwhile ("database is locked", at once: a
    stale snapshot cannot be upgraded, so the busy timeout does not apply). A read-only
    unit's connection (`reader`) begins nothing: each statement reads the latest commit
    and, with WAL, never waits for a writer, as on PostgreSQL. Other connections (the
    engine used directly) begin deferred, SQLite's default.
    """

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA database_list")
        if cursor.fetchone()[2]:  # a file, not :memory: (which cannot use WAL)
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_sqlite_function(dbapi_connection)

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        if _without_transaction(connection):
            return
        writes = connection.get_execution_options().get(WRITER_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _pending_input(record: ConnectionPoolEntry) -> bool:
    """True if the server sent something to an idle connection: it has closed it."""
    fileno = getattr(record.driver_connection, "fileno", None)
    if fileno is None:
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _install_liveness_check(engine: Engine) -> None:
    """Pre-ping that costs no round trip on the hot path (psycopg).

    A connection coming back from the pool is checked without talking to the server: an
    idle PostgreSQL connection receives nothing unless the server is closing it
    (`pg_terminate_backend`, a restart, Neon suspending, an idle timeout), so pending input
    on its socket means it is dead, and it is replaced before it is handed out. One idle
    for `PING_AFTER_IDLE_SECONDS` or more also gets a real ping, for peers that vanished
    without closing. Replaces SQLAlchemy's `pool_pre_ping`, which pays a round trip on
    every checkout (the same idea as HikariCP's alive-bypass window).
    """

    @event.listens_for(engine, "checkin")
    def mark_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check_alive(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:
            return
        if _pending_input(record):
            log.info("replacing a pooled connection the server closed while it was idle")
            raise sa_exc.DisconnectionError("connection closed by the server while idle")
        if time.monotonic() - idle_since >= PING_AFTER_IDLE_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:
                log.info("replacing a pooled connection that failed its ping: %s", exc)
                raise sa_exc.DisconnectionError(str(exc)) from exc


SLOW_QUERY_OPTION = "tasktracker_slow_query_seconds"
_OWN_CURSOR_LISTENERS = "tasktracker_own_cursor_listeners"


def _install_observability(engine: Engine, settings: Settings) -> None:
    """The slow-query log (a pair of cursor-event listeners) and the error translator.

    The threshold and the number of listeners installed here are recorded as execution
    options, so the compiled fast path can log slow statements itself and dispatch the
    cursor events only when someone else listens (`cursor_events_observed`)."""
    threshold = settings.database_slow_query_ms / 1000

    @event.listens_for(engine, "before_cursor_execute")
    def start_timer(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("query_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def log_slow(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        log_if_slow(statement, time.perf_counter() - conn.info["query_started"].pop(), threshold)

    event.listen(engine, "handle_error", driver_errors.translate)
    engine.update_execution_options(**{SLOW_QUERY_OPTION: threshold, _OWN_CURSOR_LISTENERS: 1})


def log_if_slow(statement: str, elapsed: float, threshold: float) -> None:
    if elapsed >= threshold:
        sql_log.warning("slow query (%.1f ms): %s", elapsed * 1000, statement[:500])


def cursor_events_observed(bind: Connection | Engine) -> bool:
    """Whether anything besides the slow-query log listens to the cursor events."""
    own: int = bind.get_execution_options().get(_OWN_CURSOR_LISTENERS, 0)
    dispatch = bind.dispatch
    return len(dispatch.before_cursor_execute) > own or len(dispatch.after_cursor_execute) > own


ECHO_LOGGER = "sqlalchemy.engine.Engine.echo"
"""The logger of engines created with `DATABASE_ECHO` (or `DEBUG`): every statement, at INFO."""


class _StderrUnlessConfigured(logging.StreamHandler):  # type: ignore[type-arg]
    """Shows echoed statements on stderr while the application has no handler of its own."""

    def emit(self, record: logging.LogRecord) -> None:
        parent = logging.getLogger(ECHO_LOGGER).parent
        if parent is None or not parent.hasHandlers():
            super().emit(record)


def _echo_options(settings: Settings) -> dict[str, Any]:
    """`DATABASE_ECHO` through standard logging, each statement logged once.

    SQLAlchemy's own `echo=True` adds a stdout handler to its logger on top of the
    application's handlers, so with logging configured (as the CLI does) every statement
    appeared twice, one copy on stdout, inside a command's output. Echoing engines log
    under their own logger name at INFO instead; the records reach the application's
    handlers, or stderr while there are none.
    """
    if not settings.echo:
        return {}
    logger = logging.getLogger(ECHO_LOGGER)
    logger.setLevel(logging.INFO)
    if not any(isinstance(handler, _StderrUnlessConfigured) for handler in logger.handlers):
        logger.addHandler(_StderrUnlessConfigured())
    return {"logging_name": ECHO_LOGGER.rsplit(".", 1)[1]}


def _engine_options(settings: Settings, url: URL, *, is_async: bool) -> tuple[URL, dict[str, Any]]:
    options: dict[str, Any] = {"hide_parameters": True, **_echo_options(settings)}
    if url.get_backend_name() == "sqlite":
        return url, options
    if url.drivername == "postgresql+asyncpg":
        url, connect_args = _asyncpg_url_and_args(settings, url)
    else:
        connect_args = _psycopg_connect_args(settings, url)
    options |= {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_max_overflow,
        "pool_timeout": settings.database_pool_timeout,
        "pool_recycle": settings.database_pool_recycle,
        # The most recently returned connection first: a few stay warm (their prepared
        # statements, their server backend's caches) and the rest can idle out.
        "pool_use_lifo": True,
        # psycopg connections get the cheaper equivalent, `_install_liveness_check`.
        "pool_pre_ping": url.drivername == "postgresql+asyncpg",
        "connect_args": connect_args,
    }
    if url.drivername != "postgresql+asyncpg":
        options["isolation_level"] = "AUTOCOMMIT"  # see `_install_autocommit_at_rest`
        options["pool_reset_on_return"] = None  # see `_install_reset`
    return url, options


READ_ONLY_OPTION = "tasktracker_read_only"
"""Execution option of a read-only unit's connection: it begins no transaction."""


def reader(engine: Engine) -> Engine:
    """The engine a read-only unit of work connects with: it begins no transaction (on
    SQLite, it then never takes the write lock)."""
    if engine.dialect.driver == "asyncpg":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{READ_ONLY_OPTION: True})


WRITER_OPTION = "tasktracker_writer"
"""Execution option of the connection of a unit that may write: on SQLite it begins
`IMMEDIATE` (`_install_sqlite_pragmas`)."""


def writer(engine: Engine) -> Engine:
    """The engine a unit of work that may write connects with."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{WRITER_OPTION: True})


def _without_transaction(connection: Connection) -> bool:
    options = connection.get_execution_options()
    return bool(options.get(READ_ONLY_OPTION)) or options.get("isolation_level") == "AUTOCOMMIT"


def _install_autocommit_at_rest(engine: Engine) -> None:
    """psycopg connections rest in driver-level autocommit; when SQLAlchemy begins a
    transaction, the connection leaves autocommit (psycopg then sends BEGIN before the next
    statement), except a read-only unit's; it returns to autocommit when checked in.

    So a read-only unit's connection is never switched at all, and a single read is a
    single round trip; a unit that begins but sends nothing sends no BEGIN/COMMIT either.
    """
    event.listen(engine, "begin", leave_autocommit)


def leave_autocommit(connection: Connection) -> None:
    """Make the connection's next statement start a transaction (idempotent).

    A "begin" listener on a connection runs before the engine's: one that needs the
    transaction (a `SET LOCAL`) calls this first."""
    if connection.dialect.driver != "psycopg" or _without_transaction(connection):
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _install_reset(engine: Engine) -> None:
    """A connection going back to the pool is rolled back only if a transaction is open,
    and put back in autocommit.

    In driver-level autocommit an idle connection has nothing to roll back, and psycopg's
    `rollback()` still costs a locked driver call; its transaction status is a local read.
    (SQLAlchemy's documented custom reset: `reset_on_return=None` and this `reset` hook.)
    """

    @event.listens_for(engine, "reset")
    def reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: Any) -> None:
        status = record.driver_connection.pgconn.transaction_status  # type: ignore[union-attr]
        if status != psycopg.pq.TransactionStatus.IDLE:
            dbapi_connection.rollback()
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True  # back to rest (`_install_autocommit_at_rest`)


def _install_transaction_timeout(engine: Engine, timeout_ms: int) -> None:
    """Behind a pooler: the statement timeout as `SET LOCAL`, first thing in each transaction."""

    @event.listens_for(engine, "begin")
    def set_timeout(connection: Connection) -> None:
        if _without_transaction(connection):
            return  # read-only units run without a transaction: SET LOCAL would not last
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


POOL_LIMITS_OPTION = "tasktracker_pool_limits"
"""Execution option of a pooled engine (of an async one, its `sync_engine`): (pool size,
max overflow, checkout timeout), for the fair gate of its units of work (`db.gate`)."""


def _configure(engine: Engine, settings: Settings, *, is_async: bool) -> None:
    if engine.dialect.name == "sqlite":
        _install_sqlite_pragmas(engine)
    else:
        _install_connect_retry(engine, settings, is_async=is_async)
        if engine.dialect.driver == "psycopg":
            _install_autocommit_at_rest(engine)
            _install_reset(engine)
            _install_liveness_check(engine)
        timeout_ms = settings.database_statement_timeout_ms
        if timeout_ms and _behind_pooler(settings, engine.url):
            _install_transaction_timeout(engine, timeout_ms)
        limits = (
            settings.database_pool_size,
            settings.database_max_overflow,
            settings.database_pool_timeout,
        )
        engine.update_execution_options(**{POOL_LIMITS_OPTION: limits})
    _install_observability(engine, settings)


def create_engine(settings: Settings | None = None) -> Engine:
    """A sync engine for the configured database."""
    settings = settings or get_settings()
    url, options = _engine_options(settings, sync_url(settings), is_async=False)
    engine = sa_create_engine(url, **options)
    _configure(engine, settings, is_async=False)
    log.debug("sync engine for %s", mask_url(url))
    return engine


def create_async_engine(settings: Settings | None = None) -> AsyncEngine:
    """An async engine for the configured database, from the same settings."""
    settings = settings or get_settings()
    url, options = _engine_options(settings, async_url(settings), is_async=True)
    engine = sa_create_async_engine(url, **options)
    _configure(engine.sync_engine, settings, is_async=True)
    log.debug("async engine for %s", mask_url(url))
    return engine
