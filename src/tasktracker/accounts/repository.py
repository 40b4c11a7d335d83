"""Accounts: sign-up and sign-in (unscoped), and the signed-in user's own row (scoped)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, literal, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.accounts.models import User
from tasktracker.accounts.passwords import hash_password, verify_against_nothing
from tasktracker.accounts.schemas import UserCreate, UserUpdate
from tasktracker.db.caseless import caseless
from tasktracker.db.errors import ConflictError, NotFoundError
from tasktracker.db.repository import validated, write


class UserRepository:
    """Users. In a user-scoped session only that user's own row is visible."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def register(self, data: UserCreate | Mapping[str, Any]) -> User:
        """A new active user; email and username are unique regardless of case."""
        data = validated(UserCreate, data)
        self._check_unique(data.email, data.username)
        user = User(
            email=data.email,
            username=data.username,
            password_hash=hash_password(data.password.get_secret_value()),
        )
        with write(self.session):
            self.session.add(user)
        return user

    def get(self, id: uuid.UUID) -> User:
        user = self.session.get(User, id)
        if user is None:
            raise NotFoundError(f"user {id} not found")
        return user

    def find(self, login: str) -> User | None:
        """The user whose email or username is `login`, regardless of case."""
        key = caseless(literal(login))
        statement = select(User).where(
            or_(caseless(User.email) == key, caseless(User.username) == key)
        )
        return self.session.scalars(statement).first()

    def authenticate(self, login: str, password: str) -> User | None:
        """The active user with these credentials, or None (never says which part was wrong)."""
        user = self.find(login)
        if user is None or not user.is_active:
            verify_against_nothing(password)
            return None
        with write(self.session):  # an outdated hash is replaced: a write of its own
            matched = user.check_password(password)
        return user if matched else None

    def update(self, id: uuid.UUID, changes: UserUpdate | Mapping[str, Any]) -> User:
        user = self.get(id)
        values = validated(UserUpdate, changes).model_dump(exclude_unset=True)
        self._check_unique(values.get("email"), values.get("username"), exclude=id)
        with write(self.session):
            for name, value in values.items():
                setattr(user, name, value)
        return user

    def change_password(self, id: uuid.UUID, password: str) -> None:
        user = self.get(id)
        with write(self.session):
            user.set_password(password)

    def delete(self, id: uuid.UUID) -> None:
        """Delete the user and, by the database's cascades, everything the user owns."""
        self.get(id)
        with write(self.session):
            self.session.execute(delete(User).where(col(User.id) == id))
        for obj in list(self.session.identity_map.values()):
            owned = getattr(obj, "user_id", None) == id or (isinstance(obj, User) and obj.id == id)
            if owned and obj in self.session:  # expunging a parent may have taken its children
                self.session.expunge(obj)

    def _check_unique(
        self, email: str | None, username: str | None, *, exclude: uuid.UUID | None = None
    ) -> None:
        for field, value in (("email", email), ("username", username)):
            if value is None:
                continue
            column = User.email if field == "email" else User.username
            statement = select(col(User.id)).where(caseless(column) == caseless(literal(value)))
            if exclude is not None:
                statement = statement.where(col(User.id) != exclude)
            if self.session.scalar(statement) is not None:
                raise ConflictError(
                    f"users: {field} is already {'registered' if field == 'email' else 'taken'}",
                    field=field,
                )
