"""`requirements` and `requirement_test_links`: what must hold, and what verifies it.

A requirement's `revision` starts at 1 and goes up by one whenever its `title` or `statement`
changes (by the ORM on flush, and by a trigger for plain SQL). A link remembers the revision
its specification was reviewed against (`verified_revision`), so changing a requirement makes
its links suspect until someone reviews them. Requirements form a hierarchy through
`parent_id`; deleting a parent leaves its children at the top level (a BEFORE DELETE trigger
sets only `parent_id` to NULL).
"""

import uuid
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    event,
    exists,
    or_,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapper
from sqlmodel import Field, Relationship, SQLModel, col

from tasktracker.db.base import Created, TenantModel, Timestamped, UserOwned
from tasktracker.db.constraints import field_check
from tasktracker.db.search import SearchIndex
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType
from tasktracker.testspec.enums import Priority, RequirementKind, RequirementStatus
from tasktracker.testspec.formats import Key, key_check

if TYPE_CHECKING:
    from tasktracker.testspec.models.specifications import TestSpecification

REVISED_FIELDS = ("title", "statement")
"""Changing one of these makes a new revision of the requirement."""


class RequirementFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    key: Key = Field(max_length=50)
    title: RequiredText = Field(max_length=200)
    statement: RequiredText = Field(sa_type=Text)
    rationale: OptionalText | None = Field(default=None, sa_type=Text)
    kind: RequirementKind = Field(
        default=RequirementKind.FUNCTIONAL,
        sa_type=StrEnumType(RequirementKind),
        sa_column_kwargs={"server_default": RequirementKind.FUNCTIONAL.value},
    )
    priority: Priority = Field(
        default=Priority.MEDIUM,
        sa_type=StrEnumType(Priority),
        sa_column_kwargs={"server_default": Priority.MEDIUM.value},
    )
    status: RequirementStatus = Field(
        default=RequirementStatus.DRAFT,
        sa_type=StrEnumType(RequirementStatus),
        sa_column_kwargs={"server_default": RequirementStatus.DRAFT.value},
    )
    source_ref: OptionalText | None = Field(default=None, max_length=255)
    parent_id: uuid.UUID | None = None


class Requirement(RequirementFields, Timestamped, TenantModel, table=True):
    __tablename__ = "requirements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "parent_id"],
            ["requirements.user_id", "requirements.id"],
            name="fk_requirements_parent",
        ),
        key_check(),
        field_check(
            "parent_id",
            text("parent_id IS NULL OR parent_id <> id"),
            "not_self",
            "a requirement cannot be its own parent",
        ),
        UniqueConstraint(
            "user_id",
            "key",
            name="uq_requirements_user_id_key",
            info={"field": "key", "message": "is already used by another requirement"},
        ),
        Index("ix_requirements_user_id_parent_id", "user_id", "parent_id"),
    )

    revision: int = Field(default=1, ge=1, sa_column_kwargs={"server_default": text("1")})

    parent: Optional["Requirement"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(remote(Requirement.user_id) == Requirement.user_id, "
            "remote(Requirement.id) == foreign(Requirement.parent_id))",
            "back_populates": "children",
            "lazy": "raise",
        }
    )
    children: list["Requirement"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Requirement.user_id == remote(Requirement.user_id), "
            "Requirement.id == foreign(remote(Requirement.parent_id)))",
            "back_populates": "parent",
            "order_by": "Requirement.key",
            # The database's trigger detaches the children; the ORM leaves them alone.
            "passive_deletes": "all",
            "lazy": "raise",
        }
    )
    test_links: list["RequirementTestLink"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Requirement.user_id == RequirementTestLink.user_id, "
            "Requirement.id == foreign(RequirementTestLink.requirement_id))",
            "back_populates": "requirement",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )
    test_specifications: list["TestSpecification"] = Relationship(
        sa_relationship_kwargs={
            "secondary": "requirement_test_links",
            "primaryjoin": "and_(Requirement.user_id == RequirementTestLink.user_id, "
            "Requirement.id == RequirementTestLink.requirement_id)",
            "secondaryjoin": "and_(TestSpecification.user_id == RequirementTestLink.user_id, "
            "TestSpecification.id == RequirementTestLink.test_specification_id)",
            "order_by": "TestSpecification.key",
            "viewonly": True,
            "lazy": "raise",
        }
    )

    @hybrid_property
    def is_covered(self) -> bool:
        """Has a linked test specification (load `test_links` first); usable in queries."""
        return bool(self.test_links)

    @is_covered.inplace.expression
    @classmethod
    def _is_covered_expression(cls) -> ColumnElement[bool]:
        return (
            exists()
            .where(
                col(RequirementTestLink.user_id) == cls.user_id,
                col(RequirementTestLink.requirement_id) == cls.id,
            )
            .correlate_except(RequirementTestLink)
        )


class RequirementTestLink(Created, UserOwned, table=True):
    """A test specification verifies a requirement, as of `verified_revision`."""

    __tablename__ = "requirement_test_links"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            ondelete="CASCADE",
            name="fk_requirement_test_links_requirement",
        ),
        ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            ondelete="CASCADE",
            name="fk_requirement_test_links_test_specification",
        ),
        Index(
            "ix_requirement_test_links_user_id_test_specification_id",
            "user_id",
            "test_specification_id",
        ),
    )

    requirement_id: uuid.UUID = Field(primary_key=True)
    test_specification_id: uuid.UUID = Field(primary_key=True)
    verified_revision: int | None = Field(default=None, ge=1)

    requirement: Requirement = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(Requirement.user_id == RequirementTestLink.user_id, "
            "Requirement.id == foreign(RequirementTestLink.requirement_id))",
            "back_populates": "test_links",
            "lazy": "raise",
        }
    )
    test_specification: "TestSpecification" = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(TestSpecification.user_id == RequirementTestLink.user_id, "
            "TestSpecification.id == foreign(RequirementTestLink.test_specification_id))",
            "back_populates": "requirement_links",
            "lazy": "raise",
        }
    )

    @hybrid_property
    def is_suspect(self) -> bool:
        """Never reviewed, or reviewed against an older revision (load `requirement` first)."""
        return self.verified_revision is None or self.verified_revision < self.requirement.revision

    @is_suspect.inplace.expression
    @classmethod
    def _is_suspect_expression(cls) -> ColumnElement[bool]:
        current = (
            select(col(Requirement.revision))
            .where(
                col(Requirement.user_id) == cls.user_id,
                col(Requirement.id) == cls.requirement_id,
            )
            .correlate_except(Requirement)
            .scalar_subquery()
        )
        verified = col(cls.verified_revision)
        return or_(verified.is_(None), verified < current)


def _changed(target: Requirement, name: str) -> bool:
    history = sa_inspect(target).attrs[name].history
    return bool(history.added) and list(history.added) != list(history.deleted)


@event.listens_for(Requirement, "before_update")
def _next_revision(mapper: Mapper[Any], connection: Any, target: Requirement) -> None:
    """One new revision per flush that changes the title or the statement."""
    if _changed(target, "revision"):
        return
    if any(_changed(target, name) for name in REVISED_FIELDS):
        target.revision += 1


REQUIREMENT_SEARCH = SearchIndex(
    "requirement",
    Requirement,
    {"key": "A", "title": "A", "statement": "B", "rationale": "C"},
    title="title",
)
"""Requirements are searched by key and title, then statement, then rationale."""
