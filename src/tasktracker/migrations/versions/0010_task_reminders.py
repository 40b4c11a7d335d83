"""task reminders

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:30:00

`task_reminders` (`tasktracker.tasks.reminders`, docs/tasks.md): several reminders per task,
at a time or some minutes before the due date, with when each fires and when it was sent;
a composite foreign key to the task, cascading; a partial index of the unsent ones in firing
order for the scheduler's read across users. A new, empty table: nothing to backfill, no
lock on an existing table but the foreign keys' brief ones. Distributed by `user_id` on
Citus, with the rest. The downgrade drops it (and the reminders in it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tasktracker.migrations import ddl

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "task_reminders"
_UNSENT = "sent_at IS NULL"


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "id",
            sa.Uuid(),
            server_default=sa.text(f"{ddl.UUID7_FUNCTION}()") if postgres else None,
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_before_due", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("fires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(remind_at IS NULL) <> (minutes_before_due IS NULL)",
            name=op.f("ck_task_reminders_remind_at_one_kind"),
        ),
        sa.CheckConstraint(
            "minutes_before_due >= 0", name=op.f("ck_task_reminders_minutes_before_due_min")
        ),
        sa.CheckConstraint(
            "minutes_before_due <= 527040", name=op.f("ck_task_reminders_minutes_before_due_max")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "task_id"],
            ["tasks.user_id", "tasks.id"],
            name=op.f("fk_task_reminders_user_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_task_reminders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_task_reminders")),
    )
    op.create_index("ix_task_reminders_user_id_task_id", TABLE, ["user_id", "task_id"])
    op.create_index(
        "ix_task_reminders_fires_at_user_id_id",
        TABLE,
        ["fires_at", "user_id", "id"],
        postgresql_where=sa.text(_UNSENT),
        sqlite_where=sa.text(_UNSENT),
    )
    ddl.distribute_tables(by_user=[TABLE])


def downgrade() -> None:
    op.drop_table(TABLE)
