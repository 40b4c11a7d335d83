"""assistant chat

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:00:00

What an assistant that calls tools and streams needs of `messages`, and its tool calls:

- `messages`: roles `system` and `tool`; typed `parts` (JSONB / JSON; NULL for the rows
  stored before, which are their `content` as one text part) and `content_version`;
  `status` (`streaming` ... `complete`, existing rows `complete`) and `streamed_at`; an
  optional `client_message_id`, unique per conversation; usage and provenance (model,
  provider, tokens, finish reason, latency). `content` becomes the derived plain text of
  the parts, so it may be empty (a message of tool calls only, a stream): its `not_blank`
  CHECK now holds only for finished messages without parts (their text is all they have).
- `message_tool_calls`: one row per tool call, `tool_call_id` unique per conversation, and
  the `tool` message answering it (`result_message_id`).
- Branches: `messages.parent_id` (a composite foreign key to `messages`) and `depth`, and
  `conversations.active_leaf_id`; NULL / 0 for every existing row, which keeps the
  existing conversations linear (nothing to backfill).
- `conversations`: `archived`, `pinned` (false), `properties` (app JSON) and `expires_at`,
  with a partial index of the expiring ones for the purge.
- `conversation_summaries`: summaries of older turns (the message they cover until, text,
  model, tokens), which `messages_for_model` puts in place of those turns.

Every new column is nullable or has a constant default, so adding it rewrites nothing. On
PostgreSQL the new CHECKs are added `NOT VALID` (no scan under the exclusive lock); the
indexes on `messages` are built `CONCURRENTLY` after the revision's transaction, in
autocommit, and the CHECKs validated in a last transaction with the version update, each
statement allowing 30 minutes (as 0004 and 0005 do). A build or validation that fails
leaves the database at 0005 with the columns in place, and running the upgrade again
completes it (each step is rerunnable). On SQLite `messages` is rebuilt (batch mode).

The downgrade refuses while a message uses what 0005 cannot store (a `system` or `tool`
role, empty content), naming the column: fix or delete those rows first.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tasktracker.db.errors import ValidationError
from tasktracker.migrations import ddl

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ROLES = "role IN ('user', 'assistant')"
_NEW_ROLES = "role IN ('system', 'user', 'assistant', 'tool')"
_NOT_BLANK_CONTENT = "length(trim(content)) > 0"
_STREAMING = "status = 'streaming'"
_PARENT_FK = "fk_messages_user_id_parent_id_messages"


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _columns() -> list[sa.Column[object]]:
    def text(name: str, length: int) -> sa.Column[object]:
        return sa.Column(name, sa.String(length=length), nullable=True)

    def count(name: str) -> sa.Column[object]:
        return sa.Column(name, sa.Integer(), nullable=True)

    return [
        sa.Column("parts", _json(), nullable=True),
        sa.Column("content_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="complete", nullable=False),
        sa.Column("streamed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("depth", sa.Integer(), server_default="0", nullable=False),
        text("client_message_id", 100),
        text("model", 100),
        text("provider", 50),
        count("input_tokens"),
        count("output_tokens"),
        count("cached_tokens"),
        count("reasoning_tokens"),
        text("finish_reason", 50),
        count("latency_ms"),
    ]


def _conversation_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("active_leaf_id", sa.Uuid(), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("properties", _json(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    ]


_EXPIRES_INDEX = "ix_conversations_expires_at"
_EXPIRING = "expires_at IS NOT NULL"


def _checks() -> dict[str, str]:
    """The CHECKs of the new columns (named as the models derive them) and the roles'."""
    checks = {
        "role_allowed": _NEW_ROLES,
        "content_not_blank": f"parts IS NOT NULL OR status <> 'complete' OR {_NOT_BLANK_CONTENT}",
        "content_version_min": "content_version >= 1",
        "depth_min": "depth >= 0",
        "status_allowed": "status IN ('streaming', 'complete', 'interrupted', 'error')",
    }
    for column, length in (
        ("client_message_id", 100),
        ("model", 100),
        ("provider", 50),
        ("finish_reason", 50),
    ):
        checks[f"{column}_max_length"] = f"length({column}) <= {length}"
        checks[f"{column}_not_blank"] = f"length(trim({column})) > 0"
    for column in ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens"):
        checks[f"{column}_min"] = f"{column} >= 0"
    checks["latency_ms_min"] = "latency_ms >= 0"
    return checks


def _indexes() -> dict[str, tuple[list[str], dict[str, Any]]]:
    where = sa.text(_STREAMING)
    with_id = sa.text("client_message_id IS NOT NULL")
    usage = sa.text("input_tokens IS NOT NULL OR output_tokens IS NOT NULL")
    return {
        "uq_messages_user_id_conversation_id_client_message_id": (
            ["user_id", "conversation_id", "client_message_id"],
            {"unique": True, "postgresql_where": with_id, "sqlite_where": with_id},
        ),
        "ix_messages_user_id_parent_id": (["user_id", "parent_id"], {}),
        "ix_messages_user_id_created_at_usage": (
            ["user_id", "created_at"],
            {"postgresql_where": usage, "sqlite_where": usage},
        ),
        "ix_messages_user_id_model_usage": (
            ["user_id", "model"],
            {"postgresql_where": usage, "sqlite_where": usage},
        ),
        "ix_messages_user_id_streamed_at_streaming": (
            ["user_id", "streamed_at"],
            {"postgresql_where": where, "sqlite_where": where},
        ),
    }


@contextmanager
def _autocommit() -> Iterator[None]:
    """PostgreSQL: outside the revision's transaction, allowing 30 minutes per statement."""
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = '30min'")
        yield
        as_sql = op.get_context().as_sql
        op.execute("SET statement_timeout = '60s'" if as_sql else "RESET statement_timeout")


def _drop_constraint(name: str) -> None:
    # Rerunnable: a failed run may have left it. Dropping it removes no guarantee that the
    # checks added in its place do not restore (or, for content, that 0006 gives up).
    op.execute(
        f"-- squawk-ignore ban-drop-constraint\nALTER TABLE messages DROP CONSTRAINT IF EXISTS {name}"
    )


def _create_tool_calls() -> None:
    # IF NOT EXISTS: squawk reads the statements after the autocommit block as outside a
    # transaction, and wants each rerunnable (the transaction makes them so anyway).
    postgres = _is_postgres()
    op.create_table(
        "message_tool_calls",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        # The UUIDv7 default of `ddl.add_table_defaults`, in the CREATE (one statement less
        # for squawk to find outside a transaction).
        sa.Column(
            "id",
            sa.Uuid(),
            server_default=sa.text(f"{ddl.UUID7_FUNCTION}()") if postgres else None,
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("tool_call_id", sa.String(length=200), nullable=False),
        sa.Column("tool_name", sa.String(length=200), nullable=False),
        sa.Column("result_message_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "length(tool_call_id) <= 200",
            name=op.f("ck_message_tool_calls_tool_call_id_max_length"),
        ),
        sa.CheckConstraint(
            "length(trim(tool_call_id)) > 0",
            name=op.f("ck_message_tool_calls_tool_call_id_not_blank"),
        ),
        sa.CheckConstraint(
            "length(tool_name) <= 200", name=op.f("ck_message_tool_calls_tool_name_max_length")
        ),
        sa.CheckConstraint(
            "length(trim(tool_name)) > 0", name=op.f("ck_message_tool_calls_tool_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            name=op.f("fk_message_tool_calls_user_id_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "message_id"],
            ["messages.user_id", "messages.id"],
            name=op.f("fk_message_tool_calls_user_id_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "result_message_id"],
            ["messages.user_id", "messages.id"],
            name=op.f("fk_message_tool_calls_user_id_result_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_tool_calls_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_message_tool_calls")),
        if_not_exists=postgres,
    )
    op.create_index(
        "uq_message_tool_calls_user_id_conversation_id_tool_call_id",
        "message_tool_calls",
        ["user_id", "conversation_id", "tool_call_id"],
        unique=True,
        if_not_exists=postgres,
    )
    op.create_index(
        "ix_message_tool_calls_user_id_message_id",
        "message_tool_calls",
        ["user_id", "message_id"],
        if_not_exists=postgres,
    )
    op.create_index(
        "ix_message_tool_calls_user_id_result_message_id",
        "message_tool_calls",
        ["user_id", "result_message_id"],
        if_not_exists=postgres,
    )


def _create_summaries() -> None:
    postgres = _is_postgres()
    op.create_table(
        "conversation_summaries",
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
        sa.Column("covers_until_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        *(
            sa.CheckConstraint(sql, name=op.f(f"ck_conversation_summaries_{name}"))
            for name, sql in (
                ("text_not_blank", "length(trim(text)) > 0"),
                ("model_max_length", "length(model) <= 100"),
                ("model_not_blank", "length(trim(model)) > 0"),
                ("input_tokens_min", "input_tokens >= 0"),
                ("output_tokens_min", "output_tokens >= 0"),
            )
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            name=op.f("fk_conversation_summaries_user_id_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "covers_until_id"],
            ["messages.user_id", "messages.id"],
            name=op.f("fk_conversation_summaries_user_id_covers_until_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_summaries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_conversation_summaries")),
        if_not_exists=postgres,
    )
    op.create_index(
        "ix_conversation_summaries_user_id_conversation_id_created_at_id",
        "conversation_summaries",
        ["user_id", "conversation_id", "created_at", "id"],
        if_not_exists=postgres,
    )
    op.create_index(
        "ix_conversation_summaries_user_id_covers_until_id",
        "conversation_summaries",
        ["user_id", "covers_until_id"],
        if_not_exists=postgres,
    )


def _upgrade_postgresql() -> None:
    for column in _columns():
        op.add_column("messages", column, if_not_exists=True)
    for name, sql in _checks().items():
        _drop_constraint(f"ck_messages_{name}")
        op.create_check_constraint(
            op.f(f"ck_messages_{name}"), "messages", sql, postgresql_not_valid=True
        )
    _drop_constraint(_PARENT_FK)  # rerunnable, as the checks
    op.execute(
        f"ALTER TABLE messages ADD CONSTRAINT {_PARENT_FK} FOREIGN KEY (user_id, parent_id) "
        "REFERENCES messages (user_id, id) NOT VALID"
    )
    for column in _conversation_columns():
        op.add_column("conversations", column, if_not_exists=True)
    _create_tool_calls()
    _create_summaries()
    with _autocommit():
        for name, (columns, options) in _indexes().items():
            op.drop_index(name, table_name="messages", postgresql_concurrently=True, if_exists=True)
            op.create_index(
                name,
                "messages",
                columns,
                postgresql_concurrently=True,
                if_not_exists=True,
                **options,
            )
        op.drop_index(
            _EXPIRES_INDEX,
            table_name="conversations",
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.create_index(
            _EXPIRES_INDEX,
            "conversations",
            ["expires_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
            postgresql_where=sa.text(_EXPIRING),
        )
    # In the transaction after the builds, with the version update (as 0004 validates):
    # VALIDATE scans the table without blocking its reads or writes.
    op.execute("SET LOCAL statement_timeout = '30min'")
    for name in [*(f"ck_messages_{check}" for check in _checks()), _PARENT_FK]:
        op.execute(f"ALTER TABLE messages VALIDATE CONSTRAINT {name}")


def _upgrade_sqlite() -> None:
    with op.batch_alter_table("messages", recreate="always") as messages:
        for column in _columns():
            messages.add_column(column)
        # Both come back, under their names, with their new rules.
        messages.drop_constraint(op.f("ck_messages_content_not_blank"), type_="check")
        messages.drop_constraint(op.f("ck_messages_role_allowed"), type_="check")
        for name, sql in _checks().items():
            messages.create_check_constraint(op.f(f"ck_messages_{name}"), sql)
        messages.create_foreign_key(
            op.f(_PARENT_FK),
            "messages",
            ["user_id", "parent_id"],
            ["user_id", "id"],
        )
    for column in _conversation_columns():
        op.add_column("conversations", column)
    op.create_index(
        _EXPIRES_INDEX, "conversations", ["expires_at"], sqlite_where=sa.text(_EXPIRING)
    )
    for name, (columns, options) in _indexes().items():
        op.create_index(name, "messages", columns, **options)
    _create_tool_calls()
    _create_summaries()


def upgrade() -> None:
    if _is_postgres():
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    ddl.distribute_tables(by_user=["message_tool_calls", "conversation_summaries"])


def _refuse_new_rows() -> None:
    """Rows that 0005's CHECKs refuse stop the downgrade before anything changes."""
    for column, condition in (("role", _OLD_ROLES), ("content", _NOT_BLANK_CONTENT)):
        sql = f"SELECT count(*) FROM messages WHERE NOT ({condition})"
        found = int(op.get_bind().execute(sa.text(sql)).scalar_one())
        if found:
            raise ValidationError.single(
                f"messages.{column}",
                f"{found} message(s) cannot be stored before 0006: delete them, then downgrade",
            )


def downgrade() -> None:
    if not op.get_context().as_sql:
        _refuse_new_rows()
    op.drop_table("conversation_summaries")
    op.drop_table("message_tool_calls")
    names = [f"ck_messages_{name}" for name in _checks()]
    columns = [column.name for column in _columns()]
    if _is_postgres():
        with _autocommit():
            for name in reversed(_indexes()):
                op.drop_index(
                    name, table_name="messages", postgresql_concurrently=True, if_exists=True
                )
            op.drop_index(
                _EXPIRES_INDEX,
                table_name="conversations",
                postgresql_concurrently=True,
                if_exists=True,
            )
        op.drop_constraint(op.f(_PARENT_FK), "messages", type_="foreignkey")
        for name in names:
            op.drop_constraint(op.f(name), "messages", type_="check")
        for column in reversed(columns):
            op.drop_column("messages", column)
        for added in reversed(_conversation_columns()):
            op.drop_column("conversations", added.name)
        op.create_check_constraint(op.f("ck_messages_role_allowed"), "messages", _OLD_ROLES)
        op.create_check_constraint(
            op.f("ck_messages_content_not_blank"), "messages", _NOT_BLANK_CONTENT
        )
        return
    for name in reversed(_indexes()):
        op.drop_index(name, table_name="messages")
    op.drop_index(_EXPIRES_INDEX, table_name="conversations")
    with op.batch_alter_table("conversations") as conversations:
        for added in reversed(_conversation_columns()):
            conversations.drop_column(added.name)
    with op.batch_alter_table("messages", recreate="always") as messages:
        messages.drop_constraint(op.f(_PARENT_FK), type_="foreignkey")
        for name in names:
            messages.drop_constraint(op.f(name), type_="check")
        for column in reversed(columns):
            messages.drop_column(column)
        messages.create_check_constraint(op.f("ck_messages_role_allowed"), _OLD_ROLES)
        messages.create_check_constraint(op.f("ck_messages_content_not_blank"), _NOT_BLANK_CONTENT)
