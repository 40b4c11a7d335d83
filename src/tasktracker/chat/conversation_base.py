"""The base of `ConversationRepository`: the conversation lock, message lookups, and what
an assistant does besides appending, streaming a message and reading its usage.

Split from `repository.py` for length only; `ConversationRepository` is the one class
callers use (`unit.conversations`).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sized
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from tasktracker.chat import streams
from tasktracker.chat.models import Conversation, Message, MessageRole, MessageStatus
from tasktracker.chat.parts import PARTS_VERSION, plain_text
from tasktracker.chat.parts import stored as stored_parts
from tasktracker.chat.retries import reopened
from tasktracker.chat.schemas import StreamDelta, StreamFinish, StreamStart, UsagePeriod
from tasktracker.chat.tools import check_roles, record
from tasktracker.chat.usage import Period, UsageTotals, period_key, totals, totals_statement
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.pagination import check_limit
from tasktracker.db.repository import TenantRepository, validated, write
from tasktracker.db.types import utc_now

SizedT = TypeVar("SizedT", bound=Sized)

_ONE_TICK = timedelta(microseconds=1)


class ConversationBase(TenantRepository[Conversation]):
    model = Conversation

    def open_stream(
        self, conversation_id: uuid.UUID, data: StreamStart | Mapping[str, Any] | None = None
    ) -> Message:
        """A new assistant message, `streaming`, with no text yet: grow it with
        `stream_delta`, close it with `finish_stream`. Its `client_message_id` (if any) makes
        the open idempotent, as for `append`."""
        start = validated(StreamStart, data or {})
        conversation = self._locked(conversation_id)
        if start.client_message_id is not None:
            stored = self._by_client_id(conversation_id, start.client_message_id)
            if stored is not None:
                return reopened(stored)
        leaf = conversation.active_leaf_id
        parent = None if leaf is None else self._in(conversation, leaf, "parent_id")
        with write(self.session):
            at = self._next_timestamp(conversation)
            message = Message(
                conversation_id=conversation.id,
                role=MessageRole.ASSISTANT,
                content="",
                status=MessageStatus.STREAMING,
                streamed_at=at,
                created_at=at,
                parent_id=None if parent is None else parent.id,
                depth=0 if parent is None else parent.depth + 1,
                **start.model_dump(),
            )
            if leaf is not None:
                conversation.active_leaf_id = message.id
            conversation.updated_at = at
            self._attach(conversation, message)
        return message

    def stream_delta(self, message_id: uuid.UUID, text: str) -> None:
        """Append `text` to a streaming message: one UPDATE of that row only (`content =
        content || text`), so concurrent deltas are serialised by its row lock and none is
        lost. A finished message is immutable (`ConflictError`); the content limit holds."""
        delta = validated(StreamDelta, {"text": text}).text
        self.session.flush()
        if not streams.grow(self.session, self.checked_id(message_id), delta):
            message = self.message(message_id)
            if message.status is not MessageStatus.STREAMING:
                raise streams.finished(message)
            raise ValidationError.single("content", streams.too_long(), model="Message")

    def finish_stream(
        self, message_id: uuid.UUID, data: StreamFinish | Mapping[str, Any] | None = None
    ) -> Message:
        """Close a streaming message as `complete`, `interrupted` or `error`, with its usage
        and, if given, its final parts (its tool calls are then indexed)."""
        end = validated(StreamFinish, data or {})
        message = self.message(message_id, for_update=True)
        if message.status is not MessageStatus.STREAMING:
            raise streams.finished(message)
        parts = end.parts if end.parts is not None else streams.text_parts(message.content)
        check_roles(MessageRole.ASSISTANT, parts)
        with write(self.session):
            for name, value in end.model_dump(exclude={"parts", "status"}).items():
                if value is not None:
                    setattr(message, name, value)
            message.parts = stored_parts(parts)
            message.content_version = PARTS_VERSION
            if end.parts is not None:
                message.content = plain_text(parts)
            message.status = end.status
            record(self.session, message, parts)
        return message

    def abandoned_streams(self, idle: timedelta, *, limit: int = 100) -> builtins.list[Message]:
        """Streaming messages with no delta for `idle`, longest idle first (partial index)."""
        statement = streams.abandoned(utc_now() - idle, check_limit(limit))
        return builtins.list(self.session.scalars(statement))

    def close_abandoned_streams(self, idle: timedelta, *, limit: int = 100) -> int:
        """Close up to `limit` abandoned streams as `interrupted`; returns how many."""
        with write(self.session):
            return streams.close_abandoned(self.session, utc_now() - idle, check_limit(limit))

    def message(self, message_id: uuid.UUID, *, for_update: bool = False) -> Message:
        """One message of the user's, or `NotFoundError` (read afresh: a delta changes it)."""
        key = (self.user_id, self.checked_id(message_id))
        found = self.session.get(
            Message, key, with_for_update=for_update or None, populate_existing=True
        )
        if found is None:
            raise NotFoundError(f"Message {message_id} not found")
        return found

    def usage_by_conversation(self, conversation_id: uuid.UUID) -> UsageTotals:
        """The conversation's summed token usage (one aggregate over its messages index)."""
        statement = totals_statement(None).where(
            col(Message.conversation_id) == self.checked_id(conversation_id)
        )
        found = totals([self.session.execute(statement).one()], False)[0]
        if not found.messages:
            self.get(conversation_id)
        return found

    def usage_by_period(
        self, period: Period, *, since: datetime, until: datetime
    ) -> builtins.list[UsageTotals]:
        """The user's token usage per UTC day or month in `[since, until)`, oldest first."""
        period = validated(UsagePeriod, {"period": period, "since": since, "until": until}).period
        key = period_key(period, self.session.get_bind().dialect.name)
        statement = totals_statement(key).where(
            col(Message.created_at) >= since, col(Message.created_at) < until
        )
        return totals(self.session.execute(statement).all(), True)

    def usage_by_model(self) -> builtins.list[UsageTotals]:
        """The user's token usage per model (messages without a model are left out)."""
        statement = totals_statement(cast(ColumnElement[Any], col(Message.model))).where(
            col(Message.model).is_not(None)
        )
        return totals(self.session.execute(statement).all(), True)

    def _found(self, conversation_id: uuid.UUID, found: SizedT) -> SizedT:
        """`found`; if it is empty, `NotFoundError` unless the conversation is visible."""
        if not found:
            self.get(conversation_id)
        return found

    def _locked(self, conversation_id: uuid.UUID) -> Conversation:
        """The conversation, its row locked (PostgreSQL) and its `updated_at` current."""
        key = (self.user_id, conversation_id)
        loaded = identity_key(Conversation, key) in self.session.identity_map
        conversation = self.session.get(Conversation, key, with_for_update=True)
        if conversation is None:
            raise NotFoundError(f"Conversation {conversation_id} not found")
        if loaded:  # the locking SELECT does not overwrite what this session already holds
            self.session.refresh(conversation, ["updated_at"])
        return conversation

    @staticmethod
    def _next_timestamp(conversation: Conversation) -> datetime:
        """Now, or one microsecond after the current `updated_at` if the clock has not moved."""
        assert conversation.updated_at is not None
        return max(utc_now(), conversation.updated_at + _ONE_TICK)

    def _by_client_id(self, conversation_id: uuid.UUID, client_id: str) -> Message | None:
        statement = select(Message).where(
            col(Message.conversation_id) == conversation_id,
            col(Message.client_message_id) == client_id,
        )
        return self.session.scalars(statement).one_or_none()

    def _in(self, conversation: Conversation, message_id: uuid.UUID, field: str) -> Message:
        """A message of this conversation, read afresh; else `ValidationError` on `field`."""
        found = self.session.get(Message, (self.user_id, message_id), populate_existing=True)
        if found is None or found.conversation_id != conversation.id:
            raise ValidationError.single(field, "is no message of this conversation")
        return found

    def _attach(self, conversation: Conversation, message: Message) -> None:
        if "messages" in inspect(conversation).unloaded:
            self.session.add(message)
        else:
            conversation.messages.append(message)
