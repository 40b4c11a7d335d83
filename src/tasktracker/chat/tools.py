"""The tool calls of a conversation: each call id once, each result answering an earlier call.

The parts themselves stay in `messages.parts`; `message_tool_calls` indexes the calls so the
database keeps a call id unique within its conversation (a unique index, also against a
concurrent writer) and a result can be matched to its call in one indexed UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.chat.models import Message, MessageRole, ToolCall
from tasktracker.chat.parts import ToolCallPart, ToolResultPart
from tasktracker.db.errors import FieldError, ValidationError

_ONLY_IN: dict[type, MessageRole] = {
    ToolCallPart: MessageRole.ASSISTANT,
    ToolResultPart: MessageRole.TOOL,
}


def check_roles(role: MessageRole, parts: Sequence[Any], field: str = "parts") -> None:
    """Tool calls come from the assistant, tool results in `tool` messages; and a call id
    appears once in a message."""
    errors = []
    seen: set[str] = set()
    for index, part in enumerate(parts):
        expected = _ONLY_IN.get(type(part))
        if expected is not None and role is not expected:
            errors.append(FieldError(f"{field}.{index}", f"a {part.type} needs role {expected}"))
        if isinstance(part, ToolCallPart):
            if part.tool_call_id in seen:
                errors.append(
                    FieldError(f"{field}.{index}.tool_call_id", "is used twice in this message")
                )
            seen.add(part.tool_call_id)
    if errors:
        raise ValidationError(errors, model="Message")


def record(session: Session, message: Message, parts: Sequence[Any]) -> None:
    """Index the message's calls and mark the calls its results answer (flushed by the
    caller's write). A result that answers no earlier, unanswered call of the conversation
    is refused, naming the part."""
    for index, part in enumerate(parts):
        if isinstance(part, ToolCallPart):
            session.add(
                ToolCall(  # type: ignore[call-arg]
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                    tool_call_id=part.tool_call_id,
                    tool_name=part.tool_name,
                )
            )
        elif isinstance(part, ToolResultPart):
            _answer(session, message, part, f"parts.{index}.tool_call_id")


def _answer(session: Session, message: Message, part: ToolResultPart, field: str) -> None:
    statement = (
        update(ToolCall)
        .where(
            col(ToolCall.conversation_id) == message.conversation_id,
            col(ToolCall.tool_call_id) == part.tool_call_id,
            col(ToolCall.result_message_id).is_(None),
        )
        .values(result_message_id=message.id)
        .execution_options(synchronize_session=False)
    )
    if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationError.single(
            field,
            f"{part.tool_call_id!r} answers no earlier unanswered tool call of this conversation",
            model="Message",
        )
