"""Subtasks: same-user parents, the depth limit, cycles refused (also concurrently), the
tree in one query, progress, and the delete rule (the subtree goes with its parent)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, func, select, text

from tasktracker.db.errors import NotFoundError, TaskTrackerError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.settings import get_settings
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.tasks.tree import Progress
from tests.tasks.conftest import add_task


def _chain(db: Database, user: uuid.UUID, length: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for level in range(length):
        ids.append(add_task(db, user, title=f"level {level}", parent_id=ids[-1] if ids else None))
    return ids


def test_children_in_order_and_the_tree_in_one_query(db: Database, make_user) -> None:
    user = make_user()
    root = add_task(db, user, title="Move house")
    first = add_task(db, user, title="Pack", parent_id=root)
    second = add_task(db, user, title="Book the van", parent_id=root)
    grandchild = add_task(db, user, title="Buy boxes", parent_id=first)
    add_task(db, user, title="unrelated")
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        assert [row.id for row in tasks.children(root)] == [first, second]
        assert tasks.children(grandchild).items == []
        nodes = tasks.tree(root)
        assert [(node.task.id, node.depth) for node in nodes] == [
            (root, 0),
            (first, 1),
            (grandchild, 2),
            (second, 1),
        ]
        assert nodes[2].task.parent_id == first
        assert [t.id for t in tasks.list(TaskFilter(parent_id=root))] == [second, first]
        assert {t.id for t in tasks.list(TaskFilter(top_level=True))} >= {root}
        assert root not in {t.id for t in tasks.list(TaskFilter(top_level=False))}


def test_children_page_by_cursor(db: Database, make_user) -> None:
    user = make_user()
    root = add_task(db, user)
    kids = [add_task(db, user, title=f"kid {i}", parent_id=root) for i in range(5)]
    seen, cursor = [], None
    with db.user_scope(user) as session:
        while True:
            page = TaskRepository(session).children(root, limit=2, cursor=cursor)
            seen += [row.id for row in page]
            if (cursor := page.next_cursor) is None:
                break
    assert seen == kids


def test_progress_rolls_up_every_level(db: Database, make_user) -> None:
    user = make_user()
    root = add_task(db, user)
    child = add_task(db, user, parent_id=root, status="completed")
    add_task(db, user, parent_id=child, status="completed")
    add_task(db, user, parent_id=child)
    leaf = add_task(db, user)
    with db.user_scope(user) as session:
        found = TaskRepository(session).progress([root, child, leaf, uuid.uuid4()])
    assert found == {
        root: Progress(2, 3),
        child: Progress(1, 2),
        leaf: Progress(0, 0),
        next(iter(set(found) - {root, child, leaf})): Progress(0, 0),
    }


def _refused(db: Database, user: uuid.UUID, call) -> ValidationError:  # type: ignore[no-untyped-def]
    with db.user_scope(user) as session:
        before = session.scalar(select(func.count()).select_from(Task))
        with pytest.raises(ValidationError) as caught:
            call(TaskRepository(session))
        assert caught.value.fields == {"parent_id"}
        # Nothing changed and the unit goes on.
        assert session.scalar(select(func.count()).select_from(Task)) == before
        TaskRepository(session).create({"title": "still usable"})
    return caught.value


def test_cycles_and_self_parents_are_refused(db: Database, make_user) -> None:
    user = make_user()
    a, b, c = _chain(db, user, 3)
    error = _refused(db, user, lambda tasks: tasks.move(a, c))
    assert "cycle" in str(error)
    assert "own parent" in str(_refused(db, user, lambda tasks: tasks.move(b, b)))
    with db.user_scope(user) as session:
        assert TaskRepository(session).get(a).parent_id is None


def test_another_users_or_a_missing_parent_is_no_such_task(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    bobs = add_task(db, bob)
    mine = add_task(db, alice)
    for parent in (bobs, uuid.uuid4()):
        error = _refused(
            db, alice, lambda tasks, p=parent: tasks.create({"title": "x", "parent_id": p})
        )
        assert "no such task" in str(error)
        assert "no such task" in str(
            _refused(db, alice, lambda tasks, p=parent: tasks.move(mine, p))
        )
    with pytest.raises(ValidationError) as caught, db.user_scope(alice) as session:
        TaskRepository(session).create({"title": "x", "parent_id": "not a uuid"})
    assert caught.value.fields == {"parent_id"}


def test_depth_is_bounded_by_the_setting(db: Database, make_user) -> None:
    user = make_user()
    limit = get_settings().task_max_depth
    chain = _chain(db, user, limit)
    error = _refused(
        db, user, lambda tasks: tasks.create({"title": "too deep", "parent_id": chain[-1]})
    )
    assert f"at most {limit}" in str(error)
    # Moving a subtree counts its own height: a 2-level subtree under level `limit - 1`.
    other = _chain(db, user, 2)
    _refused(db, user, lambda tasks: tasks.move(other[0], chain[-2]))
    with db.user_scope(user) as session:
        TaskRepository(session).move(other[0], chain[-3])  # exactly `limit` levels
        assert TaskRepository(session).tree(chain[0])[-1].depth == limit - 1
        TaskRepository(session).move(other[0], None)
        assert TaskRepository(session).get(other[0]).parent_id is None


def test_deleting_a_parent_deletes_its_subtree(db: Database, make_user) -> None:
    user = make_user()
    root, child, grandchild = _chain(db, user, 3)
    sibling = add_task(db, user)
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        held = tasks.get(grandchild)  # the unit forgets it
        tasks.delete(root)
        assert held not in session
        for gone in (root, child, grandchild):
            with pytest.raises(NotFoundError):
                tasks.get(gone)
        assert tasks.get(sibling).parent_id is None


def test_deleting_a_parent_by_plain_sql_cascades(db: Database, make_user, backend: str) -> None:
    user = make_user()
    root, child = _chain(db, user, 2)
    with db.session() as session:
        key = root.hex if backend == "sqlite" else root
        session.execute(text("DELETE FROM tasks WHERE id = :r"), {"r": key})
        assert session.scalar(select(func.count()).select_from(Task).where(Task.id == child)) == 0


def test_a_self_parent_by_plain_sql_is_refused_by_the_database(
    db: Database, make_user, backend: str
) -> None:
    user = make_user()
    task = add_task(db, user)
    key = task.hex if backend == "sqlite" else task
    with pytest.raises(TaskTrackerError), db.session() as session:
        session.execute(text("UPDATE tasks SET parent_id = id WHERE id = :t"), {"t": key})


def test_the_tree_of_another_users_task_is_not_found(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    bobs = add_task(db, bob)
    add_task(db, bob, parent_id=bobs)
    with db.user_scope(alice) as session:
        with pytest.raises(NotFoundError):
            TaskRepository(session).tree(bobs)
        assert TaskRepository(session).children(bobs).items == []
        assert TaskRepository(session).progress([bobs]) == {bobs: Progress(0, 0)}


def test_two_concurrent_moves_cannot_make_a_cycle(engine: Engine, backend: str) -> None:
    """Two real connections: A under B and B under A at once. One waits for the other's
    tree lock (PostgreSQL) or write lock (SQLite), then sees its move and is refused."""
    db = Database(engine)
    from tasktracker.accounts.repository import UserRepository

    with db.session() as session:
        name = f"mover_{uuid.uuid4().hex[:8]}"
        user = (
            UserRepository(session)
            .register(
                {
                    "email": f"{name}@example.com",
                    "username": name,
                    "password": "correct horse battery",
                }
            )
            .id
        )
    try:
        with db.user_scope(user) as session:
            a = TaskRepository(session).create({"title": "A"}).id
            b = TaskRepository(session).create({"title": "B"}).id
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        # SQLite: a unit that may write begins IMMEDIATE, so the second waits at its start.
        before, inside = (
            (barrier.wait, lambda: None)
            if backend == "sqlite"
            else (
                lambda: None,
                barrier.wait,
            )
        )

        def move(task: uuid.UUID, parent: uuid.UUID) -> None:
            try:
                before()
                with db.user_scope(user) as session:
                    tasks = TaskRepository(session)
                    tasks.get(task)
                    inside()  # both transactions have read the tasks
                    tasks.move(task, parent)
                outcomes.append("moved")
            except ValidationError as exc:
                outcomes.append(f"refused: {exc}")

        threads = [
            threading.Thread(target=move, args=(a, b)),
            threading.Thread(target=move, args=(b, a)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes.count("moved") == 1, outcomes
        assert "cycle" in next(o for o in outcomes if o != "moved"), outcomes
        with db.user_scope(user) as session:
            tasks = TaskRepository(session)
            parents = {tasks.get(a).parent_id, tasks.get(b).parent_id}
        assert None in parents
        assert parents - {None} <= {a, b}
    finally:
        with db.session() as session:
            UserRepository(session).delete(user)
