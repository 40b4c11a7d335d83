"""Revision 0002 (chat) on top of 0001 with data: up and back down keeps the tasks intact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from tasktracker.admin import schema
from tasktracker.db.engines import create_engine
from tasktracker.db.types import new_id
from tests import databases

TASK_TABLES = ("users", "categories", "tasks")


def _id(value: uuid.UUID, backend: str) -> object:
    return value.hex if backend == "sqlite" else value


def _seed(connection: Connection, backend: str) -> dict[str, uuid.UUID]:
    """Two users with categories and tasks (every task column used), by plain SQL."""
    ids = {name: new_id() for name in ("alice", "bob", "work", "home", "t1", "t2", "t3")}

    def rows(*items: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {k: _id(v, backend) if isinstance(v, uuid.UUID) else v for k, v in item.items()}
            for item in items
        ]

    connection.execute(
        text(
            "INSERT INTO users (id, email, username, password_hash) "
            "VALUES (:id, :email, :name, 'x')"
        ),
        rows(
            {"id": ids["alice"], "email": "alice@example.com", "name": "alice"},
            {"id": ids["bob"], "email": "bob@example.com", "name": "bob"},
        ),
    )
    connection.execute(
        text("INSERT INTO categories (user_id, id, name, color) VALUES (:u, :id, :name, :color)"),
        rows(
            {"u": ids["alice"], "id": ids["work"], "name": "Work", "color": "#FF0000"},
            {"u": ids["bob"], "id": ids["home"], "name": "Home", "color": "#00FF00"},
        ),
    )
    task = {
        "description": None,
        "status": "pending",
        "priority": "medium",
        "done": None,
        "category": None,
    }
    connection.execute(
        text(
            "INSERT INTO tasks (user_id, id, title, description, status, priority, "
            "completed_at, category_id) "
            "VALUES (:u, :id, :title, :description, :status, :priority, :done, :category)"
        ),
        rows(
            {
                **task,
                "u": ids["alice"],
                "id": ids["t1"],
                "title": "Write report",
                "description": "Q3 numbers",
                "status": "in_progress",
                "priority": "high",
                "category": ids["work"],
            },
            {
                **task,
                "u": ids["alice"],
                "id": ids["t2"],
                "title": "Done already",
                "status": "completed",
                "priority": "low",
                "done": "2030-01-01 00:00:00",
            },
            {
                **task,
                "u": ids["bob"],
                "id": ids["t3"],
                "title": "Water plants",
                "description": "ünïcode ✓",
                "category": ids["home"],
            },
        ),
    )
    return ids


def _snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: [
            tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        ]
        for table in TASK_TABLES
    }


@pytest.mark.parametrize("fresh_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_to_0002_and_back_keeps_the_tasks_data(fresh_url: str) -> None:
    databases.migrate_to(fresh_url, "0001")
    engine = create_engine(databases.test_settings(fresh_url))
    backend = engine.dialect.name
    try:
        with engine.begin() as connection:
            ids = _seed(connection, backend)
            before = _snapshot(connection)
        assert [len(rows) for rows in before.values()] == [2, 2, 3]

        databases.migrate_to(fresh_url, "0002")
        with engine.begin() as connection:
            assert schema.current_revision(connection) == "0002"
            assert _snapshot(connection) == before
            conversation = new_id()
            connection.execute(
                text("INSERT INTO conversations (user_id, id, title) VALUES (:u, :c, 'chat')"),
                {"u": _id(ids["alice"], backend), "c": _id(conversation, backend)},
            )
            connection.execute(
                text(
                    "INSERT INTO messages (user_id, id, conversation_id, role, content) "
                    "VALUES (:u, :m, :c, 'user', 'hello')"
                ),
                {
                    "u": _id(ids["alice"], backend),
                    "m": _id(new_id(), backend),
                    "c": _id(conversation, backend),
                },
            )

        schema.downgrade(engine, "0001")
        with engine.begin() as connection:
            assert schema.current_revision(connection) == "0001"
            tables = set(inspect(connection).get_table_names())
            assert {"conversations", "messages"}.isdisjoint(tables)
            assert set(TASK_TABLES) <= tables
            assert _snapshot(connection) == before
            # The tasks' own rules survived: deleting a category still un-categorises its tasks.
            connection.execute(
                text("DELETE FROM categories WHERE id = :c"), {"c": _id(ids["work"], backend)}
            )
            category_of_t1 = connection.execute(
                text("SELECT category_id FROM tasks WHERE id = :t"), {"t": _id(ids["t1"], backend)}
            ).scalar_one()
            assert category_of_t1 is None

        databases.migrate_to(fresh_url, "0002")  # and up again, on the same data
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM conversations")).scalar_one() == 0
    finally:
        engine.dispose()
