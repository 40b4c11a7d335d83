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
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload
from sqlmodel import col

from tasktracker.chat import branches, housekeeping, replay
from tasktracker.chat.conversation_base import ConversationBase
from tasktracker.chat.models import (
    MESSAGE_SEARCH,
    Conversation,
    ConversationSettings,
    Message,
    MessageUsage,
    TurnSummary,
)
from tasktracker.chat.parts import PARTS_VERSION
from tasktracker.chat.parts import stored as stored_parts
from tasktracker.chat.retries import retried
from tasktracker.chat.schemas import (
    ConversationCreate,
    ConversationSummary,
    ConversationUpdate,
    MessageCreate,
    MessageRow,
    SettingsUpdate,
    Siblings,
    SummaryCreate,
)
from tasktracker.chat.tools import check_roles, record
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.fastpath.steps import OnSession, Steps, run_steps
from tasktracker.db.listing import Equals, Listing, ListingFilter, NoFilter
from tasktracker.db.pagination import (
    MAX_PAGE_SIZE,
    Ordering,
    Page,
    SortKey,
    check_limit,
    decode_cursor,
    encode_cursor,
)
from tasktracker.db.repository import validated, write
from tasktracker.db.search import SearchHit, search
from tasktracker.db.types import utc_now


def _batch_size(batch: int) -> int:
    if not 1 <= batch <= MAX_PAGE_SIZE:
        raise ValidationError.single("batch", f"must be between 1 and {MAX_PAGE_SIZE}")
    return batch


PREVIEW_LENGTH = 200
"""Characters of the last message shown in the conversation list."""


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
        archived=conversation.archived,
        pinned=conversation.pinned,
        expires_at=conversation.expires_at,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        last_message_role=role,
        last_message_preview=preview,
        last_message_at=at,
    )


class ConversationRepository(ConversationBase):
    def start(self, data: ConversationCreate | Mapping[str, Any]) -> Conversation:
        """A new conversation, with its first message if given; `messages` is loaded."""
        data = validated(ConversationCreate, data)
        first = data.first_message
        if first is not None:
            check_roles(first.role, first.message_parts(), "first_message.parts")
        now = utc_now()
        settings = data.model_dump(include=set(ConversationSettings.model_fields))
        conversation = Conversation(title=data.title, created_at=now, messages=[], **settings)
        with write(self.session):
            self.session.add(conversation)
            if first is not None:
                message = self._new_message(conversation, first, now)
                conversation.messages.append(message)
                self.session.flush()
                record(self.session, message, first.message_parts())
        return conversation

    def append(
        self, conversation_id: uuid.UUID, data: MessageCreate | Mapping[str, Any]
    ) -> Message:
        """Add a message and move the conversation's `updated_at` to its `created_at`.

        The conversation row is locked (PostgreSQL) so concurrent appends to one
        conversation are serialised and keep their order. With a `client_message_id`
        already stored in the conversation, an exact retry (same role, content and parts)
        returns the stored message and writes nothing; anything else is `ConflictError`.
        Tool calls are indexed (their ids unique in the conversation); a tool result must
        answer an earlier, unanswered call (else `ValidationError` naming the part).
        """
        data = validated(MessageCreate, data)
        parts = data.message_parts()
        check_roles(data.role, parts)
        conversation = self._locked(conversation_id)
        if data.client_message_id is not None:
            stored = self._by_client_id(conversation_id, data.client_message_id)
            if stored is not None:
                return retried(stored, data)
        named = data.parent_id
        if named is not None:
            self._in(conversation, named, "parent_id")  # refused before anything changes
        # One savepoint: a message refused after the first branch undoes the branch too.
        with write(self.session):
            linear = conversation.active_leaf_id is None
            if linear and named not in {None, branches.latest_id(self.session, conversation.id)}:
                branches.link_chain(self.session, conversation)
            if conversation.active_leaf_id is None:
                return self._insert(conversation, data, parts)
            parent = self._in(conversation, named or conversation.active_leaf_id, "parent_id")
            return self._insert(conversation, data, parts, parent.id, parent.depth + 1)

    def add_sibling(
        self, message_id: uuid.UUID, data: MessageCreate | Mapping[str, Any]
    ) -> Message:
        """An alternative to a message (an edited prompt, a regenerated answer): a new
        message with the same parent, which becomes the active leaf. History is unchanged."""
        data = validated(MessageCreate, data)
        if data.parent_id is not None:
            raise ValidationError.single("parent_id", "is the sibling's own parent: leave it out")
        parts = data.message_parts()
        check_roles(data.role, parts)
        conversation = self._locked(self.message(message_id).conversation_id)
        with write(self.session):  # as in `append`: a refused message leaves no branch
            if conversation.active_leaf_id is None:
                branches.link_chain(self.session, conversation)
            original = self.message(message_id)
            return self._insert(conversation, data, parts, original.parent_id, original.depth)

    def siblings(self, message_id: uuid.UUID) -> Siblings:
        """The message and its alternatives, oldest first, with its position among them."""
        message = self.message(message_id)
        if message.parent_id is None and message.depth == 0:
            conversation = self.get(message.conversation_id)
            if conversation.active_leaf_id is None:  # linear: no alternatives
                return Siblings([message], 1)
        found = builtins.list(self.session.scalars(branches.siblings(message)))
        return Siblings(found, branches.position_of(message, found))

    def switch_leaf(self, conversation_id: uuid.UUID, message_id: uuid.UUID) -> Conversation:
        """Make `message_id` the active leaf: the active path then ends there."""
        conversation = self._locked(conversation_id)
        with write(self.session):
            if conversation.active_leaf_id is None:
                branches.link_chain(self.session, conversation)
            conversation.active_leaf_id = self._in(conversation, message_id, "message_id").id
            conversation.updated_at = self._next_timestamp(conversation)
        return conversation

    def active_path(
        self, conversation_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """The latest `limit` messages of the active path (root → leaf), in order;
        `next_cursor` goes further back. A linear conversation's path is all its messages
        (`latest_messages`, whose cursors it takes then)."""
        conversation = self.get(conversation_id)
        if conversation.active_leaf_id is None:
            return self.latest_messages(conversation_id, limit=limit, cursor=cursor)
        start, above = conversation.active_leaf_id, cursor is not None
        if cursor is not None:
            _, start = decode_cursor(branches.PATH, cursor)
        statement = branches.path_up(conversation_id, start, check_limit(limit) + 1, above=above)
        found = builtins.list(self.session.scalars(statement))
        more = found[limit:]
        items = found[:limit]
        next_cursor = None
        if more:
            next_cursor = encode_cursor(branches.PATH, (items[-1].depth, items[-1].id))
        return Page(items[::-1], next_cursor)

    def add_summary(
        self, conversation_id: uuid.UUID, data: SummaryCreate | Mapping[str, Any]
    ) -> TurnSummary:
        """Store a summary of the turns up to `covers_until_id` (a message of this
        conversation); `messages_for_model` then sends it in their place."""
        data = validated(SummaryCreate, data)
        conversation = self.get(conversation_id)
        self._in(conversation, data.covers_until_id, "covers_until_id")
        summary = TurnSummary(conversation_id=conversation.id, **data.model_dump())
        with write(self.session):
            self.session.add(summary)
        return summary

    def messages_for_model(self, conversation_id: uuid.UUID) -> builtins.list[dict[str, Any]]:
        """The active path after the latest summary on it, in the shape chat-completion APIs
        take (`role`, `content`, `tool_calls`, `tool_call_id`), ready to send (see
        `tasktracker.chat.replay` for what is left out). Two queries and the path's."""
        conversation = self.get(conversation_id)
        if conversation.active_leaf_id is None:
            path = self.messages(conversation_id)
        else:
            walk = branches.path_up(conversation_id, conversation.active_leaf_id, None)
            path = builtins.list(self.session.scalars(walk))[::-1]
        on_path = {message.id for message in path}
        summaries = (
            select(TurnSummary)
            .where(col(TurnSummary.conversation_id) == conversation_id)
            .order_by(col(TurnSummary.created_at).desc(), col(TurnSummary.id).desc())
        )
        summary = next(
            (s for s in self.session.scalars(summaries) if s.covers_until_id in on_path), None
        )
        return replay.for_model(replay.after_summary(path, summary), summary)

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

    def update_settings(
        self,
        conversation_id: uuid.UUID,
        changes: SettingsUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Conversation:
        """Archive, pin, set `properties` or `expires_at`: only the fields given change."""
        changes = validated(SettingsUpdate, changes)
        return self.update_from(conversation_id, changes, expected_updated_at=expected_updated_at)

    def purge_expired(self, *, batch: int = 500) -> int:
        """Delete up to `batch` of the user's conversations whose `expires_at` has passed,
        with their messages; returns how many (call again while it returns `batch`)."""
        with write(self.session):
            return housekeeping.purge_batch(self.session, utc_now(), _batch_size(batch))

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

    def list(
        self, *, limit: int = 50, cursor: str | None = None, archived: bool | None = None
    ) -> Page[ConversationSummary]:
        """Conversations, most recently active first, each with a preview of its last message.

        One query: the last message is found by a correlated subquery per conversation of
        the page (a backward probe of the messages index), not by loading messages.
        `archived=False` (or `True`) lists only those.
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
        if archived is not None:  # a filter on the rows of the same index scan
            statement = statement.where(col(Conversation.archived) == archived)
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
        return run_steps(self.session, self._read_latest_messages(conversation_id, limit, cursor))

    def _read_latest_messages(
        self, conversation_id: uuid.UUID, limit: int, cursor: str | None
    ) -> Steps[Page[MessageRow]]:
        filter = MessageFilter(conversation_id=conversation_id)
        page = yield from _MESSAGES.row_steps(
            filter, sort=MessageOrder.NEWEST_FIRST, limit=limit, cursor=cursor
        )
        if not page:  # no messages, or no such conversation: the ORM tells
            yield OnSession(lambda: self.get(conversation_id))
        return Page(page.items[::-1], page.next_cursor)

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

    def _insert(
        self,
        conversation: Conversation,
        data: MessageCreate,
        parts: Any,
        parent_id: uuid.UUID | None = None,
        depth: int = 0,
    ) -> Message:
        with write(self.session):
            at = self._next_timestamp(conversation)
            message = self._new_message(conversation, data, at)
            message.parent_id, message.depth = parent_id, depth
            if conversation.active_leaf_id is not None:
                conversation.active_leaf_id = message.id
            conversation.updated_at = at
            self._attach(conversation, message)
            self.session.flush()
            record(self.session, message, parts)
        return message

    @staticmethod
    def _new_message(conversation: Conversation, data: MessageCreate, at: datetime) -> Message:
        # Built field by field so the table model re-validates (content limit read now).
        return Message(
            conversation_id=conversation.id,
            role=data.role,
            content=data.stored_content(),
            parts=None if data.parts is None else stored_parts(data.parts),
            content_version=PARTS_VERSION,
            client_message_id=data.client_message_id,
            created_at=at,
            **data.model_dump(include=set(MessageUsage.model_fields)),
        )
