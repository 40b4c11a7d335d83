"""Task reminders (both backends): absolute and relative, following the due date on every ORM
write, the scheduler's cross-user read by its index, and sending exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, text

from tasktracker.accounts.models import User
from tasktracker.db.distribution import citus_installed
from tasktracker.db.errors import NotFoundError, ScopeError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.models import TaskStatus
from tasktracker.tasks.reminders import MAX_REMINDERS_PER_TASK, ReminderRepository, TaskReminder
from tasktracker.tasks.repository import TaskRepository
from tasktracker.tasks.scheduler import DueReminder, mark_sent, reminders_due
from tests import databases
from tests.conftest import BACKENDS, require_postgres
from tests.performance.conftest import (
    captured,
    explain,
    explain_generic,
    explain_unscanned,
    queries,
)
from tests.tasks.conftest import add_task

DUE = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


def _mine(due: list[DueReminder], *users: uuid.UUID) -> list[DueReminder]:
    """The test database is shared by the session: only these users' reminders count."""
    return [reminder for reminder in due if reminder.user_id in users]


def test_absolute_and_relative_reminders_fire_when_they_say(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    at = datetime(2027, 1, 20, 8, 30, tzinfo=UTC)
    with db.user_scope(user) as session:
        reminders = ReminderRepository(session)
        absolute = reminders.create(task, {"remind_at": at})
        relative = reminders.create(task, {"minutes_before_due": 90})
        undated = add_task(db, user)
        waiting = reminders.create(undated, {"minutes_before_due": 10})
    assert absolute.fires_at == at
    assert relative.fires_at == DUE - timedelta(minutes=90)
    assert waiting.fires_at is None
    with db.user_scope(user, read_only=True) as session:
        listed = ReminderRepository(session).for_task(task)
    assert [r.id for r in listed] == [absolute.id, relative.id]


BAD_REMINDERS: list[tuple[dict[str, Any], str]] = [
    ({}, "remind_at"),
    ({"remind_at": DUE, "minutes_before_due": 5}, "remind_at"),
    ({"remind_at": datetime(2027, 1, 1)}, "remind_at"),  # naive
    ({"remind_at": "tomorrow"}, "remind_at"),
    ({"minutes_before_due": -1}, "minutes_before_due"),
    ({"minutes_before_due": 10**9}, "minutes_before_due"),
    ({"minutes_before_due": "5; DROP TABLE tasks"}, "minutes_before_due"),
    ({"minutes_before_due": 5, "sent_at": DUE}, "sent_at"),
]


@pytest.mark.parametrize(("data", "field"), BAD_REMINDERS)
def test_bad_reminders_are_refused_on_the_field_and_change_nothing(
    db: Database, make_user: Callable[[], uuid.UUID], data: dict[str, Any], field: str
) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    with db.user_scope(user) as session:
        reminders = ReminderRepository(session)
        with pytest.raises(ValidationError) as caught:
            reminders.create(task, data)
        assert field in caught.value.fields
        reminders.create(task, {"minutes_before_due": 1})  # the unit stays usable
        assert len(reminders.for_task(task)) == 1


@pytest.mark.parametrize("task_id", ["not-a-uuid", None, 7, "\x00"])
def test_a_task_id_that_is_not_a_uuid_is_refused(
    db: Database, make_user: Callable[[], uuid.UUID], task_id: object
) -> None:
    user = make_user()
    with db.user_scope(user) as session, pytest.raises(ValidationError) as caught:
        ReminderRepository(session).create(task_id, {"minutes_before_due": 5})  # type: ignore[arg-type]
    assert caught.value.fields == {"task_id"}


def test_another_users_task_and_reminders_are_unreachable(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    owner, other = make_user(), make_user()
    task = add_task(db, owner, due_date=DUE)
    with db.user_scope(owner) as session:
        reminder = ReminderRepository(session).create(task, {"minutes_before_due": 5})
    with db.user_scope(other) as session:
        reminders = ReminderRepository(session)
        with pytest.raises(ValidationError) as caught:
            reminders.create(task, {"minutes_before_due": 5})
        assert caught.value.fields == {"task_id"}
        assert reminders.for_task(task) == []
        with pytest.raises(NotFoundError):
            reminders.get(reminder.id)
        with pytest.raises(NotFoundError):
            reminders.delete(reminder.id)


def test_a_task_has_a_bounded_number_of_reminders(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    with db.user_scope(user) as session:
        reminders = ReminderRepository(session)
        for minutes in range(MAX_REMINDERS_PER_TASK):
            reminders.create(task, {"minutes_before_due": minutes})
        with pytest.raises(ValidationError) as caught:
            reminders.create(task, {"minutes_before_due": 999})
    assert caught.value.fields == {"task_id"}


def test_relative_reminders_follow_the_due_date_and_fire_again(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    at = datetime(2027, 1, 2, tzinfo=UTC)
    with db.user_scope(user) as session:
        reminders = ReminderRepository(session)
        relative = reminders.create(task, {"minutes_before_due": 60}).id
        absolute = reminders.create(task, {"remind_at": at}).id
    with db.session() as session:
        assert [r.id for r in mark_sent(session, _due(session, user), DUE)] == [absolute, relative]

    later = DUE + timedelta(days=3)
    with db.user_scope(user) as session:
        TaskRepository(session).update(task, {"due_date": later})
    with db.user_scope(user, read_only=True) as session:
        by_id = {r.id: r for r in ReminderRepository(session).for_task(task)}
    assert by_id[relative].fires_at == later - timedelta(hours=1)
    assert by_id[relative].sent_at is None  # a postponed task reminds again
    assert by_id[absolute].fires_at == at
    assert by_id[absolute].sent_at == DUE

    with db.user_scope(user) as session:  # a tracked task's change, committed by the unit
        TaskRepository(session).get(task).due_date = None
    with db.user_scope(user, read_only=True) as session:
        assert ReminderRepository(session).get(relative).fires_at is None
    with db.session() as session:
        assert _due(session, user) == []


def test_a_failed_due_date_change_moves_no_reminder(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    with db.user_scope(user) as session:
        reminder = ReminderRepository(session).create(task, {"minutes_before_due": 60}).id
    with db.user_scope(user) as session:
        with pytest.raises(ValidationError):
            TaskRepository(session).update(task, {"due_date": DUE + timedelta(1), "title": ""})
        assert ReminderRepository(session).get(reminder).fires_at == DUE - timedelta(hours=1)


def _due(session: Any, *users: uuid.UUID) -> list[DueReminder]:
    return _mine(reminders_due(session, *WINDOW), *users)


def test_the_scheduler_reads_every_users_due_reminders_in_order_and_pages(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    ada, grace = make_user(), make_user()
    expected = []
    for user, hours in ((ada, (5, 1, 9)), (grace, (3, 7))):
        for hour in hours:
            task = add_task(db, user, title=f"t{hour}", due_date=DUE + timedelta(hours=hour))
            with db.user_scope(user) as session:
                r = ReminderRepository(session).create(task, {"minutes_before_due": 0})
            expected.append((r.fires_at, user, r.id))
    done = add_task(db, ada, due_date=DUE, status=TaskStatus.COMPLETED)
    outside = add_task(db, grace, due_date=WINDOW[1] + timedelta(days=1))
    with db.user_scope(ada) as session:
        ReminderRepository(session).create(done, {"minutes_before_due": 0})
    with db.user_scope(grace) as session:
        ReminderRepository(session).create(outside, {"minutes_before_due": 0})

    with db.session() as session:
        due = _due(session, ada, grace)
        assert [r.key for r in due] == sorted(expected)
        assert [r.title for r in due] == ["t1", "t3", "t5", "t7", "t9"]
        pages, after = [], None
        while page := _mine(reminders_due(session, *WINDOW, limit=2, after=after), ada, grace):
            pages.append(page)
            after = page[-1].key
        assert [r.key for p in pages for r in p] == sorted(expected)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"start": datetime(2027, 1, 1)}, "start"),
        ({"end": "2027-03-01"}, "end"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 10**6}, "limit"),
    ],
)
def test_the_scheduler_refuses_bad_arguments(
    db: Database, arguments: dict[str, Any], field: str
) -> None:
    call = {"start": WINDOW[0], "end": WINDOW[1], **arguments}
    with db.session() as session, pytest.raises(ValidationError) as caught:
        reminders_due(session, call.pop("start"), call.pop("end"), **call)
    assert caught.value.fields == {field}


def test_the_scheduler_runs_only_unscoped(db: Database, make_user: Callable[[], uuid.UUID]) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        with pytest.raises(ScopeError):
            reminders_due(session, *WINDOW)
        with pytest.raises(ScopeError):
            mark_sent(session, [], DUE)


def test_a_reminder_is_marked_sent_once(db: Database, make_user: Callable[[], uuid.UUID]) -> None:
    user = make_user()
    task = add_task(db, user, due_date=DUE)
    with db.user_scope(user) as session:
        ReminderRepository(session).create(task, {"minutes_before_due": 5})
    with db.session() as session:
        due = _due(session, user)
        assert mark_sent(session, due, DUE) == due
        assert mark_sent(session, due, DUE) == []
        assert _due(session, user) == []


def test_reminders_go_with_their_task_and_their_user(
    db: Database, make_user: Callable[[], uuid.UUID]
) -> None:
    user = make_user()
    task, kept = add_task(db, user, due_date=DUE), add_task(db, user, due_date=DUE)
    with db.user_scope(user) as session:
        ReminderRepository(session).create(task, {"minutes_before_due": 5})
        ReminderRepository(session).create(kept, {"minutes_before_due": 5})
        TaskRepository(session).delete(task)
    with db.session() as session:
        assert [r.task_id for r in _due(session, user)] == [kept]
        session.delete(session.get(User, user))
    with db.session() as session:
        assert _due(session, user) == []
        left = select(func.count()).select_from(TaskReminder).where(TaskReminder.user_id == user)
        assert session.execute(left).scalar_one() == 0


def test_the_scheduler_walks_its_index(db: Database, make_user: Callable[[], uuid.UUID]) -> None:
    users = [make_user() for _ in range(4)]
    rows = []
    for user in users:
        task = add_task(db, user, due_date=DUE)
        for minute in range(750):
            fires = WINDOW[0] + timedelta(minutes=minute * 97)
            rows.append(
                {"user_id": user, "id": new_id(), "task_id": task, "remind_at": fires}
                | {"fires_at": fires, "sent_at": fires if minute % 2 else None}
            )
    connection = db.bind
    assert isinstance(connection, Connection)
    with db.session() as session:
        session.execute(insert(TaskReminder), rows)
        session.execute(text("ANALYZE task_reminders"))
        start = WINDOW[0] + timedelta(days=10)
        with captured(connection) as statements:
            found = _mine(reminders_due(session, start, start + timedelta(days=1)), *users)
    end = start + timedelta(days=1)
    unsent = [r for r in rows if r["sent_at"] is None and start <= r["fires_at"] < end]
    assert unsent
    assert sorted(r.id for r in found) == sorted(r["id"] for r in unsent)
    sql, parameters = queries(statements)[0]
    # On Citus a shard holds a few hundred of these rows, which a full scan may rightly
    # read: there the plan with full scans off shows the index serves the query.
    plan = (explain_unscanned if citus_installed(connection) else explain)(
        connection, sql, parameters
    )
    assert "task_reminders" not in plan.sequential_scans, plan.text
    assert any("ix_task_reminders_fires_at_user_id_id" in i for i in plan.index_lookups), plan.text
    if connection.dialect.name == "postgresql" and not citus_installed(connection):
        # and so does the generic plan a prepared statement gets after five executions
        generic = explain_generic(connection, sql, parameters)
        assert "tasks" not in generic.sequential_scans, generic.text
        assert any("ix_task_reminders_fires_at" in i for i in generic.index_lookups), generic.text


@pytest.fixture(scope="module", params=BACKENDS)
def committed_db(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[Database]:
    """A database where commits land, for two schedulers at once."""
    if request.param == "postgresql":
        require_postgres()
    with databases.migrated_database(request.param, sqlite_dir, "ttremind") as url:
        database = Database.from_settings(databases.test_settings(url))
        yield database
        database.dispose()


def test_two_schedulers_at_once_send_each_reminder_once(committed_db: Database) -> None:
    db = committed_db
    with db.session() as session:
        user = User(email="sched@example.com", username="sched", password_hash="x" * 20)
        session.add(user)
    task = add_task(db, user.id, due_date=DUE)
    with db.user_scope(user.id) as session:
        for minutes in range(10):
            ReminderRepository(session).create(task, {"minutes_before_due": minutes})
    with db.session() as session:
        due = _due(session, user.id)
    assert len(due) == 10

    marked, waiting = threading.Event(), threading.Event()
    sent: dict[str, list[DueReminder]] = {}

    def first() -> None:
        with db.session() as session:
            sent["first"] = mark_sent(session, due, DUE)
            marked.set()
            waiting.wait(10)  # the second scheduler's UPDATE waits for this commit

    def second() -> None:
        marked.wait(10)
        with db.session() as session:
            sent["second"] = mark_sent(session, due, DUE)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert marked.wait(10)
    _until_a_writer_waits(db)
    waiting.set()
    for thread in threads:
        thread.join(30)
    assert sorted(sent["first"]) == sorted(due)
    assert sent["second"] == []  # it waited, then found them sent
    with db.session() as session:
        assert _due(session, user.id) == []


def _until_a_writer_waits(db: Database) -> None:
    """PostgreSQL: until another backend waits for a lock (on Citus, on a worker); SQLite:
    a moment (its writer waits on the database lock, which nothing shows)."""
    if db.engine.dialect.name != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    with db.engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM citus_lock_waits"  # the wait is on a worker
            if citus_installed(connection)
            else "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
        while True:
            waiting = connection.execute(query).scalar_one()
            connection.rollback()  # a transaction sees one snapshot of pg_stat_activity
            if waiting:
                return
            assert time.monotonic() < deadline, "the second scheduler never waited"
            time.sleep(0.02)
