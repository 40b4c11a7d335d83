"""Queries for conversations and their messages, inside a user's scope (isolation is automatic).

Every write to a conversation — a new message, a rename — moves its `updated_at` strictly
forward, so "most recent first" is one scan of `ix_conversations_user_id_updated_at_id`.
A new message gets the conversation's new `updated_at` as its `created_at`: messages of a
conversation therefore come back in the order they were appended, even when the clock
does not advance between two appends (the `id`, a UUIDv7, breaks any remaining tie).
"""

from __future__ import annotations

import builtins
import enum
import uuid
from collections.abc import Mapping, Sequence, Sized
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from tasktracker.chat.models import MESSAGE_SEARCH, Conversation, Message
from tasktracker.chat.schemas import (
    ConversationCreate,
    ConversationSummary,
    ConversationUpdate,
    MessageCreate,
    MessageRow,
)
from tasktracker.db.errors import NotFoundError
from tasktracker.db.listing import Equals, Listing, ListingFilter, NoFilter
from tasktracker.db.pagination import Ordering, Page, SortKey
from tasktracker.db.repository import TenantRepository, validated, write
from tasktracker.db.search import SearchHit, search
from tasktracker.db.types import utc_now

SizedT = TypeVar("SizedT", bound=Sized)

PREVIEW_LENGTH = 200
"""Characters of the last message shown in the conversation list."""

_ONE_TICK = timedelta(microseconds=1)


class MessageFilter(ListingFilter):
    """The messages of one conversation."""

    conversation_id: Annotated[uuid.UUID, Equals(Message.conversation_id)]


class MessageSearchFilter(ListingFilter):
    """Which messages a search looks in: all the user's, or one conversation's."""

    conversation_id: Annotated[uuid.UUID | None, Equals(Message.conversation_id)] = None


class MessageOrder(enum.StrEnum):
    OLDEST_FIRST = "oldest_first"
    NEWEST_FIRST = "newest_first"


_newest_message = SortKey(Message.created_at, True), SortKey(Message.id, True)  # type: ignore[arg-type]
_MESSAGES = Listing(
    Message,
    MessageFilter,
    {
        MessageOrder.OLDEST_FIRST: Ordering(
            "messages-oldest-first",
            (SortKey(Message.created_at), SortKey(Message.id)),  # type: ignore[arg-type]
        ),
        MessageOrder.NEWEST_FIRST: Ordering("messages-newest-first", _newest_message),
    },
    MessageRow,
)
_CONVERSATIONS = Listing(
    Conversation,
    NoFilter,
    {
        "recent": Ordering(
            "conversations-recent",
            (SortKey(Conversation.updated_at, True), SortKey(Conversation.id, True)),  # type: ignore[arg-type]
        )
    },
)


def _summary(columns: Sequence[Any]) -> ConversationSummary:
    conversation, role, preview, at = columns
    return ConversationSummary(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        last_message_role=role,
        last_message_preview=preview,
        last_message_at=at,
    )


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    def start(self, data: ConversationCreate | Mapping[str, Any]) -> Conversation:
        """A new conversation, with its first message if given; `messages` is loaded."""
        data = validated(ConversationCreate, data)
        now = utc_now()
        conversation = Conversation(title=data.title, created_at=now, messages=[])  # type: ignore[call-arg]
        if data.first_message is not None:
            conversation.messages.append(self._new_message(conversation, data.first_message, now))
        return self.add(conversation)

    def append(
        self, conversation_id: uuid.UUID, data: MessageCreate | Mapping[str, Any]
    ) -> Message:
        """Add a message and move the conversation's `updated_at` to its `created_at`.

        The conversation row is locked (PostgreSQL) so concurrent appends to one
        conversation are serialised and keep their order.
        """
        data = validated(MessageCreate, data)
        conversation = self._locked(conversation_id)
        with write(self.session):
            at = self._next_timestamp(conversation)
            message = self._new_message(conversation, data, at)
            conversation.updated_at = at
            if "messages" in inspect(conversation).unloaded:
                self.session.add(message)
            else:
                conversation.messages.append(message)
        return message

    def rename(
        self,
        conversation_id: uuid.UUID,
        title: str | None,
        *,
        expected_updated_at: datetime | None = None,
    ) -> Conversation:
        """Set (`None`: clear) the title; a stale `expected_updated_at` → `ConflictError`."""
        changes = validated(ConversationUpdate, {"title": title})
        return self.update_from(conversation_id, changes, expected_updated_at=expected_updated_at)

    def apply(self, obj: Conversation, values: dict[str, Any]) -> None:
        super().apply(obj, values)
        if values:
            obj.updated_at = self._next_timestamp(obj)

    def get_with_messages(self, conversation_id: uuid.UUID) -> Conversation:
        """The conversation with `messages` loaded, in chronological order (two queries)."""
        statement = (
            select(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .options(selectinload(Conversation.messages))  # type: ignore[arg-type]
            .execution_options(populate_existing=True)
        )
        conversation = self.session.scalars(statement).one_or_none()
        if conversation is None:
            raise NotFoundError(f"Conversation {conversation_id} not found")
        return conversation

    def list(self, *, limit: int = 50, cursor: str | None = None) -> Page[ConversationSummary]:
        """Conversations, most recently active first, each with a preview of its last message.

        One query: the last message is found by a correlated subquery per conversation of
        the page (a backward probe of the messages index), not by loading messages.
        """
        latest = aliased(Message, name="latest_message")
        latest_id = (
            select(col(Message.id))
            .where(col(Message.conversation_id) == Conversation.id)
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(1)
            .correlate(Conversation)
            .scalar_subquery()
        )
        statement = select(
            Conversation,
            col(latest.role),
            func.substr(latest.content, 1, PREVIEW_LENGTH),
            col(latest.created_at),
        ).outerjoin(latest, col(latest.id) == latest_id)
        return _CONVERSATIONS.page(
            self.session, statement, _summary, sort="recent", limit=limit, cursor=cursor
        )

    def messages(self, conversation_id: uuid.UUID) -> builtins.list[Message]:
        """Every message of the conversation, oldest first."""
        filter = MessageFilter(conversation_id=conversation_id)
        statement = _MESSAGES.ordered(select(Message), filter, sort=MessageOrder.OLDEST_FIRST)
        return self._found(conversation_id, list(self.session.scalars(statement).all()))

    def message_page(
        self, conversation_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """Messages oldest first, `limit` at a time; `next_cursor` continues with newer ones."""
        page = self._messages(conversation_id, MessageOrder.OLDEST_FIRST, limit, cursor)
        return self._found(conversation_id, page)

    def latest_messages(
        self, conversation_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """The latest `limit` messages, in chronological order; `next_cursor` goes further back."""
        page = self._messages(conversation_id, MessageOrder.NEWEST_FIRST, limit, cursor)
        return self._found(conversation_id, Page(page.items[::-1], page.next_cursor))

    def read_latest_messages(
        self, conversation_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[MessageRow]:
        """As `latest_messages`, as read rows: the fast path for callers that only read."""
        filter = MessageFilter(conversation_id=conversation_id)
        page = _MESSAGES.rows(
            self.session, filter, sort=MessageOrder.NEWEST_FIRST, limit=limit, cursor=cursor
        )
        return self._found(conversation_id, Page(page.items[::-1], page.next_cursor))

    def search_messages(
        self,
        query: str,
        *,
        conversation_id: uuid.UUID | None = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
    ) -> Page[SearchHit]:
        """Messages matching `query`, best first, in every conversation or in one (each
        hit's `parent_id` is its conversation); see docs/search.md."""
        criteria = MessageSearchFilter(conversation_id=conversation_id).criteria()
        return search(
            self.session,
            [(MESSAGE_SEARCH, criteria)],
            query,
            limit=limit,
            cursor=cursor,
            prefix=prefix,
        )

    def _messages(
        self, conversation_id: uuid.UUID, order: MessageOrder, limit: int, cursor: str | None
    ) -> Page[Message]:
        filter = MessageFilter(conversation_id=conversation_id)
        return _MESSAGES.entities(self.session, filter, sort=order, limit=limit, cursor=cursor)

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

    @staticmethod
    def _new_message(conversation: Conversation, data: MessageCreate, at: datetime) -> Message:
        # Built field by field so the table model re-validates (content limit read now).
        return Message(  # type: ignore[call-arg]
            conversation_id=conversation.id, role=data.role, content=data.content, created_at=at
        )
