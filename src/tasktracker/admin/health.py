"""The health check: one round trip to the database, reported as plain data."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from tasktracker.admin import distribution, schema
from tasktracker.db.errors import TaskTrackerError
from tasktracker.db.settings import mask_url


@dataclass(frozen=True)
class PoolUsage:
    size: int
    checked_out: int
    overflow: int


@dataclass(frozen=True)
class HealthReport:
    reachable: bool
    url: str
    backend: str
    latency_ms: float | None = None
    server_version: str | None = None
    ssl: bool | None = None
    pool: PoolUsage | None = None
    revision: str | None = None
    head: str | None = None
    error: str | None = None
    # On Citus: each table's placement (admin/distribution.py); None without Citus.
    distribution: dict[str, str] | None = None

    @property
    def up_to_date(self) -> bool:
        return self.reachable and self.revision == self.head

    @property
    def distribution_problems(self) -> list[str]:
        """The tables Citus does not hold as the spec says (none without Citus)."""
        return distribution.problems(self.distribution)

    @property
    def healthy(self) -> bool:
        return self.reachable and self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for a web health endpoint."""
        return asdict(self) | {
            "up_to_date": self.up_to_date,
            "distribution_problems": self.distribution_problems,
        }


def _pool_usage(engine: Engine) -> PoolUsage | None:
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return PoolUsage(
        size=pool.size(), checked_out=pool.checkedout(), overflow=max(pool.overflow(), 0)
    )


def check_health(engine: Engine) -> HealthReport:
    """Reachability, latency, version, SSL, pool usage, and migration revision versus head."""
    try:
        with engine.connect() as connection:
            report = _probe(connection)
    except TaskTrackerError as exc:
        return _unreachable(engine, exc)
    return replace(report, pool=_pool_usage(engine))  # the probe's connection is back


async def check_health_async(engine: AsyncEngine) -> HealthReport:
    """The same report as `check_health`, for an async engine (any async driver): the same
    probe, run on the async connection by SQLAlchemy's `run_sync`."""
    try:
        async with engine.connect() as connection:
            report = await connection.run_sync(_probe)
    except TaskTrackerError as exc:
        return _unreachable(engine.sync_engine, exc)
    return replace(report, pool=_pool_usage(engine.sync_engine))


def _unreachable(engine: Engine, exc: TaskTrackerError) -> HealthReport:
    url, backend = mask_url(engine.url), engine.dialect.name
    return HealthReport(False, url, backend, head=schema.head_revision(), error=str(exc))


def _probe(connection: Connection) -> HealthReport:
    """The report of a reachable database, without the pool's usage."""
    engine = connection.engine
    started = time.perf_counter()
    connection.execute(text("SELECT 1"))
    latency = (time.perf_counter() - started) * 1000
    if engine.dialect.name == "postgresql":
        version = connection.scalar(text("SHOW server_version"))
        ssl = connection.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
    else:
        version = connection.scalar(text("SELECT sqlite_version()"))
        ssl = None
    revision = schema.current_revision(connection)
    placements = distribution.distribution(connection)
    connection.rollback()
    return HealthReport(
        True,
        mask_url(engine.url),
        engine.dialect.name,
        latency_ms=round(latency, 3),
        server_version=str(version),
        ssl=bool(ssl) if ssl is not None else None,
        revision=revision,
        head=schema.head_revision(),
        distribution=placements,
    )
