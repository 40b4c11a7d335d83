"""chat

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:00:11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tasktracker.migrations import ddl

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.CheckConstraint("length(title) <= 200", name=op.f("ck_conversations_title_max_length")),
        sa.CheckConstraint(
            "length(trim(title)) > 0", name=op.f("ck_conversations_title_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_conversations")),
    )
    op.create_index(
        "ix_conversations_user_id_updated_at_id", "conversations", ["user_id", "updated_at", "id"]
    )
    ddl.add_table_defaults("conversations")

    op.create_table(
        "messages",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _created_at(),
        sa.Column("role", sa.String(length=20), nullable=False),
        # Unbounded: the maximum length is a runtime setting, enforced by validation.
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant')", name=op.f("ck_messages_role_allowed")),
        sa.CheckConstraint("length(trim(content)) > 0", name=op.f("ck_messages_content_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            name=op.f("fk_messages_user_id_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_messages_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_user_id_conversation_id_created_at_id",
        "messages",
        ["user_id", "conversation_id", "created_at", "id"],
    )
    ddl.add_table_defaults("messages", updated_at=False)

    ddl.distribute_tables(by_user=["conversations", "messages"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversations")
