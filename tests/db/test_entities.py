"""Tracked models made from compiled rows (`db.fastpath.entities`) are the models the ORM's
loader makes: the same attribute values and types, persistent in the same session, changed,
refreshed, expired and deleted as any, on both backends, for every tenant model. Where the
ORM would do more (a held object with expired attributes, a `load` listener), the ORM does it.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import Session

from tasktracker.admin import catalog
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.errors import NotFoundError
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.fastpath.entities import entities
from tasktracker.db.sessions import Database
from tasktracker.seeding.demo import ADA, seed_demo
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository

TENANT_MODELS = [catalog.model_for(table) for table in catalog.tenant_tables()]


@pytest.fixture
def demo(db: Database, password_hash: str) -> uuid.UUID:
    """The quickstart demo in the test's transaction, with a tool call and a summary (rows
    in every tenant table): Ada's id."""
    assert isinstance(db.bind, Connection)
    ada = seed_demo(db.bind, password_hash=password_hash).user_ids[ADA.email]
    with db.user_scope(ada) as session:
        chats = ConversationRepository(session)
        conversation = chats.list(limit=1).items[0].id
        call = {"type": "tool_call", "tool_call_id": "c1", "tool_name": "create_task"}
        chats.append(conversation, {"role": "assistant", "parts": [call]})
        result = {"type": "tool_result", "tool_call_id": "c1", "result": {"id": 1}}
        answer = chats.append(conversation, {"role": "tool", "parts": [result]})
        chats.add_summary(conversation, {"covers_until_id": answer.id, "text": "A task made."})
    return ada


def _attributes(obj: Any) -> dict[str, tuple[type, Any]]:
    return {
        key: (type(value), value) for key, value in vars(obj).items() if not key.startswith("_sa_")
    }


def _compiled_all(session: Session, model: type[Any]) -> list[Any]:
    tracked = entities(model)
    rows = CompiledQuery(select(*tracked.columns), tuple).all(session)
    loaded = tracked.load(session, rows)
    assert loaded is not None, f"{model.__name__}: a plain mapping loads without the ORM"
    return loaded


def test_every_tenant_model_has_a_plain_mapping() -> None:
    assert [m.__name__ for m in TENANT_MODELS if not entities(m).plain] == []


def test_the_objects_are_the_orms(db: Database, demo: uuid.UUID) -> None:
    for model in TENANT_MODELS:
        with db.user_scope(demo, read_only=True) as session:
            by_orm = {inspect(o).key: _attributes(o) for o in session.scalars(select(model))}
        with db.user_scope(demo, read_only=True) as session:
            loaded = _compiled_all(session, model)
            for obj in loaded:
                state = inspect(obj)
                assert state.persistent
                assert state.session is session
                assert session.identity_map.get(state.key) is obj
                assert not state.modified
            assert not session.dirty
            by_compiled = {inspect(o).key: _attributes(o) for o in loaded}
        assert by_orm, f"the demo has {model.__name__} rows"
        assert by_compiled == by_orm, model.__name__


def test_a_loaded_task_is_changed_refreshed_and_deleted_as_any(
    db: Database, demo: uuid.UUID
) -> None:
    with db.user_scope(demo) as session:
        page = TaskRepository(session).list(TaskFilter(), sort="newest", limit=3)
        first, second, third = page.items
        first.title = "renamed through a compiled read"
        session.flush()  # an UPDATE of the changed column
        session.expire(second)
        assert second.title  # reloaded by the ORM
        session.delete(third)
        deleted = third.id
    with db.user_scope(demo, read_only=True) as session:
        repository = TaskRepository(session)
        assert repository.get(first.id).title == "renamed through a compiled read"
        with pytest.raises(NotFoundError):
            repository.get(deleted)


def test_a_held_object_is_returned_as_held(db: Database, demo: uuid.UUID) -> None:
    with db.user_scope(demo) as session:
        repository = TaskRepository(session)
        held = repository.list(TaskFilter(), sort="newest", limit=1).items[0]
        held.title = "changed, not flushed"
        with session.no_autoflush:
            again = repository.list(TaskFilter(), sort="newest", limit=1).items[0]
            assert again is held
            assert again.title == "changed, not flushed"
            assert repository.get(held.id) is held
        session.rollback()


def test_an_expired_held_object_is_loaded_by_the_orm(db: Database, demo: uuid.UUID) -> None:
    with db.user_scope(demo) as session:
        repository = TaskRepository(session)
        held = repository.list(TaskFilter(), sort="newest", limit=1).items[0]
        session.expire(held)
        page = repository.list(TaskFilter(), sort="newest", limit=1)
        assert page.items[0] is held
        assert "title" in vars(held), "the ORM populated the expired object from the row"


def test_a_load_listener_gets_every_object(db: Database, demo: uuid.UUID) -> None:
    seen: list[uuid.UUID] = []

    def loaded(target: Task, context: Any) -> None:
        seen.append(target.id)

    event.listen(Task, "load", loaded)
    try:
        with db.user_scope(demo, read_only=True) as session:
            page = TaskRepository(session).list(TaskFilter(), sort="newest", limit=5)
            # The ORM loads the page's rows and the one after it, which says there are more.
            assert seen[: len(page.items)] == [task.id for task in page.items]
    finally:
        event.remove(Task, "load", loaded)


def test_another_users_task_is_not_found(db: Database, demo: uuid.UUID, make_user: Any) -> None:
    with db.user_scope(demo, read_only=True) as session:
        adas = TaskRepository(session).list(TaskFilter(), sort="newest", limit=1).items[0]
    with db.user_scope(make_user("mallory"), read_only=True) as session:
        repository = TaskRepository(session)
        with pytest.raises(NotFoundError):
            repository.get(adas.id)
        assert repository.list(TaskFilter(), sort="newest", limit=50).items == []


def test_a_session_in_another_time_zone_still_reads_utc(
    db: Database, demo: uuid.UUID, backend: str
) -> None:
    """Behind a pooler the session keeps the server's time zone (docs/connectivity.md):
    psycopg then returns timestamps in it, and both read paths give them in UTC."""
    if backend != "postgresql":
        pytest.skip("SQLite stores UTC text: no session time zone")
    assert isinstance(db.bind, Connection)
    db.bind.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Kathmandu'")  # +05:45
    with db.user_scope(demo, read_only=True) as session:
        repository = TaskRepository(session)
        rows = repository.read_page(TaskFilter(), sort="newest", limit=5).items
        tasks = repository.list(TaskFilter(), sort="newest", limit=5).items
    stamps = [row.created_at for row in rows] + [task.created_at for task in tasks]
    assert stamps
    assert {stamp.tzinfo for stamp in stamps} == {UTC}
    assert [row.created_at for row in rows] == [task.created_at for task in tasks]
