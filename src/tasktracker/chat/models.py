"""`conversations` and `messages`: a user's chats with the assistant."""

import enum
import uuid
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import ForeignKeyConstraint, Index, Text
from sqlmodel import Field, Relationship, SQLModel

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.db.base import Created, TenantModel, Timestamped
from tasktracker.db.search import SearchIndex
from tasktracker.db.settings import get_settings
from tasktracker.db.text import NonBlank, RequiredText
from tasktracker.db.types import StrEnumType


class MessageRole(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


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


class ConversationFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    title: RequiredText | None = Field(default=None, max_length=200)


class MessageFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    role: MessageRole = Field(sa_type=StrEnumType(MessageRole))
    content: MessageContent = Field(sa_type=Text)


class Conversation(ConversationFields, Timestamped, TenantModel, table=True):
    """A chat; `updated_at` also moves forward whenever a message is appended."""

    __tablename__ = "conversations"
    __table_args__ = (
        # Scanned backwards: "most recent first" with the id as tie-breaker, one index scan.
        Index("ix_conversations_user_id_updated_at_id", "user_id", "updated_at", "id"),
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
    """One immutable message of a conversation (no `updated_at`)."""

    __tablename__ = "messages"
    __table_args__ = (
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
    )

    conversation_id: uuid.UUID


MESSAGE_SEARCH = SearchIndex("message", Message, {"content": "A"}, parent="conversation_id")
"""Messages are searched by their text (`content`, the plain text of their parts)."""
