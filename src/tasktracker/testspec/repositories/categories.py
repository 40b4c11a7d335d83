"""Command and parameter categories; deleting one leaves its members uncategorised."""

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import literal, select

from tasktracker.db.caseless import caseless
from tasktracker.db.errors import NotFoundError
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    Parameter,
    ParameterCategory,
)
from tasktracker.testspec.repositories.common import detach_in_session
from tasktracker.testspec.schemas import CategoryCreate, CategoryUpdate

CategoryT = TypeVar("CategoryT", CommandCategory, ParameterCategory)


class _CategoryRepository(TenantRepository[CategoryT]):
    member: ClassVar[type[Any]]

    def create(self, data: CategoryCreate | Mapping[str, Any]) -> CategoryT:
        return self.create_from(validated(CategoryCreate, data))

    def update(
        self,
        id: uuid.UUID,
        changes: CategoryUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> CategoryT:
        changes = validated(CategoryUpdate, changes)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def get_by_name(self, name: str) -> CategoryT:
        """The category with this name, regardless of case, or `NotFoundError`."""
        found = self.find_by_name(name)
        if found is None:
            raise NotFoundError(f"{self.model.__name__} {name!r} not found")
        return found

    def find_by_name(self, name: str) -> CategoryT | None:
        key = caseless(literal(name))
        statement = select(self.model).where(caseless(self.model.name) == key)
        return self.session.scalars(statement).one_or_none()

    def list(self) -> builtins.list[CategoryT]:
        """Every category, by name regardless of case (unique per user: the unique index on
        it yields the order)."""
        statement = select(self.model).order_by(caseless(self.model.name))
        return builtins.list(self.session.scalars(statement))

    def delete(self, id: uuid.UUID) -> None:
        """Delete the category; its members stay, uncategorised (the database's trigger)."""
        super().delete(id)
        detach_in_session(self.session, self.member, "category_id", id, "category")


class CommandCategoryRepository(_CategoryRepository[CommandCategory]):
    model = CommandCategory
    member = GenericCommand


class ParameterCategoryRepository(_CategoryRepository[ParameterCategory]):
    model = ParameterCategory
    member = Parameter
