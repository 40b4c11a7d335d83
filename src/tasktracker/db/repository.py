"""The generic repository of a tenant model; domain repositories derive from it.

It only flushes, never commits: the unit of work is the transaction boundary. It needs a
user-scoped session, whose criteria already limit every statement to that user.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import pydantic
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasktracker.db.base import TenantModel, validation_error
from tasktracker.db.errors import ConflictError, NotFoundError
from tasktracker.db.tenancy import scope_user_id

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


class TenantRepository(Generic[ModelT]):
    model: ClassVar[type[Any]]

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id: uuid.UUID = scope_user_id(session)

    def get(self, id: uuid.UUID, *, for_update: bool = False) -> ModelT:
        """The row with this id in the user's scope, or `NotFoundError`."""
        obj = self.session.get(self.model, (self.user_id, id), with_for_update=for_update or None)
        if obj is None:
            raise NotFoundError(f"{self.model.__name__} {id} not found")
        return obj  # type: ignore[no-any-return]

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj

    def create_from(self, data: BaseModel, **extra: Any) -> ModelT:
        """A new row from a validated create schema."""
        return self.add(self.model(**data.model_dump(), **extra))

    def update_from(
        self, id: uuid.UUID, changes: BaseModel, *, expected_updated_at: datetime | None = None
    ) -> ModelT:
        """Apply the fields set in `changes`; with `expected_updated_at`, refuse a stale write."""
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
        self.apply(obj, changes.model_dump(exclude_unset=True))
        self.session.flush()
        return obj

    def apply(self, obj: ModelT, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(obj, name, value)

    def delete(self, id: uuid.UUID) -> None:
        self.session.delete(self.get(id))
        self.session.flush()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model)) or 0
