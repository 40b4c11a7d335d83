"""Deletion rules, done by the database (so they hold for plain SQL too)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.testspec.models.parameters import Parameter
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tests.tasks.conftest import add_category, add_task


def test_deleting_a_category_keeps_its_tasks_uncategorised(db: Database, two_users) -> None:
    alice, bob = two_users
    work = add_category(db, alice, "Work")
    task_ids = [add_task(db, alice, title=f"t{i}", category_id=work) for i in range(3)]
    bobs_category = add_category(db, bob, "Work")
    bobs_task = add_task(db, bob, category_id=bobs_category)
    with db.user_scope(alice) as session:
        CategoryRepository(session).delete(work)
    with db.user_scope(alice) as session:
        tasks = TaskRepository(session)
        assert [tasks.get(i).category_id for i in task_ids] == [None, None, None]
    with db.user_scope(bob) as session:
        assert TaskRepository(session).get(bobs_task).category_id == bobs_category


def test_deleting_a_category_by_plain_sql_nulls_only_category_id(
    db: Database, make_user, backend: str
) -> None:
    user = make_user()
    category = add_category(db, user)
    task = add_task(db, user, category_id=category)
    with db.session() as session:
        key = category.hex if backend == "sqlite" else category
        session.execute(text("DELETE FROM categories WHERE id = :c"), {"c": key})
        row = session.execute(select(Task.user_id, Task.category_id).where(Task.id == task)).one()
    assert tuple(row) == (user, None)


def _owned_rows(db: Database, user_id) -> int:
    with db.session() as session:
        return sum(
            session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
            or 0
            for model in (Task, Category)
        )


def test_deleting_a_user_removes_everything_they_own(db: Database, two_users) -> None:
    alice, bob = two_users
    for user in (alice, bob):
        category = add_category(db, user)
        for i in range(3):
            add_task(db, user, title=f"t{i}", category_id=category if i else None)
    with db.session() as session:
        UserRepository(session).delete(alice)
    assert _owned_rows(db, alice) == 0
    assert _owned_rows(db, bob) == 4
    with db.session() as session:
        assert session.get(User, alice) is None


def test_deleting_a_user_in_the_transaction_that_created_their_rows(
    db: Database, make_user, backend: str
) -> None:
    """The nulling trigger must stand aside while the user's own cascade removes the rows."""
    user = make_user()
    with db.session() as session:
        category = Category(user_id=user, name="fresh")
        session.add(category)
        session.flush()
        session.add(Task(user_id=user, title="fresh", category_id=category.id))
        session.flush()
        session.execute(
            text("DELETE FROM users WHERE id = :u"),
            {"u": user.hex if backend == "sqlite" else user},
        )
    assert _owned_rows(db, user) == 0


def test_deleting_a_user_with_loaded_parents_and_children(db: Database, make_user) -> None:
    """Objects of the deleted user leave the session, cascaded children of loaded parents too."""
    user = make_user()
    with db.user_scope(user) as session:
        ParameterRepository(session).create(
            {
                "name": "supply_voltage",
                "data_type": "float",
                "variants": [{"name": "nominal", "value": "12"}, {"name": "low", "value": "9"}],
            }
        )
    with db.session() as session:
        session.scalars(select(Parameter).options(selectinload(Parameter.variants))).all()
        UserRepository(session).delete(user)
    with db.session() as session:
        assert session.scalars(select(Parameter).where(Parameter.user_id == user)).all() == []
