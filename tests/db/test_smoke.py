from sqlalchemy import select

from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task


def test_user_scope_stamps_and_filters(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    with db.user_scope(alice) as session:
        session.add(Task(title="alice's"))
    with db.user_scope(bob) as session:
        session.add(Task(title="bob's"))
    with db.user_scope(alice) as session:
        titles = session.scalars(select(Task.title)).all()
    assert titles == ["alice's"]
