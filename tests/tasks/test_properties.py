"""Property tests: any input is either refused with nothing written, or stored exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tasktracker.db.errors import TaskTrackerError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate

ugly_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=190, max_size=210),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "'; DROP TABLE tasks; --",
            "\u202e\u0000",
            "🙂" * 200,
            "é" * 201,
        ]
    ),
    st.text(min_size=4990, max_size=5010),
)
checked = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@checked
@given(title=ugly_text, description=st.one_of(st.none(), ugly_text))
def test_task_creation_is_all_or_nothing(
    db: Database, make_user, title: str, description: str | None
) -> None:
    user = make_user()
    before = _count(db, Task)
    try:
        data = TaskCreate(title=title, description=description)
        with db.user_scope(user) as session:
            task_id = TaskRepository(session).create(data).id
    except (ValidationError, TaskTrackerError, ValueError):
        assert _count(db, Task) == before
        return
    with db.user_scope(user) as session:
        session.expire_all()
        stored = TaskRepository(session).get(task_id)
        assert (stored.title, stored.description) == (title, description)


@checked
@given(name=ugly_text, color=st.one_of(st.from_regex(r"\A#[0-9A-Fa-f]{6}\Z"), st.text(max_size=9)))
def test_category_creation_is_all_or_nothing(
    db: Database, make_user, name: str, color: str
) -> None:
    user = make_user()
    before = _count(db, Category)
    try:
        data = CategoryCreate(name=name, color=color)
        with db.user_scope(user) as session:
            category_id = CategoryRepository(session).create(data).id
    except (ValidationError, TaskTrackerError, ValueError):
        assert _count(db, Category) == before
        return
    with db.user_scope(user) as session:
        session.expire_all()
        stored = CategoryRepository(session).get(category_id)
        assert (stored.name, stored.color) == (name, color)
