"""What an append with a `client_message_id` already stored in the conversation returns.

The client retries after a lost answer: the same message again is answered with the one
stored (nothing is written twice); a different message under the same id is a client bug,
refused with `ConflictError` on `client_message_id`.
"""

from __future__ import annotations

from tasktracker.chat.models import Message, MessageRole
from tasktracker.chat.parts import stored
from tasktracker.chat.schemas import MessageCreate
from tasktracker.db.errors import ConflictError


def _conflict(message: Message) -> ConflictError:
    return ConflictError(
        f"client_message_id {message.client_message_id!r} names another message "
        f"({message.id}) of this conversation",
        field="client_message_id",
    )


def retried(message: Message, data: MessageCreate) -> Message:
    parts = None if data.parts is None else stored(data.parts)
    same = (
        message.role is data.role
        and message.content == data.stored_content()
        and message.parts == parts
    )
    if not same:
        raise _conflict(message)
    return message


def reopened(message: Message) -> Message:
    """A retried `open_stream`: the stream it opened, whatever it has become since."""
    if message.role is not MessageRole.ASSISTANT or message.streamed_at is None:
        raise _conflict(message)
    return message
