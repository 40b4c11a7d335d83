"""The baseline: the same operations through the raw driver, written as a careful
developer would write them by hand.

- PostgreSQL: psycopg 3, one connection per side. Reads run in autocommit (one statement,
  one round trip, no BEGIN/ROLLBACK); a write is `BEGIN; INSERT; COMMIT` (psycopg's
  `conn.transaction()`). psycopg prepares a statement server-side after 5 executions
  (its default `prepare_threshold`), as it does for the project's connections. Rows come
  back as tuples: nothing is converted beyond what the driver does.
- SQLite: the standard `sqlite3` module, autocommit (`isolation_level=None`) with explicit
  `BEGIN`/`COMMIT` for writes, the same pragmas as the project's engine, ids and times
  stored in the same text forms SQLAlchemy uses (32 hex digits, `YYYY-MM-DD HH:MM:SS.ffffff`).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from tasktracker.db.caseless import register_sqlite_function
from tasktracker.db.engines import SQLITE_BUSY_TIMEOUT_MS
from tasktracker.db.errors import TaskTrackerError
from tasktracker.db.types import new_id
from tasktracker.tasks.repository import TaskSort

TASK_COLUMNS = (
    "user_id, id, title, description, status, priority, due_date, category_id, "
    "completed_at, created_at, updated_at"
)
MESSAGE_COLUMNS = "user_id, id, conversation_id, role, content, parts, status, created_at"
"""What the fast path's `MessageRow` holds (and the owner): the same information, read raw."""
OPEN_STATUSES = ("pending", "in_progress")
BULK_COLUMNS = ("user_id", "id", "title", "description", "status", "priority")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PAGE = 50
TASK_ORDER: dict[TaskSort, str] = {
    TaskSort.NEWEST: "created_at DESC, id DESC",
    TaskSort.OLDEST: "created_at, id",
    TaskSort.DUE_SOONEST: "COALESCE(due_date, {far_future}), id",
    TaskSort.RECENTLY_UPDATED: "updated_at DESC, id DESC",
    TaskSort.TITLE: "title, id",
    TaskSort.PRIORITY: "{priority_rank}, id",
}
"""The ORDER BY of each `TaskSort`, written by hand (`{far_future}`: tasks without a due
date come last; `{priority_rank}`: high, medium, low). A sort missing here stops the
benchmark (and fails its test)."""


class RawDriver:
    """Connections and parameter forms of the raw driver for one database URL."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.is_postgres = self.backend == "postgresql"

    @property
    def conninfo(self) -> str:
        """A libpq URL (PostgreSQL) or a file path (SQLite)."""
        if self.is_postgres:
            return self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return self.url.database or ":memory:"

    def connect(self) -> Any:
        """An autocommit connection."""
        if self.is_postgres:
            return psycopg.connect(self.conninfo, autocommit=True)
        connection = sqlite3.connect(self.conninfo, isolation_level=None, check_same_thread=False)
        configure_sqlite(connection)
        return connection

    def sql(self, statement: str) -> str:
        """`?` placeholders in the driver's own style."""
        return statement.replace("?", "%s") if self.is_postgres else statement

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.is_postgres else value.hex

    def time(self, value: datetime) -> Any:
        if self.is_postgres:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    @property
    def far_future(self) -> str:
        """9999-12-31 00:00 UTC as an SQL literal in the column's form: where the project's
        due-date order puts tasks without a due date."""
        return "'9999-12-31 00:00:00+00'" if self.is_postgres else "'9999-12-31 00:00:00.000000'"

    @property
    def priority_rank(self) -> str:
        """The position of the priority in 'high medium low', the expression the project's
        priority order (and its index) is on."""
        function = "strpos" if self.is_postgres else "instr"
        return f"{function}('high medium low', priority)"


def _command_line(name: str, syntax: str | None, texts: dict[str, str]) -> str:
    if syntax is None:
        return " ".join([name, *(f"{k}={v}" for k, v in texts.items())])

    def fill(match: re.Match[str]) -> str:
        return texts.get(match.group(1), match.group(0))

    return PLACEHOLDER.sub(fill, syntax)


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value is not None), None)


def configure_sqlite(connection: Any) -> None:
    """The pragmas and the function the project's SQLite engine sets on every connection
    (without `tasktracker_lower`, SQLite refuses writes to `users`)."""
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA synchronous=NORMAL")
    register_sqlite_function(connection)


class RawQueries:
    """The benchmarked statements, for one driver."""

    def __init__(self, driver: RawDriver) -> None:
        self.driver = driver
        sql = driver.sql
        self.page_open = self.page_statement(TaskSort.NEWEST, open_only=True)
        self.page_of_open_tasks = self.pager(TaskSort.NEWEST, open_only=True)
        self.get_task = sql(f"SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ? AND id = ?")  # noqa: S608
        self.keyset = sql(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ? "  # noqa: S608
            "AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT 51"
        )
        self.offset = sql(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ? "  # noqa: S608
            "ORDER BY created_at DESC, id DESC LIMIT 51 OFFSET ?"
        )
        self.row_at = sql(
            "SELECT created_at, id FROM tasks WHERE user_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?"
        )
        self.counts = sql("SELECT status, count(*) FROM tasks WHERE user_id = ? GROUP BY status")
        self.insert = sql(
            "INSERT INTO tasks (user_id, id, title, description, status, priority, due_date, "
            "category_id, completed_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self.latest_messages = sql(
            f"SELECT {MESSAGE_COLUMNS} FROM messages "  # noqa: S608
            "WHERE user_id = ? AND conversation_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 51"
        )

        self.spec_row = sql(
            "SELECT id, key, title, objective, preconditions, status, priority, created_at, "
            "updated_at FROM test_specifications WHERE user_id = ? AND id = ?"
        )
        self.spec_steps = sql(
            "SELECT s.id, s.position, s.action, s.expected_result, s.continue_on_failure, "
            "s.command_id, c.name, c.syntax FROM test_steps s "
            "LEFT JOIN generic_commands c ON c.user_id = s.user_id AND c.id = s.command_id "
            "WHERE s.user_id = ? AND s.test_specification_id = ? ORDER BY s.position"
        )
        self.spec_signatures = sql(
            "SELECT e.command_id, e.position, p.id, p.name, p.data_type, p.unit, "
            "p.default_value, v.name, v.value FROM generic_command_parameters e "
            "JOIN parameters p ON p.user_id = e.user_id AND p.id = e.parameter_id "
            "LEFT JOIN parameter_variants v "
            "ON v.user_id = p.user_id AND v.parameter_id = p.id AND v.is_default "
            "WHERE e.user_id = ? AND e.command_id IN (SELECT command_id FROM test_steps "
            "WHERE user_id = ? AND test_specification_id = ?) ORDER BY e.command_id, e.position"
        )
        self.spec_arguments = sql(
            "SELECT a.test_step_id, a.parameter_id, a.value, v.name, v.value "
            "FROM test_step_arguments a JOIN test_steps s "
            "ON s.user_id = a.user_id AND s.id = a.test_step_id "
            "LEFT JOIN parameter_variants v ON v.user_id = a.user_id "
            "AND v.parameter_id = a.parameter_id AND v.id = a.variant_id "
            "WHERE s.user_id = ? AND s.test_specification_id = ?"
        )

    def page_statement(self, sort: TaskSort, *, open_only: bool) -> str:
        """A page of 51 of one user's tasks (of the open ones) in the order of `sort`."""
        order = TASK_ORDER.get(sort)
        if order is None:
            raise TaskTrackerError(
                f"the benchmark has no raw SQL for TaskSort.{sort.name}: "
                "add its ORDER BY to tasktracker.bench.raw.TASK_ORDER"
            )
        where = "user_id = ? AND status IN (?, ?)" if open_only else "user_id = ?"
        order = order.format(
            far_future=self.driver.far_future, priority_rank=self.driver.priority_rank
        )
        return self.driver.sql(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE {where} ORDER BY {order} LIMIT {PAGE + 1}"  # noqa: S608
        )

    # Reads: one statement on an autocommit connection.

    def pager(self, sort: TaskSort, *, open_only: bool) -> Callable[[Any, uuid.UUID], list[Any]]:
        """`page(connection, user_id)`: a page of 50 tasks in the order of `sort`."""
        statement = self.page_statement(sort, open_only=open_only)
        statuses = OPEN_STATUSES if open_only else ()

        def page(connection: Any, user_id: uuid.UUID) -> list[Any]:
            params = (self.driver.uuid(user_id), *statuses)
            return connection.execute(statement, params).fetchall()[:PAGE]  # type: ignore[no-any-return]

        return page

    def task(self, connection: Any, user_id: uuid.UUID, task_id: uuid.UUID) -> Any:
        d = self.driver
        return connection.execute(self.get_task, (d.uuid(user_id), d.uuid(task_id))).fetchone()

    def page_after(
        self, connection: Any, user_id: uuid.UUID, created_at: datetime, task_id: uuid.UUID
    ) -> list[Any]:
        d = self.driver
        params = (d.uuid(user_id), d.time(created_at), d.uuid(task_id))
        return connection.execute(self.keyset, params).fetchall()[:50]  # type: ignore[no-any-return]

    def page_at_offset(self, connection: Any, user_id: uuid.UUID, offset: int) -> list[Any]:
        params = (self.driver.uuid(user_id), offset)
        return connection.execute(self.offset, params).fetchall()[:50]  # type: ignore[no-any-return]

    def sort_key_at(
        self, connection: Any, user_id: uuid.UUID, offset: int
    ) -> tuple[datetime, uuid.UUID]:
        """(created_at, id) of the row at `offset` of the newest-first order."""
        created_at, task_id = connection.execute(
            self.row_at, (self.driver.uuid(user_id), offset)
        ).fetchone()
        if isinstance(created_at, str):
            created_at = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
        if isinstance(task_id, str):
            task_id = uuid.UUID(task_id)
        return created_at, task_id

    def counts_by_status(self, connection: Any, user_id: uuid.UUID) -> dict[str, int]:
        rows = connection.execute(self.counts, (self.driver.uuid(user_id),)).fetchall()
        return dict(rows)

    def latest_messages_of(
        self, connection: Any, user_id: uuid.UUID, conversation_id: uuid.UUID
    ) -> list[Any]:
        d = self.driver
        params = (d.uuid(user_id), d.uuid(conversation_id))
        return connection.execute(self.latest_messages, params).fetchall()[:50][::-1]  # type: ignore[no-any-return]

    def specification(
        self, connection: Any, user_id: uuid.UUID, specification_id: uuid.UUID
    ) -> list[tuple[int, str | None]]:
        """The specification read as the project's `read_resolved` reads it (four statements,
        autocommit, as in a read-only unit), resolved to each step's (position, command line)."""
        d = self.driver
        u, s = d.uuid(user_id), d.uuid(specification_id)
        connection.execute(self.spec_row, (u, s)).fetchone()
        steps = connection.execute(self.spec_steps, (u, s)).fetchall()
        signatures = connection.execute(self.spec_signatures, (u, u, s)).fetchall()
        arguments = connection.execute(self.spec_arguments, (u, s)).fetchall()
        signature: dict[Any, list[Any]] = {}
        for row in signatures:
            signature.setdefault(row[0], []).append(row)
        given = {(row[0], row[1]): row for row in arguments}
        resolved: list[tuple[int, str | None]] = []
        for step_id, position, _action, _expected, _go_on, command_id, name, syntax in steps:
            if command_id is None:
                resolved.append((position, None))
                continue
            texts: dict[str, str] = {}
            for (
                _c,
                _p,
                parameter_id,
                parameter,
                _t,
                _u,
                default,
                _vn,
                default_variant,
            ) in signature.get(command_id, []):
                argument = given.get((step_id, parameter_id))
                text = _first(
                    argument[2] if argument else None,  # the step's literal value
                    argument[4] if argument else None,  # the step's variant
                    default_variant,
                    default,
                )
                if text is not None:
                    texts[parameter] = text
            resolved.append((position, _command_line(name, syntax, texts)))
        return resolved

    @contextmanager
    def transaction(self, connection: Any) -> Iterator[None]:
        if self.driver.is_postgres:
            with connection.transaction():
                yield
            return
        connection.execute("BEGIN")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # Writes: BEGIN, statement(s), COMMIT.

    def insert_task(self, connection: Any, user_id: uuid.UUID, title: str) -> uuid.UUID:
        task_id, params = self.insert_parameters(user_id, title)
        with self.transaction(connection):
            connection.execute(self.insert, params)
        return task_id

    def insert_parameters(
        self, user_id: uuid.UUID, title: str
    ) -> tuple[uuid.UUID, tuple[Any, ...]]:
        """A new task's id, and the parameters of `insert` that write it."""
        d = self.driver
        task_id = new_id()
        now = d.time(datetime.now(UTC))
        params = (
            d.uuid(user_id), d.uuid(task_id), title, None, "pending", "medium",
            None, None, None, now, now,
        )  # fmt: skip
        return task_id, params

    def bulk_tasks(self, connection: Any, rows: Iterable[dict[str, Any]]) -> int:
        """COPY (PostgreSQL) or `executemany` (SQLite) of new tasks, in one transaction.

        Like the project's bulk path, it makes each row's id and timestamps."""
        d = self.driver
        names = ", ".join((*BULK_COLUMNS, "created_at", "updated_at"))
        count = 0
        if d.is_postgres:
            with (
                connection.transaction(),
                connection.cursor() as cursor,
                cursor.copy(f"COPY tasks ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    now = datetime.now(UTC)
                    copy.write_row(
                        (row["user_id"], new_id(), row["title"], row["description"],
                         row["status"], row["priority"], now, now)
                    )  # fmt: skip
                    count += 1
            return count
        values: list[Sequence[Any]] = []
        for row in rows:
            now = d.time(datetime.now(UTC))
            values.append(
                (row["user_id"].hex, new_id().hex, row["title"], row["description"],
                 row["status"], row["priority"], now, now)
            )  # fmt: skip
        marks = ", ".join("?" * (len(BULK_COLUMNS) + 2))
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO tasks ({names}) VALUES ({marks})", values)  # noqa: S608
        connection.execute("COMMIT")
        return len(values)
