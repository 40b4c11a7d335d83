"""An accounts write the database refuses undoes only itself; the unit of work goes on.

The repository looks for a taken email or username before writing, so the database's
unique indexes refuse a write only when another unit took the value in between. The
tests switch that look-up off to stand for the race, and let the database refuse.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database

PASSWORD = "s3cret-passw0rd"


@pytest.fixture
def race_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The look-up before the write finds nothing: a concurrent sign-up came first."""
    monkeypatch.setattr(UserRepository, "_check_unique", lambda self, *a, **k: None)


def _user(name: str) -> dict[str, str]:
    return {"email": f"{name}@example.com", "username": name, "password": PASSWORD}


def _names(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(User.username).order_by(User.username)))


def test_a_refused_sign_up_can_be_retried_in_the_same_unit(db: Database, race_lost) -> None:
    with db.session() as session:
        users = UserRepository(session)
        users.register(_user("ada"))
        with pytest.raises(ConflictError) as caught:
            users.register(_user("ada") | {"email": "ADA@example.com", "username": "ada2"})
        assert caught.value.field == "email"
        users.register(_user("grace"))
        assert session.scalar(select(func.count()).select_from(User)) == 2
    assert _names(db) == ["ada", "grace"]


def test_a_refused_update_reads_back_as_stored(db: Database, race_lost) -> None:
    with db.session() as session:
        users = UserRepository(session)
        users.register(_user("ada"))
        grace = users.register(_user("grace"))
        with pytest.raises(ConflictError) as caught:
            users.update(grace.id, {"username": "ADA", "is_active": False})
        assert caught.value.field == "username"
        assert (grace.username, grace.is_active) == ("grace", True)
        users.update(grace.id, {"username": "grace_h"})
    assert _names(db) == ["ada", "grace_h"]
