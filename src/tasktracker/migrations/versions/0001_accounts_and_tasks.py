"""accounts and tasks

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:55:06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tasktracker.migrations import ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    ddl.create_functions()
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("length(email) <= 320", name=op.f("ck_users_email_max_length")),
        sa.CheckConstraint("length(username) <= 50", name=op.f("ck_users_username_max_length")),
        sa.CheckConstraint(
            "length(password_hash) <= 255", name=op.f("ck_users_password_hash_max_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    ddl.add_table_defaults("users")

    op.create_table(
        "categories",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=7), server_default="#6B7280", nullable=False),
        sa.CheckConstraint(
            "length(color) = 7 AND substr(color, 1, 1) = '#' "
            "AND ltrim(substr(color, 2), '0123456789abcdefABCDEF') = ''",
            name=op.f("ck_categories_color_format"),
        ),
        sa.CheckConstraint("length(color) <= 7", name=op.f("ck_categories_color_max_length")),
        sa.CheckConstraint("length(name) <= 100", name=op.f("ck_categories_name_max_length")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_categories_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_categories_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_categories")),
    )
    op.create_index(
        "uq_categories_user_id_name_lower",
        "categories",
        ["user_id", sa.text("lower(name)")],
        unique=True,
    )
    ddl.add_table_defaults("categories")

    op.create_table(
        "tasks",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("priority", sa.String(length=20), server_default="medium", nullable=False),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed' AND completed_at IS NOT NULL) "
            "OR (status <> 'completed' AND completed_at IS NULL)",
            name=op.f("ck_tasks_completed_at_matches_status"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'medium', 'high')", name=op.f("ck_tasks_priority_allowed")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed')",
            name=op.f("ck_tasks_status_allowed"),
        ),
        sa.CheckConstraint(
            "length(description) <= 5000", name=op.f("ck_tasks_description_max_length")
        ),
        sa.CheckConstraint("length(title) <= 200", name=op.f("ck_tasks_title_max_length")),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_tasks_title_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id", "category_id"],
            ["categories.user_id", "categories.id"],
            name=op.f("fk_tasks_user_id_category_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tasks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_user_id_status", "tasks", ["user_id", "status"])
    op.create_index("ix_tasks_user_id_due_date", "tasks", ["user_id", "due_date"])
    op.create_index("ix_tasks_user_id_created_at_id", "tasks", ["user_id", "created_at", "id"])
    op.create_index("ix_tasks_user_id_category_id", "tasks", ["user_id", "category_id"])
    ddl.add_table_defaults("tasks")
    ddl.create_nulling_trigger("categories", "tasks", "category_id")

    ddl.distribute_tables(reference=["users"], by_user=["categories", "tasks"])


def downgrade() -> None:
    ddl.drop_nulling_trigger("categories", "tasks", "category_id")
    op.drop_table("tasks")
    op.drop_table("categories")
    op.drop_table("users")
    ddl.drop_functions()
