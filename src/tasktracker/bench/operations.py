"""The benchmarked operations, each through the raw driver (the baseline) and through the
project's two paths, and through the peers when asked for (`--peers`, `bench.peers`).

- fast path: read rows from statements compiled once (`read_page`, `read`,
  `read_latest_messages`, `read_resolved`), one compiled INSERT (`create_row`), the bulk path;
- ORM path: identity-mapped objects (`list`, `get`, `latest_messages`, `load` and
  `resolve_specification`, `create`). `counts_by_status` has only the fast path: it returns
  counts, no models.

Every project call is what an application does: open a unit of work for the user, call
the repository, let the unit of work commit and close. Reads use the read-only unit
(`user_scope(..., read_only=True)`: no BEGIN/COMMIT), as the raw side reads in autocommit
(the specification: four statements on both sides); the insert runs in a transaction on
every side. Before timing, every contender runs the operation once on the same parameters
and what it returns must come to what the raw side's does (the same ids in the same order,
the same counts, the same command lines, the same row written), so all are known to do the
same work.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from tasktracker.bench import targets
from tasktracker.bench.dataset import Fixture
from tasktracker.bench.peers import Peers
from tasktracker.bench.raw import PAGE, RawDriver, RawQueries
from tasktracker.bench.results import (
    FAST,
    LABELS,
    ORM,
    PROJECT,
    RAW,
    Result,
    side,
    with_ratio,
)
from tasktracker.bench.search import HITS, RawSearch, project_search, search_words
from tasktracker.bench.timing import Budget, Samples, Stats, interleaved
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.engines import sync_url
from tasktracker.db.pagination import Page
from tasktracker.db.sessions import Database
from tasktracker.db.settings import Settings
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository, TaskSort
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.resolution import ResolvedSpecification, resolve_specification

OPEN = TaskFilter(status=[TaskStatus.PENDING, TaskStatus.IN_PROGRESS])
OPEN_SORTS = frozenset({TaskSort.NEWEST, TaskSort.DUE_SOONEST})
"""The sorts whose page is of open tasks (what they are opened for); the others list all."""
BULK_ROWS = 10_000
INSERT_TITLE = "bench insert"
SINK_EMAIL = "sink@bench-sink.invalid"
USER_SCOPED_P95_MS = 5.0

Call = Callable[[Any], object]


@dataclass
class Op:
    """One benchmarked operation: its contenders, their parameters, what counts as equal."""

    key: str
    title: str
    raw: Call
    paths: dict[str, Call]
    """The other contenders by name (`bench.results`): the project's paths, the peers."""
    params: Callable[[int], Any]
    outcome: Callable[[Any], Collection[Any]] | None = None
    """What a contender's result comes to; every contender's must equal the raw side's."""
    scoped_read: bool = True
    budget: Budget | None = None
    after: Callable[[], None] | None = None
    rows_per_call: int | None = None
    """Set for bulk loads: the result is reported as rows per second."""


def ids(rows: Any) -> list[uuid.UUID]:
    """Ids of objects or rows with an `id`, or of raw rows (the id is the second column)."""
    if isinstance(rows, Page):
        rows = rows.items
    if not isinstance(rows, list):
        rows = [rows]
    return [
        row.id if hasattr(row, "id") else uuid.UUID(str(row[1]).replace("-", "")) for row in rows
    ]


def _counts(counts: dict[Any, int]) -> dict[str, int]:
    return {str(status): n for status, n in counts.items() if n}


def _command_lines(result: Any) -> list[tuple[int, str | None]]:
    if isinstance(result, ResolvedSpecification):
        return [(step.position, step.invocation) for step in result.steps]
    return list(result)


def compare(op: Op) -> tuple[dict[str, bool], int | None]:
    """Run every contender once on the first parameters: whether each one's outcome is the
    raw side's, and the size of the raw side's (rows, statuses, steps)."""
    if op.outcome is None:
        return {}, None
    expected = op.outcome(op.raw(op.params(0)))
    same = {name: op.outcome(call(op.params(0))) == expected for name, call in op.paths.items()}
    return same, len(expected)


class Bench:
    """Everything one benchmark run needs: engines, raw connections, ids, parameters."""

    def __init__(
        self,
        settings: Settings,
        fixture: Fixture,
        *,
        tasks_per_user: int,
        spec_steps: int = 50,
        depth: int = 9_000,
        bulk_rows: int = BULK_ROWS,
        budget: Budget | None = None,
        peers: bool = False,
    ) -> None:
        # Slow statements are expected under load here; logging each one would only add noise
        # to the output (the listener that times every statement still runs).
        settings = settings.model_copy(update={"database_slow_query_ms": 600_000})
        self.settings = settings
        self.fixture = fixture
        self.budget = budget or Budget()
        self.bulk_rows = bulk_rows
        self.db = Database.from_settings(settings)
        self.engine: Engine = self.db.engine
        self.driver = RawDriver(settings.url)
        self.raw = RawQueries(self.driver)
        self.peers = Peers(sync_url(settings)) if peers else None
        self.read_connection = self.driver.connect()
        self.write_connection = self.driver.connect()
        self.depth = max(1, min(depth, tasks_per_user - 2 * PAGE))
        self.spec_steps = spec_steps
        rng = random.Random(7)  # noqa: S311 - not crypto
        self.users = fixture.user_ids
        self.tasks = [(u, t) for u in self.users for t in fixture.task_ids[u]]
        rng.shuffle(self.tasks)
        self._cursors: list[tuple[uuid.UUID, str, tuple[datetime, uuid.UUID]]] = []

    def close(self) -> None:
        self.read_connection.close()
        self.write_connection.close()
        if self.peers is not None:
            self.peers.close()
        self.db.dispose()

    def user(self, i: int) -> uuid.UUID:
        return self.users[i % len(self.users)]

    def _peers(self, pick: Callable[[Peers], dict[str, Call]]) -> dict[str, Call]:
        return {} if self.peers is None else pick(self.peers)

    # The operations.

    def operations(self) -> list[Op]:
        return [
            *(self._page(sort) for sort in TaskSort),
            self._get_by_id(),
            self._keyset_page(),
            self._counts_by_status(),
            self._insert(),
            self._latest_messages(),
            self._specification(),
            *self._searches(),
            self._bulk_load(),
        ]

    def _searches(self) -> list[Op]:
        raw = RawSearch(self.driver)
        words = search_words(self.driver, self.read_connection, self.users[0])
        return [
            Op(
                f"search_{kind}",
                f"search tasks, {kind} ({text}): {HITS} hits with snippets",
                lambda u, text=text: raw.call(self.read_connection, u, text),  # type: ignore[misc]
                {ORM: project_search(self.db, text)},
                self.user,
                ids,
            )
            for kind, text in words.items()
        ]

    def _page(self, sort: TaskSort) -> Op:
        open_only = sort in OPEN_SORTS
        which = OPEN if open_only else None
        raw = self.raw.pager(sort, open_only=open_only)

        def fast(user_id: uuid.UUID) -> Page[Any]:
            with self.db.user_scope(user_id, read_only=True) as session:
                return TaskRepository(session).read_page(which, sort=sort, limit=PAGE)

        def orm(user_id: uuid.UUID) -> Page[Any]:
            with self.db.user_scope(user_id, read_only=True) as session:
                return TaskRepository(session).list(which, sort=sort, limit=PAGE)

        return Op(
            f"page_{sort.value}",
            f"page of {PAGE} {'open tasks' if open_only else 'tasks'} ({sort.value})",
            lambda u: raw(self.read_connection, u),
            {FAST: fast, ORM: orm, **self._peers(lambda p: p.page(sort, open_only=open_only))},
            self.user,
            ids,
        )

    def _get_by_id(self) -> Op:
        def fast(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).read(p[1])

        def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).get(p[1])

        return Op(
            "get_task",
            "get a task by id",
            lambda p: self.raw.task(self.read_connection, *p),
            {FAST: fast, ORM: orm, **self._peers(Peers.get)},
            lambda i: self.tasks[i % len(self.tasks)],
            ids,
        )

    def _keyset_page(self) -> Op:
        cursors = self.cursors()

        def fast(p: tuple[uuid.UUID, str, Any]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).read_page(limit=PAGE, cursor=p[1])

        def orm(p: tuple[uuid.UUID, str, Any]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).list(limit=PAGE, cursor=p[1])

        return Op(
            "keyset_page",
            f"keyset page at depth {self.depth:,}",
            lambda p: self.raw.page_after(self.read_connection, p[0], *p[2]),
            {FAST: fast, ORM: orm},
            lambda i: cursors[i % len(cursors)],
            ids,
        )

    def cursors(self, users: int = 10) -> list[tuple[uuid.UUID, str, tuple[datetime, uuid.UUID]]]:
        """For a few users: the API's cursor after `depth` tasks (newest first), reached by
        paging through the public API, and the raw side's (created_at, id) of that row."""
        if self._cursors:
            return self._cursors
        for user_id in self.users[:users]:
            cursor: str | None = None
            seen = 0
            with self.db.user_scope(user_id, read_only=True) as session:
                repository = TaskRepository(session)
                while seen < self.depth:
                    page = repository.list(limit=min(500, self.depth - seen), cursor=cursor)
                    seen += len(page)
                    cursor = page.next_cursor
            assert cursor is not None
            key = self.raw.sort_key_at(self.read_connection, user_id, self.depth - 1)
            self._cursors.append((user_id, cursor, key))
        return self._cursors

    def _counts_by_status(self) -> Op:
        def fast(user_id: uuid.UUID) -> dict[TaskStatus, int]:
            with self.db.user_scope(user_id, read_only=True) as session:
                return TaskRepository(session).counts_by_status()

        return Op(
            "counts_by_status",
            "counts by status",
            lambda u: self.raw.counts_by_status(self.read_connection, u),
            {FAST: fast, **self._peers(Peers.counts_by_status)},
            self.user,
            _counts,
        )

    def _insert(self) -> Op:
        def fast(p: tuple[uuid.UUID, str]) -> object:
            with self.db.user_scope(p[0]) as session:
                return TaskRepository(session).create_row({"title": p[1]})

        def orm(p: tuple[uuid.UUID, str]) -> object:
            with self.db.user_scope(p[0]) as session:
                return TaskRepository(session).create({"title": p[1]})

        return Op(
            "insert_task",
            "insert one task and commit",
            lambda p: self.raw.insert_task(self.write_connection, *p),
            {FAST: fast, ORM: orm, **self._peers(Peers.insert)},
            lambda i: (self.user(i), f"{INSERT_TITLE} {i}"),
            self.written,
            scoped_read=False,
        )

    def written(self, result: Any) -> list[tuple[Any, ...]]:
        """The row a contender of the insert wrote for the first parameters, read back by
        the raw driver, without its id and timestamps (title to completed_at)."""
        task_id = result if isinstance(result, uuid.UUID) else result.id
        row = self.raw.task(self.read_connection, self.user(0), task_id)
        return [] if row is None else [tuple(row[2:9])]

    def remove_inserted(self) -> int:
        """Delete the tasks the insert benchmark made (the data set stays as loaded)."""
        statement = self.driver.sql("DELETE FROM tasks WHERE title LIKE ?")
        cursor = self.write_connection.execute(statement, (f"{INSERT_TITLE} %",))
        return int(cursor.rowcount)

    def _latest_messages(self) -> Op:
        conversations = [(u, self.fixture.long_conversation[u]) for u in self.users]

        def fast(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return ConversationRepository(session).read_latest_messages(p[1], limit=PAGE)

        def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            with self.db.user_scope(p[0], read_only=True) as session:
                return ConversationRepository(session).latest_messages(p[1], limit=PAGE)

        return Op(
            "latest_messages",
            f"latest {PAGE} messages of a conversation",
            lambda p: self.raw.latest_messages_of(self.read_connection, *p),
            {FAST: fast, ORM: orm, **self._peers(Peers.latest_messages)},
            lambda i: conversations[i % len(conversations)],
            ids,
        )

    def _specification(self) -> Op:
        specifications = [(u, self.fixture.specification[u]) for u in self.users]

        def fast(p: tuple[uuid.UUID, uuid.UUID]) -> ResolvedSpecification:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TestSpecificationRepository(session).read_resolved(p[1])

        def orm(p: tuple[uuid.UUID, uuid.UUID]) -> ResolvedSpecification:
            with self.db.user_scope(p[0], read_only=True) as session:
                return resolve_specification(TestSpecificationRepository(session).load(p[1]))

        return Op(
            "specification",
            f"{self.spec_steps}-step specification with commands and arguments",
            lambda p: self.raw.specification(self.read_connection, *p),
            {FAST: fast, ORM: orm},
            lambda i: specifications[i % len(specifications)],
            _command_lines,
        )

    def _bulk_load(self) -> Op:
        sink = self._sink_user()
        template = [
            {
                "user_id": sink,
                "title": f"bulk task {n}",
                "description": "loaded in bulk" if n % 3 == 0 else None,
                "status": "pending",
                "priority": ("low", "medium", "high")[n % 3],
            }
            for n in range(self.bulk_rows)
        ]

        def fast(rows: list[dict[str, Any]]) -> int:
            with self.engine.begin() as connection:
                return bulk_insert(connection, Task, rows)

        def empty_sink() -> None:
            statement = self.driver.sql("DELETE FROM tasks WHERE user_id = ?")
            self.write_connection.execute(statement, (self.driver.uuid(sink),))

        return Op(
            "bulk_load",
            f"bulk load of {self.bulk_rows:,} tasks",
            lambda rows: self.raw.bulk_tasks(self.write_connection, rows),
            {FAST: fast},
            lambda i: [dict(row) for row in template],
            scoped_read=False,
            budget=Budget(
                warmup=min(1, self.budget.warmup),
                rounds=min(5, self.budget.rounds),
                seconds=min(60.0, self.budget.seconds * 8),
            ),
            after=empty_sink,
            rows_per_call=self.bulk_rows,
        )

    def _sink_user(self) -> uuid.UUID:
        """A user outside the data set that receives the bulk loads (emptied after each)."""
        d = self.driver
        existing = self.write_connection.execute(
            d.sql("SELECT id FROM users WHERE email = ?"), (SINK_EMAIL,)
        ).fetchone()
        if existing is not None:
            return uuid.UUID(str(existing[0]).replace("-", ""))
        user_id = uuid.uuid4()
        now = d.time(datetime.now(UTC))
        self.write_connection.execute(
            d.sql(
                "INSERT INTO users (id, email, username, password_hash, is_active, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (d.uuid(user_id), SINK_EMAIL, "bench_sink", "-", True, now, now),
        )
        return user_id

    def remove_sink(self) -> None:
        self.write_connection.execute(
            self.driver.sql("DELETE FROM users WHERE email = ?"), (SINK_EMAIL,)
        )

    # Measuring.

    def measure(self, op: Op) -> Result:
        same_rows, rows = compare(op)
        samples = interleaved(
            {RAW: op.raw, **op.paths}, op.params, op.budget or self.budget, after=op.after
        )
        return result_of(op, samples, same_rows, rows, postgres=self.driver.is_postgres)

    def offset_versus_keyset(self) -> Result:
        """Raw OFFSET paging to `depth` against a raw keyset page at the same depth."""
        cursors = self.cursors()
        connection = self.read_connection
        samples = interleaved(
            {
                "offset": lambda p: self.raw.page_at_offset(connection, p[0], self.depth),
                RAW: lambda p: self.raw.page_after(connection, p[0], *p[2]),
            },
            lambda i: cursors[i % len(cursors)],
            Budget(warmup=5, rounds=min(self.budget.rounds, 200), seconds=self.budget.seconds),
        )
        offset, keyset = Stats.of(samples.wall["offset"]), Stats.of(samples.wall[RAW])
        return Result(
            "offset_vs_keyset",
            f"OFFSET {self.depth:,} vs keyset page (both raw)",
            "comparison",
            keyset.as_dict(),
            {"offset": with_ratio(offset.as_dict(), offset.median / keyset.median)},
            notes=["raw: the keyset page; offset: OFFSET paging to the same depth"],
        )


class Timed(Protocol):
    """What a result needs to know of its operation (`Op`, `bench.asynchronous.AsyncOp`)."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def paths(self) -> Mapping[str, object]: ...
    @property
    def scoped_read(self) -> bool: ...
    @property
    def rows_per_call(self) -> int | None: ...


def result_of(
    op: Timed,
    samples: Samples,
    same_rows: dict[str, bool],
    rows: int | None,
    *,
    postgres: bool,
) -> Result:
    """What `op`'s timing comes to: every side's statistics, its ratio to the raw side's,
    the target and whether it is met, and notes (a mismatch, a slow p95)."""
    notes = [
        f"MISMATCH: the {LABELS[name]} and the raw driver returned different rows"
        for name, same in same_rows.items()
        if not same
    ]
    stats = {name: Stats.of(wall) for name, wall in samples.wall.items()}
    base = stats[RAW].median
    per_call = op.rows_per_call

    def summary(name: str) -> dict[str, Any]:
        extra = {"rows_per_second": round(per_call / stats[name].median)} if per_call else {}
        return side(stats[name], samples.cpu[name], **extra)

    # Throughput (rows per second) is the inverse of the latency.
    ratios = {
        name: base / stats[name].median if per_call else stats[name].median / base
        for name in op.paths
    }
    bounds = targets.bounds(op.key, postgres=postgres)
    floor = per_call is not None
    target = targets.describe(bounds, floor=floor)
    met = targets.met(bounds, ratios, floor=floor)
    if op.scoped_read and postgres:
        notes += [
            f"{LABELS[name]} p95 {stats[name].p95 * 1000:.2f} ms >= {USER_SCOPED_P95_MS} ms"
            for name in PROJECT
            if name in stats and stats[name].p95 * 1000 >= USER_SCOPED_P95_MS
        ]
    return Result(
        op.key,
        op.title,
        "throughput" if per_call else "latency",
        summary(RAW),
        {name: with_ratio(summary(name), ratios[name]) for name in op.paths},
        target,
        met,
        same_rows,
        rows,
        notes,
    )
