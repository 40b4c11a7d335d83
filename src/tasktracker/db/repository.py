"""The generic repository of a tenant model; domain repositories derive from it.

It only flushes, never commits: the unit of work is the transaction boundary. It needs a
user-scoped session, whose criteria already limit every statement to that user. Each of
its writes is a `write`: all or nothing, and a refused write leaves the unit usable. Every
public write of the domain repositories and services is one `write` too, covering all the
statements of the logical operation (a step inserted with the others renumbered).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import pydantic
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasktracker.db.base import TenantModel, validation_error
from tasktracker.db.errors import ConflictError, NotFoundError, ValidationError
from tasktracker.db.fastpath.entities import entities
from tasktracker.db.tenancy import check_writable, scope_user_id

ModelT = TypeVar("ModelT", bound=TenantModel)
SchemaT = TypeVar("SchemaT", bound=BaseModel)


def validated(schema: type[SchemaT], data: SchemaT | Mapping[str, Any]) -> SchemaT:
    """`data` as a `schema` instance; raw mappings are validated into our `ValidationError`
    (field-level, and without echoing the input: it may be a password)."""
    if isinstance(data, schema):
        return data
    try:
        # pydantic's validator itself: SQLModel's `model_validate` wrapper adds a third of
        # the cost for schemas, which are never table models.
        return schema.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]
    except pydantic.ValidationError as exc:
        raise validation_error(exc, schema.__name__) from None


@contextmanager
def write(session: Session) -> Iterator[None]:
    """One repository write: the changes made in the block are flushed in a savepoint.

    If the database refuses them (a name already used, a row still referenced) or a value
    is refused on assignment, only they are undone: new objects leave the session, changed
    ones are expired (they read back as stored) and the unit of work stays usable, with its
    earlier writes kept. Without the savepoint a failed flush would leave the session (and
    on PostgreSQL the transaction) unusable until the whole unit rolls back.

    The changes must be made inside the block: opening the savepoint first flushes what is
    already pending, as part of the unit but not of this write.
    """
    check_writable(session)  # before a savepoint a read-only unit could not take
    with session.begin_nested():
        yield
        session.flush()


class TenantRepository(Generic[ModelT]):
    model: ClassVar[type[Any]]

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id: uuid.UUID = scope_user_id(session)

    def get(self, id: uuid.UUID, *, for_update: bool = False) -> ModelT:
        """The row with this id in the user's scope, or `NotFoundError`."""
        id = self.checked_id(id)
        identity = (self.user_id, id)
        if for_update:
            obj = self.session.get(self.model, identity, with_for_update=True)
        else:
            obj = entities(self.model).get(self.session, identity)
        if obj is None:
            raise NotFoundError(f"{self.model.__name__} {id} not found")
        return obj  # type: ignore[no-any-return]

    def _tracked(self, values: Mapping[str, Any]) -> ModelT:
        """The model of a row this unit has just written by a compiled INSERT with these
        values (every column's but the owner's), tracked as if the unit had loaded it."""
        return entities(self.model).track(self.session, {**values, "user_id": self.user_id})  # type: ignore[no-any-return]

    def checked_id(self, id: object) -> uuid.UUID:
        """`id`, refused unless it is a UUID (the column type's refusal would name no field)."""
        if not isinstance(id, uuid.UUID):
            raise ValidationError.single("id", "must be a UUID", model=self.model.__name__)
        return id

    def add(self, obj: ModelT) -> ModelT:
        with write(self.session):
            self.session.add(obj)
        return obj

    def create_from(self, data: BaseModel, **extra: Any) -> ModelT:
        """A new row from a validated create schema."""
        return self.add(self.model(**data.model_dump(), **extra))

    def update_from(
        self, id: uuid.UUID, changes: BaseModel, *, expected_updated_at: datetime | None = None
    ) -> ModelT:
        """Apply the fields set in `changes`; with `expected_updated_at`, refuse a stale write."""
        obj = self.get_unchanged(id, expected_updated_at)
        with write(self.session):
            self.apply(obj, changes.model_dump(exclude_unset=True))
        return obj

    def get_unchanged(self, id: uuid.UUID, expected_updated_at: datetime | None) -> ModelT:
        """The row about to be updated; with `expected_updated_at`, locked, and refused with
        `ConflictError` if it was changed after that version.

        For domain updates that write more than the row's own fields in one `write`.
        """
        obj = self.get(id)
        if expected_updated_at is not None and hasattr(obj, "updated_at"):
            # Lock the row and re-read its version. A plain locking `get` would leave a copy
            # this session already holds as it was, hiding a write committed since then.
            self.session.refresh(obj, ["updated_at"], with_for_update=True)
        current = getattr(obj, "updated_at", None)
        if expected_updated_at is not None and current != expected_updated_at:
            raise ConflictError(
                f"{self.model.__name__} {id} was changed at {current}, "
                f"after the version read at {expected_updated_at.isoformat()}"
            )
        return obj

    def apply(self, obj: ModelT, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(obj, name, value)

    def delete(self, id: uuid.UUID) -> None:
        obj = self.get(id)
        with write(self.session):
            self.session.delete(obj)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model)) or 0
