"""The peers (`--peers`): the same operations written with plain SQLAlchemy, as someone who
picked SQLAlchemy instead of this project would write them.

- `PeerTask` and `PeerMessage`: a minimal declarative mapping of the same tables, with
  SQLAlchemy's standard column types, in a registry of its own (nothing of the project's
  models, types, scope criteria or listeners).
- SQLAlchemy Core: `select()`/`insert()` over the mapping's tables, executed on a
  `Connection`; the user filter written by hand in every WHERE.
- SQLAlchemy ORM: the same statements over the mapped classes, through a `Session`.

The engines come from `sqlalchemy.create_engine` itself, deliberately not from the
project's engine factory (no pre-ping, connect retries, slow-query timing or error
translation). They get what the raw driver gets: reads on an autocommit engine (one round
trip, as the raw side's reads and the project's read-only units), writes in a transaction
(`BEGIN; INSERT; COMMIT`), and on SQLite the raw connections' pragmas. Statements are built
on every call, as SQLAlchemy's documentation writes them; its compiled cache does the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, Table, create_engine, event, func, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from tasktracker.bench.raw import OPEN_STATUSES, PAGE, configure_sqlite
from tasktracker.bench.results import PEER_CORE, PEER_ORM
from tasktracker.db.types import new_id
from tasktracker.tasks.repository import TaskSort

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
"""Where tasks without a due date go in the due-date order (as in the project)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(connection: Any, _record: Any) -> None:
    configure_sqlite(connection)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class PeerTask(Base):
    __tablename__ = "tasks"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str] = mapped_column(default="pending")
    priority: Mapped[str] = mapped_column(default="medium")
    due_date: Mapped[datetime | None]
    category_id: Mapped[uuid.UUID | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)


class PeerMessage(Base):
    __tablename__ = "messages"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID]
    role: Mapped[str]
    content: Mapped[str]
    created_at: Mapped[datetime]


TASKS: Table = PeerTask.__table__  # type: ignore[assignment]
MESSAGES: Table = PeerMessage.__table__  # type: ignore[assignment]

ORDER: dict[TaskSort, Callable[[Any], list[Any]]] = {
    TaskSort.NEWEST: lambda t: [t.created_at.desc(), t.id.desc()],
    TaskSort.DUE_SOONEST: lambda t: [func.coalesce(t.due_date, FAR_FUTURE), t.id],
}
"""The sorts the peers page by (of the mapped class or of the table's columns)."""

Call = Callable[[Any], object]


class Peers:
    """Plain SQLAlchemy's engines for one database URL, and the peers' operations."""

    def __init__(self, url: URL) -> None:
        self.reader: Engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.writer: Engine = create_engine(url)
        if url.get_backend_name() == "sqlite":
            for engine in (self.reader, self.writer):
                event.listen(engine, "connect", _configure_sqlite)
        self.read_session = sessionmaker(self.reader)
        self.write_session = sessionmaker(self.writer, expire_on_commit=False)

    def close(self) -> None:
        self.reader.dispose()
        self.writer.dispose()

    def page(self, sort: TaskSort, *, open_only: bool) -> dict[str, Call]:
        """A page of 50 of a user's tasks (`user_id`), or nothing for a sort not in `ORDER`."""
        order = ORDER.get(sort)
        if order is None:
            return {}

        def core(user_id: uuid.UUID) -> object:
            where = [TASKS.c.user_id == user_id]
            if open_only:
                where.append(TASKS.c.status.in_(OPEN_STATUSES))
            statement = select(TASKS).where(*where).order_by(*order(TASKS.c)).limit(PAGE + 1)
            with self.reader.connect() as connection:
                return connection.execute(statement).all()[:PAGE]

        def orm(user_id: uuid.UUID) -> object:
            where = [PeerTask.user_id == user_id]
            if open_only:
                where.append(PeerTask.status.in_(OPEN_STATUSES))
            statement = select(PeerTask).where(*where).order_by(*order(PeerTask)).limit(PAGE + 1)
            with self.read_session() as session:
                return session.scalars(statement).all()[:PAGE]

        return {PEER_CORE: core, PEER_ORM: orm}

    def get(self) -> dict[str, Call]:
        """A task by id (`(user_id, task_id)`)."""

        def core(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            statement = select(TASKS).where(TASKS.c.user_id == p[0], TASKS.c.id == p[1])
            with self.reader.connect() as connection:
                return connection.execute(statement).one_or_none()

        def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            with self.read_session() as session:
                return session.get(PeerTask, p)

        return {PEER_CORE: core, PEER_ORM: orm}

    def latest_messages(self) -> dict[str, Call]:
        """The latest 50 messages of a conversation (`(user_id, conversation_id)`), in
        chronological order."""

        def core(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            statement = (
                select(MESSAGES)
                .where(MESSAGES.c.user_id == p[0], MESSAGES.c.conversation_id == p[1])
                .order_by(MESSAGES.c.created_at.desc(), MESSAGES.c.id.desc())
                .limit(PAGE + 1)
            )
            with self.reader.connect() as connection:
                return connection.execute(statement).all()[:PAGE][::-1]

        def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            statement = (
                select(PeerMessage)
                .where(PeerMessage.user_id == p[0], PeerMessage.conversation_id == p[1])
                .order_by(PeerMessage.created_at.desc(), PeerMessage.id.desc())
                .limit(PAGE + 1)
            )
            with self.read_session() as session:
                return session.scalars(statement).all()[:PAGE][::-1]

        return {PEER_CORE: core, PEER_ORM: orm}

    def counts_by_status(self) -> dict[str, Call]:
        """A user's (`user_id`) number of tasks in each status that has any."""

        def core(user_id: uuid.UUID) -> object:
            statement = (
                select(TASKS.c.status, func.count())
                .where(TASKS.c.user_id == user_id)
                .group_by(TASKS.c.status)
            )
            with self.reader.connect() as connection:
                return dict(connection.execute(statement).all())

        def orm(user_id: uuid.UUID) -> object:
            statement = (
                select(PeerTask.status, func.count())
                .where(PeerTask.user_id == user_id)
                .group_by(PeerTask.status)
            )
            with self.read_session() as session:
                return dict(session.execute(statement).all())

        return {PEER_CORE: core, PEER_ORM: orm}

    def insert(self) -> dict[str, Call]:
        """A new task (`(user_id, title)`), committed; returns its key (Core) or itself (ORM)."""

        def core(p: tuple[uuid.UUID, str]) -> object:
            with self.writer.begin() as connection:
                values = {"user_id": p[0], "title": p[1]}
                return connection.execute(insert(TASKS), values).inserted_primary_key

        def orm(p: tuple[uuid.UUID, str]) -> object:
            task = PeerTask(user_id=p[0], title=p[1])
            with self.write_session.begin() as session:
                session.add(task)
            return task

        return {PEER_CORE: core, PEER_ORM: orm}
