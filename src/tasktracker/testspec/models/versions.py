"""Immutable snapshots: `requirement_versions`, `test_specification_versions`, and
`baselines` (a named, frozen set of requirement versions) with `baseline_requirements`.

A requirement version is written for every revision (revision 1 on create, one more each
time the title or statement changes); a specification version whenever what a run would
send changes (its fields, its steps, their resolved arguments), numbered 1, 2, ... per
specification. Versions are never updated (no `updated_at`); deleting the requirement or
specification deletes its versions (ON DELETE CASCADE), and with them what pins them.
"""

import json
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, JsonValue
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, ForeignKeyConstraint, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tasktracker.db.base import Created, TenantModel, Timestamped, UserOwned
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType
from tasktracker.testspec.enums import (
    Priority,
    RequirementKind,
    RequirementStatus,
    SpecificationStatus,
)
from tasktracker.testspec.formats import Key, key_check

JSON_DOCUMENT = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""JSONB on PostgreSQL, JSON (text) on SQLite; `None` is SQL NULL, not JSON `null`."""


def bounded_json(limit: int) -> AfterValidator:
    """Refuses a JSON document longer than `limit` characters as text."""

    def check(value: Any) -> Any:
        if value is not None and len(json.dumps(value)) > limit:
            raise PydanticCustomError(
                "too_long", "must be at most {limit} characters as JSON", {"limit": limit}
            )
        return value

    return AfterValidator(check)


MAX_SNAPSHOT_CHARS = 1_000_000
"""The longest specification snapshot (its steps and arguments) as JSON text."""

Snapshot = Annotated[dict[str, JsonValue], bounded_json(MAX_SNAPSHOT_CHARS)]


class RequirementVersion(Created, TenantModel, table=True):
    """A requirement as it was at one revision."""

    __tablename__ = "requirement_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            ondelete="CASCADE",
            name="fk_requirement_versions_requirement",
        ),
        UniqueConstraint(
            "user_id",
            "requirement_id",
            "revision",
            name="uq_requirement_versions_revision",
            info={"field": "revision", "message": "is already recorded for this requirement"},
        ),
        key_check(),
    )

    requirement_id: uuid.UUID
    revision: int = Field(ge=1)
    key: Key = Field(max_length=50)
    title: RequiredText = Field(max_length=200)
    statement: RequiredText = Field(sa_type=Text)
    rationale: OptionalText | None = Field(default=None, sa_type=Text)
    kind: RequirementKind = Field(sa_type=StrEnumType(RequirementKind))
    priority: Priority = Field(sa_type=StrEnumType(Priority))
    status: RequirementStatus = Field(sa_type=StrEnumType(RequirementStatus))


class TestSpecificationVersion(Created, TenantModel, table=True):
    """A specification as a run would execute it: its fields and, in `content`, its steps
    with their resolved arguments (`services.versions`)."""

    __tablename__ = "test_specification_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            ondelete="CASCADE",
            name="fk_test_specification_versions_test_specification",
        ),
        UniqueConstraint(
            "user_id",
            "test_specification_id",
            "version",
            name="uq_test_specification_versions_version",
            info={"field": "version", "message": "is already recorded for this specification"},
        ),
        key_check(),
    )

    test_specification_id: uuid.UUID
    version: int = Field(ge=1)
    key: Key = Field(max_length=50)
    title: RequiredText = Field(max_length=200)
    status: SpecificationStatus = Field(sa_type=StrEnumType(SpecificationStatus))
    step_count: int = Field(ge=0)
    digest: RequiredText = Field(max_length=64)
    """SHA-256 of `content`: an unchanged specification records no new version."""
    content: Snapshot = Field(sa_type=JSON_DOCUMENT)


class BaselineFields(SQLModel):
    name: RequiredText = Field(max_length=100)
    description: OptionalText | None = Field(default=None, sa_type=Text)


class Baseline(BaselineFields, Timestamped, TenantModel, table=True):
    """A named, frozen set of requirement versions ("release 1.2")."""

    __tablename__ = "baselines"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "name",
            name="uq_baselines_user_id_name",
            info={"field": "name", "message": "is already used by another baseline"},
        ),
    )


class BaselineRequirement(Created, UserOwned, table=True):
    """One requirement of a baseline, at the version it had when the baseline was frozen."""

    __tablename__ = "baseline_requirements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "baseline_id"],
            ["baselines.user_id", "baselines.id"],
            ondelete="CASCADE",
            name="fk_baseline_requirements_baseline",
        ),
        ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            ondelete="CASCADE",
            name="fk_baseline_requirements_requirement",
        ),
        ForeignKeyConstraint(
            ["user_id", "requirement_version_id"],
            ["requirement_versions.user_id", "requirement_versions.id"],
            ondelete="CASCADE",
            name="fk_baseline_requirements_requirement_version",
        ),
        Index(
            "ix_baseline_requirements_user_id_requirement_id",
            "user_id",
            "requirement_id",
        ),
        Index(
            "ix_baseline_requirements_user_id_requirement_version_id",
            "user_id",
            "requirement_version_id",
        ),
    )

    baseline_id: uuid.UUID = Field(primary_key=True)
    requirement_id: uuid.UUID = Field(primary_key=True)
    requirement_version_id: uuid.UUID
    revision: int = Field(ge=1)
