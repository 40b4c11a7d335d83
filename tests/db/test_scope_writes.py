"""Inside a user scope no write can set `user_id` to another user or insert another user's
rows, whatever its form (ORM bulk statements with values, multi-row VALUES, executemany,
bulk UPDATE by primary key, upserts, INSERT ... SELECT); a refused write changes nothing
and the unit of work goes on. Rows that leave the owner out get the scope's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tasktracker import IntegrityError, ScopeError, TaskTrackerError
from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.sessions import Database
from tasktracker.db.tenancy import SCOPE_PARAMETER
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository
from tests import databases
from tests.db.conftest import Tenants, snapshot

Write = Callable[[Session, Tenants], Any]


def _upsert(session: Session, owner: uuid.UUID) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Task).values(title="upsert")
    return statement.on_conflict_do_update(
        index_elements=["user_id", "id"], set_={"user_id": owner}
    )


REFUSED: dict[str, Write] = {
    "UPDATE SET user_id": lambda s, t: s.execute(
        update(Task).where(Task.title != "").values(user_id=t.bob)
    ),
    "UPDATE SET by attribute": lambda s, t: s.execute(update(Task).values({Task.user_id: t.bob})),
    "UPDATE ordered values": lambda s, t: s.execute(
        update(Task).ordered_values((Task.user_id, t.bob))
    ),
    "UPDATE SET an expression": lambda s, t: s.execute(
        update(Task).values(user_id=select(Conversation.user_id).scalar_subquery())
    ),
    "UPDATE SET a named parameter": lambda s, t: s.execute(
        update(Task).values(user_id=bindparam("owner")), {"owner": t.bob}
    ),
    "UPDATE with a SET mapping": lambda s, t: s.execute(update(Task), {"user_id": t.bob}),
    "bulk UPDATE by primary key": lambda s, t: s.execute(
        update(Task), [{"user_id": t.bob, "id": t.bobs_task, "title": "hijacked"}]
    ),
    "INSERT VALUES another user": lambda s, t: s.execute(
        insert(Task).values(user_id=t.bob, title="planted")
    ),
    "INSERT a message into another user's conversation": lambda s, t: s.execute(
        insert(Message).values(
            user_id=t.bob, conversation_id=t.bobs_conversation, role="user", content="planted"
        )
    ),
    "multi-row VALUES": lambda s, t: s.execute(
        insert(Task).values([{"user_id": t.bob, "title": "planted"}])
    ),
    "multi-row VALUES by position": lambda s, t: s.execute(
        insert(Task).values([(t.bob, uuid.uuid4())])
    ),
    "executemany": lambda s, t: s.execute(
        insert(Task), [{"title": "mine"}, {"title": "planted", "user_id": t.bob}]
    ),
    "INSERT ... SELECT": lambda s, t: s.execute(
        insert(Task).from_select(["user_id", "title"], select(literal(t.bob), Task.title))
    ),
    "upsert SET user_id": lambda s, t: s.execute(_upsert(s, t.bob)),
    "UPDATE users SET id": lambda s, t: s.execute(update(User).values(id=uuid.uuid4())),
}


@pytest.mark.parametrize("form", REFUSED, ids=str)
def test_a_write_for_another_user_is_refused_and_changes_nothing(
    db: Database, tenants: Tenants, form: str
) -> None:
    before = snapshot(db)
    with db.user_scope(tenants.alice) as session:
        with pytest.raises(ScopeError) as refused:
            REFUSED[form](session, tenants)
        assert session.scalars(select(Task.title)).all() == ["alice's task"]
        TaskRepository(session).create({"title": "after"})
    assert refused.value.fields & {"user_id", "id"}
    after = snapshot(db)
    assert after["tasks"] == sorted([*before["tasks"], (tenants.alice, "after")])
    assert after["messages"] == before["messages"]
    assert after["users"] == before["users"]


def test_rows_that_leave_the_owner_out_get_the_scopes(
    db: Database, tenants: Tenants, backend: str
) -> None:
    rows = [{"title": "one"}, {"title": "two"}]
    expected = {"alice's task", "one", "single", "two"}
    own_id = update(Task).values(user_id=tenants.alice)  # its own id: a no-op
    with db.user_scope(tenants.alice) as session:
        session.execute(insert(Task).values(title="single"))
        session.execute(insert(Task), rows)
        if not databases.CITUS:
            session.execute(own_id)
        if backend == "postgresql":  # the own id as text is the own id (SQLite binds UUIDs only)
            session.execute(insert(Task), [{"title": "text id", "user_id": str(tenants.alice)}])
            expected.add("text id")
    assert rows == [{"title": "one"}, {"title": "two"}]  # the caller's rows are not changed
    assert {title for owner, title in snapshot(db)["tasks"] if owner == tenants.alice} == expected
    if databases.CITUS and backend == "postgresql":
        # Citus refuses any SET of the distribution column, even to the row's own value.
        before = snapshot(db)
        with pytest.raises(IntegrityError), db.user_scope(tenants.alice) as session:
            session.execute(own_id)
        assert snapshot(db) == before


def test_a_reference_to_another_users_row_is_refused_by_the_database(
    db: Database, tenants: Tenants
) -> None:
    """The owner is the scope's, so the composite key `(user_id, conversation_id)` points
    at a conversation Alice does not have."""
    before = snapshot(db)
    planted = insert(Message).values(
        conversation_id=tenants.bobs_conversation, role="user", content="planted"
    )
    with pytest.raises(IntegrityError), db.user_scope(tenants.alice) as s:
        s.execute(planted)
    assert snapshot(db) == before


def test_a_bulk_update_by_key_finds_only_the_users_rows(db: Database, tenants: Tenants) -> None:
    before = snapshot(db)
    with db.user_scope(tenants.alice) as session:
        session.execute(update(Task), [{"id": tenants.alices_task, "title": "renamed"}])
    with pytest.raises(TaskTrackerError, match="0 were matched"), db.user_scope(tenants.alice) as s:
        s.execute(update(Task), [{"id": tenants.bobs_task, "title": "hijacked"}])
    after = snapshot(db)
    assert (tenants.alice, "renamed") in after["tasks"]
    assert [row for row in after["tasks"] if row[0] == tenants.bob] == [
        row for row in before["tasks"] if row[0] == tenants.bob
    ]


def test_a_compiled_statement_is_checked_when_it_is_built() -> None:
    """The fast path sends its statements without the session's hook: the same check runs
    once, when the statement is built, and its INSERT binds the owner from the unit."""
    names = ("id", "title", "status", "priority", "created_at", "updated_at")
    values = {name: bindparam(name) for name in names}
    with pytest.raises(ScopeError, match="statement"):
        CompiledQuery(select(Task.__table__.c.title))
    with pytest.raises(ScopeError, match="user_id"):
        CompiledQuery(insert(Task).values(user_id=bindparam("owner"), **values))
    with pytest.raises(ScopeError, match="user_id"):
        CompiledQuery(insert(Task).values(user_id=uuid.uuid4(), **values))
    CompiledQuery(insert(Task).values(user_id=bindparam(SCOPE_PARAMETER), **values))
