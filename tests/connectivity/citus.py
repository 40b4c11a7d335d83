"""A throwaway Citus cluster for the tests: a coordinator and two workers, each a stock
`ThrowawayCluster` (its own initdb folder, a free port, as the `postgres` user when root)
that loads Citus (`shared_preload_libraries`). Never the shared server.

Citus keeps its metadata (the nodes, the shards) per database, and CREATE DATABASE is not
propagated by default: `prepare_database` creates the database on every worker, the
extension on every node, and registers the workers in the coordinator's copy. The suite's
Citus run (TASKTRACKER_TEST_POSTGRES=citus, tests/databases.py) does that for every
database it creates, so every database the tests migrate is distributed by the migrations.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg

from tests.connectivity import servers

# Few shards per table: the suite creates dozens of databases, each with every tenant table
# split into `shard_count` shards; 4 (2 per worker) keeps a migration to head at ~2 s.
SETTINGS = (
    "shared_preload_libraries = 'citus'\n"
    "max_prepared_transactions = 100\n"
    "wal_level = logical\n"
    "max_connections = 200\n"
    "citus.shard_count = 4\n"
)
WORKERS_VARIABLE = "TEST_CITUS_WORKER_PORTS"  # for xdist workers and subprocesses


def citus_problem() -> str | None:
    """None when a Citus cluster can be started here, else why not (with the fix)."""
    if (problem := servers.missing_server_component(needs_openssl=False)) is not None:
        return problem
    assert servers.PG_BIN is not None
    library = servers.PG_BIN.parent / "lib" / "citus.so"
    if not library.exists():
        return (
            f"Citus is not installed ({library} is missing): bash ../shared/citus/install.sh"
            " (docs/citus.md, 'Tests')"
        )
    return None


def _connect(port: int, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=servers.LOOPBACK, port=port, user="postgres", dbname=database, autocommit=True,
        connect_timeout=5,
    )  # fmt: skip


class CitusCluster:
    """A coordinator and its workers."""

    def __init__(self, stack: contextlib.ExitStack, workers: int = 2) -> None:
        self._stack = stack
        self.coordinator = self._node()
        self.workers = [self._node() for _ in range(workers)]

    def _node(self) -> servers.ThrowawayCluster:
        return self._stack.enter_context(
            servers.throwaway_cluster(servers.PG_BIN, stock=True, settings=SETTINGS)
        )

    @property
    def worker_ports(self) -> list[int]:
        return [worker.port for worker in self.workers]


def _prepare_node(port: int, database: str) -> None:
    with _connect(port) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    with _connect(port, database) as node:
        node.execute("CREATE EXTENSION citus")


def prepare_database(coordinator_port: int, database: str, worker_ports: list[int]) -> None:
    """Make `database` (just created on the coordinator) a Citus database of the cluster."""
    for port in worker_ports:
        _prepare_node(port, database)
    with _connect(coordinator_port, database) as coordinator:
        coordinator.execute("CREATE EXTENSION citus")
        coordinator.execute(
            "SELECT citus_set_coordinator_host(%s, %s)", (servers.LOOPBACK, coordinator_port)
        )
        for port in worker_ports:
            coordinator.execute("SELECT citus_add_node(%s, %s)", (servers.LOOPBACK, port))


def add_worker(coordinator_port: int, database: str, worker_port: int) -> None:
    """Give a new worker `database` and the extension, and add it to `database`'s nodes."""
    _prepare_node(worker_port, database)
    with _connect(coordinator_port, database) as coordinator:
        coordinator.execute("SELECT citus_add_node(%s, %s)", (servers.LOOPBACK, worker_port))


def drop_database(database: str, worker_ports: list[int]) -> None:
    """Drop `database` on the workers (the coordinator's copy is the caller's)."""
    for port in worker_ports:
        with _connect(port) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def worker_ports_from_environment() -> list[int]:
    return [int(port) for port in os.environ.get(WORKERS_VARIABLE, "").split(",") if port]


@contextlib.contextmanager
def citus_cluster(workers: int = 2) -> Iterator[CitusCluster]:
    """Start a coordinator and `workers` workers; stop and remove them all afterwards."""
    with contextlib.ExitStack() as stack:
        yield CitusCluster(stack, workers)
