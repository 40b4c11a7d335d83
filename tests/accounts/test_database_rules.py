"""What the database itself refuses in `users`, on both backends, for plain SQL too: blank
emails and usernames (CHECKs derived from the model), and emails equal regardless of
Unicode case (the case-insensitive unique index)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tasktracker.accounts.models import User
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id


def _count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def _plain_insert(db: Database, backend: str, email: str, username: str) -> None:
    user_id = new_id()
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash) "
                "VALUES (:id, :email, :username, '-')"
            ),
            {
                "id": user_id.hex if backend == "sqlite" else user_id,
                "email": email,
                "username": username,
            },
        )


@pytest.mark.parametrize(
    ("email", "username", "field"),
    [
        ("   ", "okay", "email"),
        ("", "okay", "email"),
        ("blank@example.com", "   ", "username"),
        ("blank@example.com", "", "username"),
    ],
)
def test_plain_sql_blank_email_or_username_is_refused(
    db: Database, backend: str, email: str, username: str, field: str
) -> None:
    before = _count(db)
    with pytest.raises(ValidationError) as caught:
        _plain_insert(db, backend, email, username)
    assert caught.value.fields == {field}
    assert _count(db) == before
    _plain_insert(db, backend, "fine@example.com", "fine")  # the database is still usable
    assert _count(db) == before + 1


@pytest.mark.parametrize("field", ["email", "username"])
def test_the_model_refuses_a_blank_email_or_username_first(field: str) -> None:
    values = {"email": "ok@example.com", "username": "okay"} | {field: "   "}
    with pytest.raises(ValidationError) as caught:
        User(**values, password_hash="-")
    assert caught.value.fields == {field}


def test_the_database_refuses_emails_equal_regardless_of_unicode_case(
    db: Database, backend: str
) -> None:
    _plain_insert(db, backend, "Öl@example.com", "oel")
    with pytest.raises(ConflictError, match="email"):
        _plain_insert(db, backend, "öL@example.com", "oel2")
    with pytest.raises(ConflictError, match="username"):
        _plain_insert(db, backend, "other@example.com", "OEL")
