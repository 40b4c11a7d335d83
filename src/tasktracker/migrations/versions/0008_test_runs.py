"""test runs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:17:40

Versions, baselines, test runs and their results (docs/testspec.md, "Versions, runs,
coverage, JUnit"): seven new tables, nothing changed in the existing ones, so the revision
rewrites nothing and takes no lock on a table with rows.

- `requirement_versions`, `test_specification_versions`: immutable snapshots (no
  `updated_at`), one per requirement revision / specification version, unique per parent.
- `baselines`, `baseline_requirements`: a named set of requirement versions.
- `test_runs`, `test_executions` (pinned to a specification version), `test_step_results`.

Every key leads with `user_id`, every foreign key between them includes it, and the tables
are distributed by `user_id` on Citus. The downgrade drops them (and their rows).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tasktracker.migrations import ddl

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "baselines",
    "test_runs",
    "requirement_versions",
    "test_specification_versions",
    "baseline_requirements",
    "test_executions",
    "test_step_results",
)
"""Parents first."""
_UPDATED = ("baselines", "test_runs", "test_executions")
_WITH_ID = (
    "baselines",
    "test_runs",
    "requirement_versions",
    "test_specification_versions",
    "test_executions",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _now() -> Any:
    return sa.func.now()


def upgrade() -> None:
    op.create_table(
        "baselines",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.CheckConstraint("length(name) <= 100", name=op.f("ck_baselines_name_max_length")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_baselines_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_baselines_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_baselines")),
        sa.UniqueConstraint("user_id", "name", name="uq_baselines_user_id_name"),
    )
    op.create_table(
        "test_runs",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="planned", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("environment", _json(), nullable=True),
        sa.Column("build", _json(), nullable=True),
        sa.CheckConstraint(
            "status IN ('planned', 'running', 'done')", name=op.f("ck_test_runs_status_allowed")
        ),
        sa.CheckConstraint("length(name) <= 200", name=op.f("ck_test_runs_name_max_length")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_test_runs_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_test_runs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_test_runs")),
        sa.UniqueConstraint("user_id", "name", name="uq_test_runs_user_id_name"),
    )
    op.create_table(
        "requirement_versions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "kind IN ('functional', 'performance', 'interface', 'safety', 'security', 'other')",
            name=op.f("ck_requirement_versions_kind_allowed"),
        ),
        sa.CheckConstraint(
            "length(key) > 0 AND ltrim(key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-') = '' AND ltrim(substr(key, 1, 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') = '' AND replace(key, '--', '') = key AND substr(key, length(key), 1) <> '-'",
            name=op.f("ck_requirement_versions_key_format"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_requirement_versions_priority_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'approved', 'obsolete')",
            name=op.f("ck_requirement_versions_status_allowed"),
        ),
        sa.CheckConstraint(
            'length("key") <= 50', name=op.f("ck_requirement_versions_key_max_length")
        ),
        sa.CheckConstraint(
            "length(title) <= 200", name=op.f("ck_requirement_versions_title_max_length")
        ),
        sa.CheckConstraint(
            "length(trim(statement)) > 0", name=op.f("ck_requirement_versions_statement_not_blank")
        ),
        sa.CheckConstraint(
            "length(trim(title)) > 0", name=op.f("ck_requirement_versions_title_not_blank")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_requirement_versions_revision_min")),
        sa.ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            name="fk_requirement_versions_requirement",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_requirement_versions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_requirement_versions")),
        sa.UniqueConstraint(
            "user_id", "requirement_id", "revision", name="uq_requirement_versions_revision"
        ),
    )
    op.create_table(
        "test_specification_versions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("test_specification_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", _json(), nullable=False),
        sa.CheckConstraint(
            "length(key) > 0 AND ltrim(key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-') = '' AND ltrim(substr(key, 1, 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') = '' AND replace(key, '--', '') = key AND substr(key, length(key), 1) <> '-'",
            name=op.f("ck_test_specification_versions_key_format"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'ready', 'approved', 'obsolete')",
            name=op.f("ck_test_specification_versions_status_allowed"),
        ),
        sa.CheckConstraint(
            'length("key") <= 50', name=op.f("ck_test_specification_versions_key_max_length")
        ),
        sa.CheckConstraint(
            "length(digest) <= 64", name=op.f("ck_test_specification_versions_digest_max_length")
        ),
        sa.CheckConstraint(
            "length(title) <= 200", name=op.f("ck_test_specification_versions_title_max_length")
        ),
        sa.CheckConstraint(
            "length(trim(digest)) > 0", name=op.f("ck_test_specification_versions_digest_not_blank")
        ),
        sa.CheckConstraint(
            "length(trim(title)) > 0", name=op.f("ck_test_specification_versions_title_not_blank")
        ),
        sa.CheckConstraint(
            "step_count >= 0", name=op.f("ck_test_specification_versions_step_count_min")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_test_specification_versions_version_min")),
        sa.ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            name="fk_test_specification_versions_test_specification",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_test_specification_versions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_test_specification_versions")),
        sa.UniqueConstraint(
            "user_id",
            "test_specification_id",
            "version",
            name="uq_test_specification_versions_version",
        ),
    )
    op.create_table(
        "baseline_requirements",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("baseline_id", sa.Uuid(), nullable=False),
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("requirement_version_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_baseline_requirements_revision_min")),
        sa.ForeignKeyConstraint(
            ["user_id", "baseline_id"],
            ["baselines.user_id", "baselines.id"],
            name="fk_baseline_requirements_baseline",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            name="fk_baseline_requirements_requirement",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "requirement_version_id"],
            ["requirement_versions.user_id", "requirement_versions.id"],
            name="fk_baseline_requirements_requirement_version",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_baseline_requirements_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "baseline_id", "requirement_id", name=op.f("pk_baseline_requirements")
        ),
    )
    with op.batch_alter_table("baseline_requirements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_baseline_requirements_user_id_requirement_id",
            ["user_id", "requirement_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_baseline_requirements_user_id_requirement_version_id",
            ["user_id", "requirement_version_id"],
            unique=False,
        )

    op.create_table(
        "test_executions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="not_run", nullable=False),
        sa.Column("tester", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attachments", _json(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("test_specification_id", sa.Uuid(), nullable=False),
        sa.Column("specification_version_id", sa.Uuid(), nullable=False),
        sa.Column(
            "combination", sa.String(length=500), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("variants", _json(), nullable=True),
        sa.CheckConstraint(
            "status IN ('not_run', 'passed', 'failed', 'blocked', 'skipped', 'error')",
            name=op.f("ck_test_executions_status_allowed"),
        ),
        sa.CheckConstraint("duration_ms >= 0", name=op.f("ck_test_executions_duration_ms_min")),
        sa.CheckConstraint(
            "length(combination) <= 500", name=op.f("ck_test_executions_combination_max_length")
        ),
        sa.CheckConstraint(
            "length(tester) <= 100", name=op.f("ck_test_executions_tester_max_length")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "run_id"],
            ["test_runs.user_id", "test_runs.id"],
            name="fk_test_executions_run",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "specification_version_id"],
            ["test_specification_versions.user_id", "test_specification_versions.id"],
            name="fk_test_executions_specification_version",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            name="fk_test_executions_test_specification",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_test_executions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_test_executions")),
        sa.UniqueConstraint(
            "user_id",
            "run_id",
            "test_specification_id",
            "combination",
            name="uq_test_executions_combination",
        ),
    )
    with op.batch_alter_table("test_executions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_test_executions_user_id_specification_version_id",
            ["user_id", "specification_version_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_test_executions_user_id_test_specification_id_created_at",
            ["user_id", "test_specification_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "test_step_results",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actual_result", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('not_run', 'passed', 'failed', 'blocked', 'skipped', 'error')",
            name=op.f("ck_test_step_results_status_allowed"),
        ),
        sa.CheckConstraint("duration_ms >= 0", name=op.f("ck_test_step_results_duration_ms_min")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_test_step_results_position_min")),
        sa.ForeignKeyConstraint(
            ["user_id", "execution_id"],
            ["test_executions.user_id", "test_executions.id"],
            name="fk_test_step_results_execution",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_test_step_results_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "execution_id", "position", name=op.f("pk_test_step_results")
        ),
    )
    op.create_index(
        "ix_test_runs_user_id_created_at_id", "test_runs", ["user_id", "created_at", "id"]
    )
    for table in _WITH_ID:
        ddl.add_table_defaults(table, updated_at=table in _UPDATED)
    ddl.distribute_tables(by_user=list(TABLES))


def downgrade() -> None:
    op.drop_table("test_step_results")
    with op.batch_alter_table("test_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_test_executions_user_id_test_specification_id_created_at")
        batch_op.drop_index("ix_test_executions_user_id_specification_version_id")

    op.drop_table("test_executions")
    with op.batch_alter_table("baseline_requirements", schema=None) as batch_op:
        batch_op.drop_index("ix_baseline_requirements_user_id_requirement_version_id")
        batch_op.drop_index("ix_baseline_requirements_user_id_requirement_id")

    op.drop_table("baseline_requirements")
    op.drop_table("test_specification_versions")
    op.drop_table("requirement_versions")
    op.drop_index("ix_test_runs_user_id_created_at_id", table_name="test_runs")
    op.drop_table("test_runs")
    op.drop_table("baselines")
