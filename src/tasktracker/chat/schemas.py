"""Create, update and read schemas for conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, NamedTuple

import pydantic
from pydantic import TypeAdapter, model_validator
from sqlmodel import Field, SQLModel

from tasktracker.chat.models import (
    ConversationFields,
    ConversationSettings,
    MessageContent,
    MessageFields,
    MessageRole,
    MessageStatus,
    MessageUsage,
    ShortName,
    SummaryFields,
)
from tasktracker.chat.parts import Parts, TextPart, plain_text
from tasktracker.chat.usage import Period
from tasktracker.db.base import Schema, field_of
from tasktracker.db.errors import ValidationError
from tasktracker.db.text import CleanText
from tasktracker.db.types import AWARE

_CONTENT: TypeAdapter[str] = TypeAdapter(MessageContent)


class MessageCreate(MessageUsage, Schema):
    """A new message: its `parts`, or, as before parts existed, its text as `content`.

    `content` (non-blank, at most `message_max_length` characters) is shorthand for one
    text part; given `parts`, the stored `content` is derived from them. An optional
    `client_message_id` makes the append idempotent (see `ConversationRepository.append`).
    """

    role: MessageRole
    content: MessageContent | None = None
    parts: Parts | None = None
    client_message_id: ShortName | None = field_of(MessageFields, "client_message_id", default=None)
    parent_id: uuid.UUID | None = None
    """The message this one follows (default: the active leaf); another than the leaf
    starts a branch."""

    @model_validator(mode="after")
    def _content_or_parts(self) -> MessageCreate:
        if (self.content is None) == (self.parts is None):
            raise ValueError("give either content or parts")
        if not self.message_parts():
            raise ValueError("a message needs at least one part")
        return self

    def message_parts(self) -> list[Any]:
        if self.parts is not None:
            return self.parts
        # Not validated again: the table model validates `content` when the row is built.
        return [TextPart.model_construct(text=self.content or "")]

    def stored_content(self) -> str:
        """`messages.content`; `content` itself is checked again (the table column allows
        blank text, which a message of parts may have), for a schema built unvalidated."""
        if self.content is None:
            return plain_text(self.message_parts())
        try:
            return _CONTENT.validate_python(self.content)
        except pydantic.ValidationError as exc:
            message = exc.errors(include_input=False)[0]["msg"]
            raise ValidationError.single("content", message, model="Message") from None


class StreamStart(MessageUsage, Schema):
    """An assistant message opened as `streaming`; `ConversationRepository.stream_delta`
    grows its text and `finish_stream` closes it."""

    client_message_id: ShortName | None = field_of(MessageFields, "client_message_id", default=None)


class StreamFinish(MessageUsage, Schema):
    """How a stream ends: `parts`, when given, replace the streamed text (with the tool
    calls, reasoning... the model produced); otherwise the text becomes one text part."""

    status: MessageStatus = MessageStatus.COMPLETE
    parts: Parts | None = None

    @model_validator(mode="after")
    def _finished(self) -> StreamFinish:
        if self.status is MessageStatus.STREAMING:
            raise ValueError("a stream finishes as complete, interrupted or error")
        return self


class StreamDelta(Schema):
    text: Annotated[str, CleanText(), Field(min_length=1)]


class UsagePeriod(Schema):
    period: Period
    since: Annotated[datetime, AWARE]
    until: Annotated[datetime, AWARE]


class SummaryCreate(SummaryFields, Schema):
    """A summary of the turns up to and including `covers_until_id`."""


class ConversationCreate(ConversationFields, ConversationSettings, Schema):
    """A new conversation, optionally with its first message."""

    first_message: MessageCreate | None = None


class ConversationUpdate(ConversationFields, Schema):
    """`title=None` clears the title."""


class SettingsUpdate(ConversationSettings, Schema):
    """The housekeeping fields to change: only those given (`None` clears `properties` or
    `expires_at`)."""


class MessageRead(SQLModel):
    # Plain types on purpose: a message stored under a higher length limit stays readable.
    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    content: str
    parts: list[dict[str, Any]] | None = Field(default=None)
    status: MessageStatus
    created_at: datetime


class MessageRow(NamedTuple):
    """A message as read by the fast read path (`ConversationRepository.read_latest_messages`):
    immutable, built straight from the row, not tracked by the session."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    content: str
    parts: list[dict[str, Any]] | None
    status: MessageStatus
    created_at: datetime


class ConversationRead(SQLModel):
    id: uuid.UUID
    title: str | None
    archived: bool = False
    pinned: bool = False
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Siblings(NamedTuple):
    """A message's alternatives (edits of a prompt, regenerated answers), oldest first, and
    its place among them, from 1: "2 of 3" is `position=2`, `len(messages)=3`."""

    messages: list[Any]
    position: int


class ConversationSummary(ConversationRead):
    """A row of the conversation list: the conversation and a preview of its last message."""

    last_message_role: MessageRole | None = None
    last_message_preview: str | None = None
    last_message_at: datetime | None = None
