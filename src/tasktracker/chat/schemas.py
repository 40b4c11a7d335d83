"""Create, update and read schemas for conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlmodel import SQLModel

from tasktracker.chat.models import ConversationFields, MessageFields, MessageRole
from tasktracker.db.base import Schema


class MessageCreate(MessageFields, Schema):
    """A new message: `content` is non-blank and at most `message_max_length` characters."""


class ConversationCreate(ConversationFields, Schema):
    """A new conversation, optionally with its first message."""

    first_message: MessageCreate | None = None


class ConversationUpdate(ConversationFields, Schema):
    """`title=None` clears the title."""


class MessageRead(SQLModel):
    # Plain types on purpose: a message stored under a higher length limit stays readable.
    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    content: str
    created_at: datetime


class MessageRow(NamedTuple):
    """A message as read by the fast read path (`ConversationRepository.read_latest_messages`):
    immutable, built straight from the row, not tracked by the session."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    content: str
    created_at: datetime


class ConversationRead(SQLModel):
    id: uuid.UUID
    title: str | None
    created_at: datetime
    updated_at: datetime


class ConversationSummary(ConversationRead):
    """A row of the conversation list: the conversation and a preview of its last message."""

    last_message_role: MessageRole | None = None
    last_message_preview: str | None = None
    last_message_at: datetime | None = None
