"""Inside a user scope, statements the scope's criteria cannot limit are refused before
anything is sent (tables used directly, raw SQL), the unit of work stays usable, and no
row changes; the statements it can limit still work and see only the user's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import (
    DDL,
    column,
    delete,
    event,
    exists,
    func,
    insert,
    lambda_stmt,
    literal_column,
    select,
    table,
    text,
    union,
    update,
)
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.schema import CreateTable

from tasktracker import ScopeError, TaskTrackerError, ValidationError
from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository
from tests import databases
from tests.db.conftest import Tenants, snapshot

tasks, messages, users = Task.__table__, Message.__table__, User.__table__

Statement = Callable[[Tenants], Any]

REFUSED: dict[str, Statement] = {
    "select(table)": lambda t: select(tasks),
    "select(table.c.x)": lambda t: select(tasks.c.title),
    "count over a table": lambda t: select(func.count()).select_from(tasks),
    "model joined to a table": lambda t: select(Task.title).join(
        messages, messages.c.user_id == Task.user_id
    ),
    "join of tables": lambda t: select(tasks.join(messages, tasks.c.user_id == messages.c.user_id)),
    "alias of a table": lambda t: select(tasks.alias().c.title),
    "lightweight table()": lambda t: select(table("tasks", column("title"))),
    "table in a subquery": lambda t: select(Task.title).where(
        exists(select(tasks.c.id).where(tasks.c.user_id == t.bob))
    ),
    "table in a union": lambda t: union(select(Task.title), select(tasks.c.title)),
    "users table": lambda t: select(users.c.email),
    "lambda statement": lambda t: lambda_stmt(lambda: select(tasks)),
    "insert(table)": lambda t: insert(tasks).values(user_id=t.alice, title="core"),
    "update(table)": lambda t: update(tasks).values(title="core"),
    "delete(table)": lambda t: delete(tasks),
    "text()": lambda t: text("SELECT title FROM tasks"),
    "text() as a model's rows": lambda t: select(Task).from_statement(text("SELECT * FROM tasks")),
    "text() in a WHERE": lambda t: select(Task.title).where(text("1 = 1")),
    "literal_column()": lambda t: select(literal_column("(SELECT max(title) FROM tasks)")),
    "custom operator": lambda t: select(Task.title.op("|| (SELECT max(title) FROM tasks) ||")("")),
    "comment operator": lambda t: select(Task.title).where(Task.title.op("--")("")),
    "prefix": lambda t: select(Task.title).prefix_with("(SELECT max(title) FROM tasks),"),
    "statement hint": lambda t: select(Task.title).with_statement_hint("UNION SELECT 'x'"),
    "table_to_xml()": lambda t: select(func.table_to_xml("tasks", True, False, "")),
    "query_to_xml()": lambda t: select(func.query_to_xml("SELECT 1", True, False, "")),
    "TABLE_TO_XML()": lambda t: select(func.TABLE_TO_XML("tasks", True, False, "")),
    "literal SQL in RETURNING": lambda t: (
        insert(Task).values(title="x").returning(literal_column("(SELECT max(title) FROM tasks)"))
    ),
    "literal SQL in LIMIT": lambda t: select(Task.title).limit(literal_column("(SELECT 1)")),
    "table hint": lambda t: select(Task.title).with_hint(Task, "x"),
    "DML as an independent CTE": lambda t: select(Task.title).add_cte(
        update(Task).values(title="cte").cte()
    ),
    "DDL": lambda t: DDL("DELETE FROM tasks"),
    "CreateTable": lambda t: CreateTable(tasks),
    "UPDATE ... FROM another model": lambda t: (
        update(Task)
        .where(Message.conversation_id == t.bobs_conversation)
        .values(title=Message.content)
    ),
    "DELETE ... USING another model": lambda t: delete(Task).where(Task.title == Message.content),
    "DML inside a SELECT": lambda t: select(
        update(Task).values(title="cte").returning(Task.id).cte().c.id
    ),
}


@pytest.mark.parametrize("form", REFUSED, ids=str)
def test_a_statement_the_scope_cannot_limit_is_refused_and_changes_nothing(
    db: Database, tenants: Tenants, form: str
) -> None:
    before = snapshot(db)
    with db.user_scope(tenants.alice) as session:
        with pytest.raises(ScopeError) as refused:
            session.execute(REFUSED[form](tenants))
        # The unit of work goes on: nothing was sent, nothing is rolled back.
        assert session.scalars(select(Task.title)).all() == ["alice's task"]
        TaskRepository(session).create({"title": "after"})
    assert refused.value.fields == {"statement"}
    assert "db.session()" in str(refused.value)
    after = snapshot(db)
    assert after["tasks"] == sorted([*before["tasks"], (tenants.alice, "after")])
    assert {k: v for k, v in after.items() if k != "tasks"} == {
        k: v for k, v in before.items() if k != "tasks"
    }


def test_a_read_only_unit_refuses_them_too(db: Database, tenants: Tenants) -> None:
    with db.user_scope(tenants.alice, read_only=True) as session:
        with pytest.raises(ScopeError):
            session.execute(select(tasks.c.title))
        assert session.scalars(select(Task.title)).all() == ["alice's task"]


async def test_an_async_unit_refuses_them_too(adb: AsyncDatabase, make_user) -> None:
    alice = make_user()
    async with adb.user_scope(alice) as session:
        with pytest.raises(ScopeError):
            await session.execute(text("SELECT title FROM tasks"))
        assert (await session.scalars(select(Task.title))).all() == []


def test_an_unscoped_unit_runs_them_on_purpose(db: Database, tenants: Tenants) -> None:
    """What the refusal says to do: `db.session()` runs tables and plain SQL as written."""
    with db.session() as session:
        assert len(session.execute(select(tasks.c.title)).all()) == 2
        assert session.scalar(text("SELECT count(*) FROM messages")) == 2


SCOPED: dict[str, Statement] = {
    "ORM union": lambda t: union(select(Task.title), select(Message.content)),
    "model in a subquery": lambda t: select(Task.title).where(
        ~exists(select(Message.id).where(Message.user_id == t.bob))
    ),
    "ORM subquery": lambda t: select(select(Task.title).subquery().c.title),
    "alias of the model": lambda t: select(aliased(Task, tasks.alias()).title),
    "model over its own table": lambda t: select(Task.title).select_from(tasks),
    "table column beside the model": lambda t: select(tasks.c.title).where(Task.id.is_not(None)),
    "plain operator": lambda t: select(Task.title).where(Task.title.op("||")("!") != ""),
    "count(*) of a model": lambda t: select(func.count()).select_from(Task),
}
"""Reads the criteria do limit (a table column beside its own model shares its FROM)."""


@pytest.mark.parametrize("form", SCOPED, ids=str)
def test_a_statement_the_scope_limits_sees_only_the_users_rows(
    db: Database, tenants: Tenants, form: str
) -> None:
    with db.user_scope(tenants.alice) as session:
        values = {str(value) for row in session.execute(SCOPED[form](tenants)) for value in row}
    assert values <= {"alice's task", "alice's secret", "1"}
    assert values


def test_a_model_filtered_on_its_table_column_finds_no_other_users_rows(
    db: Database, tenants: Tenants
) -> None:
    with db.user_scope(tenants.alice) as session:
        assert session.execute(select(Task.title).where(tasks.c.user_id == tenants.bob)).all() == []
        assert session.get(Task, (tenants.bob, tenants.bobs_task)) is None


def test_subqueries_of_writes_are_limited(db: Database, tenants: Tenants, backend: str) -> None:
    """UPDATE ... SET x = (SELECT ...) and INSERT ... VALUES ((SELECT ...)) read only the
    user's rows: Bob's message cannot be copied into Alice's task."""
    newest = select(Message.content).order_by(Message.content).limit(1).scalar_subquery()
    with db.user_scope(tenants.alice) as session:
        session.execute(update(Task).values(title=newest))
        assert session.scalars(select(Task.title)).all() == ["alice's secret"]
    bobs_message = select(Message.content).where(
        Message.conversation_id == tenants.bobs_conversation
    )
    before = snapshot(db)
    # Citus refuses a subquery in INSERT ... VALUES outright: nothing is read either.
    refused = TaskTrackerError if databases.CITUS and backend == "postgresql" else ValidationError
    with pytest.raises(refused), db.user_scope(tenants.alice) as session:
        session.execute(insert(Task).values(title=bobs_message.scalar_subquery()))  # no row
    assert snapshot(db) == before


def test_relationship_loads_carry_the_scope_criterion_once(db: Database, tenants: Tenants) -> None:
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    loading = select(Conversation).options(selectinload(Conversation.messages))  # type: ignore[arg-type]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.user_scope(tenants.alice) as session:
            conversation = session.scalars(loading).one()
            assert [m.content for m in conversation.messages] == ["alice's secret"]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    (children,) = [statement for statement in sent if "FROM messages" in statement]
    assert children.count("messages.user_id = ") == 1


def test_a_shape_that_passed_does_not_let_a_similar_one_through(
    db: Database, tenants: Tenants
) -> None:
    """A passing statement is remembered by its cache key: the table form of the same query
    has another key (another SQL once the criteria are applied), and is still refused."""
    pairs = [
        (select(Task.title), select(tasks.c.title)),
        (select(func.count()).select_from(Task), select(func.count()).select_from(tasks)),
        (select(Task.title).where(Task.title.op("||")("") != ""), select(Task.title.op("--")(""))),
    ]
    with db.user_scope(tenants.alice) as session:
        for passing, refused in pairs:
            session.execute(passing)
            session.execute(passing)
            with pytest.raises(ScopeError):
                session.execute(refused)
