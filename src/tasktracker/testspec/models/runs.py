"""`test_runs`, their `test_executions` and the executions' `test_step_results`.

An execution is pinned to the exact specification version it ran
(`specification_version_id`), so a result stays readable against the steps it was
recorded for after the specification changes. An execution may run one combination of
parameter variants (`combination`, e.g. `supply_voltage=low_battery`; empty for none);
a specification appears once per combination in a run. Attachments are references
(name and URI), never the bytes. Deleting a run deletes its executions and their step
results (ON DELETE CASCADE); so does deleting the specification.
"""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import JsonValue
from sqlalchemy import ForeignKeyConstraint, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from tasktracker.db.base import Created, TenantModel, Timestamped, UserOwned
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType, UTCDateTime
from tasktracker.testspec.enums import ExecutionStatus, RunStatus
from tasktracker.testspec.models.versions import JSON_DOCUMENT, bounded_json

MAX_LABELS_CHARS = 4_000
"""The longest `environment`, `build`, `variants` or `attachments` document as JSON text."""

Labels = Annotated[dict[str, JsonValue] | None, bounded_json(MAX_LABELS_CHARS)]
"""Free labels (`{"os": "linux", "bench": "B2"}`), at most 4,000 characters as JSON."""
Attachments = Annotated[list[dict[str, JsonValue]] | None, bounded_json(MAX_LABELS_CHARS)]
"""References to files kept elsewhere (`[{"name": "log", "uri": "s3://..."}]`)."""


class TestRunFields(SQLModel):
    name: RequiredText = Field(max_length=200)
    status: RunStatus = Field(
        default=RunStatus.PLANNED,
        sa_type=StrEnumType(RunStatus),
        sa_column_kwargs={"server_default": RunStatus.PLANNED.value},
    )
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    environment: Labels = Field(default=None, sa_type=JSON_DOCUMENT)
    build: Labels = Field(default=None, sa_type=JSON_DOCUMENT)


class TestRun(TestRunFields, Timestamped, TenantModel, table=True):
    __tablename__ = "test_runs"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "name",
            name="uq_test_runs_user_id_name",
            info={"field": "name", "message": "is already used by another test run"},
        ),
        Index("ix_test_runs_user_id_created_at_id", "user_id", "created_at", "id"),
    )


class TestExecutionResult(SQLModel):
    """What a tester (or a JUnit report) records about one execution."""

    status: ExecutionStatus = Field(
        default=ExecutionStatus.NOT_RUN,
        sa_type=StrEnumType(ExecutionStatus),
        sa_column_kwargs={"server_default": ExecutionStatus.NOT_RUN.value},
    )
    tester: OptionalText | None = Field(default=None, max_length=100)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_ms: int | None = Field(default=None, ge=0)
    message: OptionalText | None = Field(default=None, sa_type=Text)
    attachments: Attachments = Field(default=None, sa_type=JSON_DOCUMENT)


class TestExecution(TestExecutionResult, Timestamped, TenantModel, table=True):
    __tablename__ = "test_executions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "run_id"],
            ["test_runs.user_id", "test_runs.id"],
            ondelete="CASCADE",
            name="fk_test_executions_run",
        ),
        ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            ondelete="CASCADE",
            name="fk_test_executions_test_specification",
        ),
        ForeignKeyConstraint(
            ["user_id", "specification_version_id"],
            ["test_specification_versions.user_id", "test_specification_versions.id"],
            ondelete="CASCADE",
            name="fk_test_executions_specification_version",
        ),
        UniqueConstraint(
            "user_id",
            "run_id",
            "test_specification_id",
            "combination",
            name="uq_test_executions_combination",
            info={
                "field": "combination",
                "message": "this specification already runs this combination in the run",
            },
        ),
        # Coverage: the latest execution of each specification.
        Index(
            "ix_test_executions_user_id_test_specification_id_created_at",
            "user_id",
            "test_specification_id",
            "created_at",
        ),
        Index(
            "ix_test_executions_user_id_specification_version_id",
            "user_id",
            "specification_version_id",
        ),
    )

    run_id: uuid.UUID
    test_specification_id: uuid.UUID
    specification_version_id: uuid.UUID
    combination: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": text("''")}
    )
    """`parameter=variant` pairs by parameter name, joined by `,`; empty for none."""
    variants: Labels = Field(default=None, sa_type=JSON_DOCUMENT)


class TestStepResultFields(SQLModel):
    status: ExecutionStatus = Field(sa_type=StrEnumType(ExecutionStatus))
    actual_result: OptionalText | None = Field(default=None, sa_type=Text)
    duration_ms: int | None = Field(default=None, ge=0)
    note: OptionalText | None = Field(default=None, sa_type=Text)


class TestStepResult(TestStepResultFields, Created, UserOwned, table=True):
    """The result of one step (by its position in the pinned version) of an execution."""

    __tablename__ = "test_step_results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "execution_id"],
            ["test_executions.user_id", "test_executions.id"],
            ondelete="CASCADE",
            name="fk_test_step_results_execution",
        ),
    )

    execution_id: uuid.UUID = Field(primary_key=True)
    position: int = Field(primary_key=True, ge=1)
