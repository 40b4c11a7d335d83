"""`conversations` and `messages`: a user's chats with the assistant."""

import enum
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, JsonValue
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, ForeignKeyConstraint, Index, Text, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.db.base import Created, TenantModel, Timestamped
from tasktracker.db.constraints import field_check
from tasktracker.db.search import SearchIndex
from tasktracker.db.settings import get_settings
from tasktracker.db.text import CleanText, NonBlank, RequiredText
from tasktracker.db.types import StrEnumType, UTCDateTime

NOT_BLANK_SQL = "length(trim(content)) > 0"
USAGE_REPORTED = "input_tokens IS NOT NULL OR output_tokens IS NOT NULL"
"""The messages the usage aggregates count (`tasktracker.chat.usage`)."""
JSON_DOCUMENT = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""JSONB on PostgreSQL, JSON (text) on SQLite; `None` is SQL NULL, not JSON `null`."""


class MessageRole(enum.StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class MessageStatus(enum.StrEnum):
    """`streaming` until finished; a finished message (any other status) is immutable."""

    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    ERROR = "error"


def _within_message_max_length(value: str) -> str:
    """The limit is a runtime setting, so it is read at validation time (no static CHECK)."""
    limit = get_settings().message_max_length
    if len(value) > limit:
        raise PydanticCustomError(
            "too_long", "must be at most {limit} characters", {"limit": limit}
        )
    return value


MessageContent = Annotated[str, NonBlank(), AfterValidator(_within_message_max_length)]
"""Non-blank text of at most `message_max_length` characters; the column is unbounded."""
MessageText = Annotated[str, CleanText(), AfterValidator(_within_message_max_length)]
"""`messages.content`: derived from the parts, so empty for a message of tool calls only."""
ShortName = Annotated[str, NonBlank()]


MAX_PROPERTIES_CHARS = 4_000
"""The longest `conversations.properties` as JSON text (checked on validation)."""


def _bounded_properties(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_PROPERTIES_CHARS:
        raise PydanticCustomError(
            "too_long",
            "must be at most {limit} characters as JSON",
            {"limit": MAX_PROPERTIES_CHARS},
        )
    return value


Properties = Annotated[dict[str, JsonValue] | None, AfterValidator(_bounded_properties)]
"""App-defined JSON about a conversation (a project, a UI state), at most 4,000 characters."""


class ConversationFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    title: RequiredText | None = Field(default=None, max_length=200)


class ConversationSettings(SQLModel):
    """Housekeeping a caller sets: shared by the table model, create and update schemas."""

    archived: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    pinned: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    properties: Properties = Field(default=None, sa_type=JSON_DOCUMENT)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When `purge_expired` may delete the conversation (None: never)."""


class MessageUsage(SQLModel):
    """Provenance and billing of a (typically assistant) message; every field optional."""

    model: ShortName | None = Field(default=None, max_length=100)
    provider: ShortName | None = Field(default=None, max_length=50)
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cached_tokens: int | None = Field(default=None, ge=0)
    reasoning_tokens: int | None = Field(default=None, ge=0)
    finish_reason: ShortName | None = Field(default=None, max_length=50)
    latency_ms: int | None = Field(default=None, ge=0)


class MessageFields(MessageUsage):
    """The stored fields of a message, shared by the table model and its read schema."""

    role: MessageRole = Field(sa_type=StrEnumType(MessageRole))
    content: MessageText = Field(sa_type=Text)
    # None: a message stored before parts existed, which is its `content` as one text part.
    parts: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON_DOCUMENT)
    content_version: int = Field(default=1, ge=1, sa_column_kwargs={"server_default": "1"})
    status: MessageStatus = Field(
        default=MessageStatus.COMPLETE,
        sa_type=StrEnumType(MessageStatus),
        sa_column_kwargs={"server_default": MessageStatus.COMPLETE.value},
    )
    client_message_id: ShortName | None = Field(default=None, max_length=100)


class Conversation(ConversationFields, ConversationSettings, Timestamped, TenantModel, table=True):
    """A chat; `updated_at` also moves forward whenever a message is appended.

    `active_leaf_id` is None while the conversation is linear (every conversation stored
    before branches existed): its path is then all its messages in order. It names the
    leaf of the active branch once a branch is made. No foreign key: one would make
    `conversations` and `messages` reference each other (no parents-first order for
    loading, export or Citus); the repository sets it, and `references` tells the export
    which ids it holds."""

    __tablename__ = "conversations"
    __table_args__ = (
        # Scanned backwards: "most recent first" with the id as tie-breaker, one index scan.
        Index("ix_conversations_user_id_updated_at_id", "user_id", "updated_at", "id"),
        # The purge's batches, across users, oldest expiry first (partial: most never expire).
        Index(
            "ix_conversations_expires_at",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
            sqlite_where=text("expires_at IS NOT NULL"),
        ),
    )

    active_leaf_id: uuid.UUID | None = Field(
        default=None, sa_column_kwargs={"info": {"references": "messages"}}
    )

    messages: list["Message"] = Relationship(
        sa_relationship_kwargs={
            "order_by": "(Message.created_at, Message.id)",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "lazy": "raise",
        }
    )


class Message(MessageFields, Created, TenantModel, table=True):
    """One message of a conversation, immutable once finished (no `updated_at`): only a
    `streaming` message changes, by its deltas and its finish."""

    __tablename__ = "messages"
    __table_args__ = (
        # A message without parts (stored before parts existed, or by plain SQL) is its
        # text, so a finished one needs some; a message with parts derives its (possibly
        # empty) text from them, and a stream's text grows from nothing.
        field_check(
            "content",
            text(f"parts IS NOT NULL OR status <> 'complete' OR {NOT_BLANK_SQL}"),
            "not_blank",
            "must not be blank",
        ),
        ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        # Chronological reads of one conversation, and the FK's cascade lookups.
        Index(
            "ix_messages_user_id_conversation_id_created_at_id",
            "user_id",
            "conversation_id",
            "created_at",
            "id",
        ),
        # A message's parent in the branch tree (NULL: a root, or a linear conversation's).
        # No cascade: messages go with their conversation, in one statement, and a cascade
        # down a chain would recurse once per message (SQLite stops at 1,000 levels).
        ForeignKeyConstraint(["user_id", "parent_id"], ["messages.user_id", "messages.id"]),
        Index("ix_messages_user_id_parent_id", "user_id", "parent_id"),
        # Idempotent appends: a client's id names one message of a conversation. Partial:
        # the planner must not take it for the conversation's other reads (it is small, but
        # not in time order), and the messages without a client id need no entry.
        Index(
            "uq_messages_user_id_conversation_id_client_message_id",
            "user_id",
            "conversation_id",
            "client_message_id",
            unique=True,
            postgresql_where=text("client_message_id IS NOT NULL"),
            sqlite_where=text("client_message_id IS NOT NULL"),
            info={"field": "client_message_id", "message": "names another message"},
        ),
        # The usage aggregates per day or month and per model, and the abandoned streams:
        # partial, holding only the messages each one reads (so the planner does not take
        # the period's index for a conversation's keyset pages either).
        Index(
            "ix_messages_user_id_created_at_usage",
            "user_id",
            "created_at",
            postgresql_where=text(USAGE_REPORTED),
            sqlite_where=text(USAGE_REPORTED),
        ),
        Index(
            "ix_messages_user_id_model_usage",
            "user_id",
            "model",
            postgresql_where=text(USAGE_REPORTED),
            sqlite_where=text(USAGE_REPORTED),
        ),
        Index(
            "ix_messages_user_id_streamed_at_streaming",
            "user_id",
            "streamed_at",
            postgresql_where=text("status = 'streaming'"),
            sqlite_where=text("status = 'streaming'"),
        ),
    )

    conversation_id: uuid.UUID
    parent_id: uuid.UUID | None = None
    depth: int = Field(default=0, ge=0, sa_column_kwargs={"server_default": "0"})
    """Messages from the root to this one, minus one: the path's order (0 while linear)."""
    streamed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the last delta of a streaming message arrived (its start, before any)."""


class ToolCall(Created, TenantModel, table=True):
    """A tool call of an assistant message, indexed so its id is unique in the conversation
    and a tool result can name it (`result_message_id`: the `tool` message answering it)."""

    __tablename__ = "message_tool_calls"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["user_id", "message_id"], ["messages.user_id", "messages.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["user_id", "result_message_id"],
            ["messages.user_id", "messages.id"],
            ondelete="CASCADE",
        ),
        Index(
            "uq_message_tool_calls_user_id_conversation_id_tool_call_id",
            "user_id",
            "conversation_id",
            "tool_call_id",
            unique=True,
            info={"field": "tool_call_id", "message": "is already used in this conversation"},
        ),
        Index("ix_message_tool_calls_user_id_message_id", "user_id", "message_id"),
        Index("ix_message_tool_calls_user_id_result_message_id", "user_id", "result_message_id"),
    )

    conversation_id: uuid.UUID
    message_id: uuid.UUID
    tool_call_id: ShortName = Field(max_length=200)
    tool_name: ShortName = Field(max_length=200)
    result_message_id: uuid.UUID | None = None


class SummaryFields(SQLModel):
    """The fields a caller provides, shared by the table model and its create schema."""

    covers_until_id: uuid.UUID
    """The last message the summary covers: the model sees the summary instead of it and
    the messages before it on the path (the system messages excepted)."""
    text: MessageContent = Field(sa_type=Text)
    model: ShortName | None = Field(default=None, max_length=100)
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)


class TurnSummary(SummaryFields, Created, TenantModel, table=True):
    """A stored summary of a conversation's older turns (`messages_for_model` reads the
    latest one whose covered message is on the active path)."""

    __tablename__ = "conversation_summaries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "conversation_id"],
            ["conversations.user_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["user_id", "covers_until_id"], ["messages.user_id", "messages.id"], ondelete="CASCADE"
        ),
        Index(
            "ix_conversation_summaries_user_id_conversation_id_created_at_id",
            "user_id",
            "conversation_id",
            "created_at",
            "id",
        ),
        Index("ix_conversation_summaries_user_id_covers_until_id", "user_id", "covers_until_id"),
    )

    conversation_id: uuid.UUID


MESSAGE_SEARCH = SearchIndex("message", Message, {"content": "A"}, parent="conversation_id")
"""Messages are searched by their text (`content`, the plain text of their parts)."""
