"""A conversation as a chat-completion API takes it: `messages_for_model`'s shape.

Each stored message becomes the messages the OpenAI Chat Completions format (and the
providers that copy it) expects: `system`/`user` with their text (and file references as
content parts), `assistant` with its text and `tool_calls` (arguments as JSON text), and one
`tool` message per tool result. What the model must not see is left out: streaming
messages, reasoning and app data parts, a call that no result answers (an API refuses
it) or that an unfinished (interrupted, error) message made, and results whose call was
left out. A summary stands in for the turns it covers; the system messages before it stay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tasktracker.chat.models import Message, MessageRole, MessageStatus, TurnSummary
from tasktracker.chat.parts import (
    FilePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolResultStatus,
    loaded,
)

SUMMARY_PREFIX = "Summary of the earlier conversation:\n"

ModelMessage = dict[str, Any]


def after_summary(path: Sequence[Message], summary: TurnSummary | None) -> list[Message]:
    """The path's messages the model sees: with a summary, its system messages up to the
    covered message, then the messages after it."""
    if summary is None:
        return list(path)
    ids = [message.id for message in path]
    cut = ids.index(summary.covers_until_id) + 1
    kept = [m for m in path[:cut] if m.role is MessageRole.SYSTEM]
    return [*kept, *path[cut:]]


def for_model(messages: Sequence[Message], summary: TurnSummary | None) -> list[ModelMessage]:
    finished = [m for m in messages if m.status is not MessageStatus.STREAMING]
    parts = {m.id: loaded(m.parts, m.content) for m in finished}
    calls = {p.tool_call_id for m in finished for p in parts[m.id] if _callable(m, p)}
    answered = {p.tool_call_id for m in finished for p in parts[m.id] if _answers(p, calls)}
    shaped: list[ModelMessage] = []
    for message in finished:
        if summary is not None and message.role is not MessageRole.SYSTEM:
            shaped.append({"role": "system", "content": SUMMARY_PREFIX + summary.text})
            summary = None  # after the leading system messages, once
        shaped.extend(_shaped(message, parts[message.id], answered))
    if summary is not None:  # nothing but system messages after it
        shaped.append({"role": "system", "content": SUMMARY_PREFIX + summary.text})
    return shaped


def _callable(message: Message, part: Any) -> bool:
    return isinstance(part, ToolCallPart) and message.status is MessageStatus.COMPLETE


def _answers(part: Any, calls: set[str]) -> bool:
    return isinstance(part, ToolResultPart) and part.tool_call_id in calls


def _shaped(message: Message, parts: list[Any], answered: set[str]) -> list[ModelMessage]:
    if message.role is MessageRole.TOOL:
        return [
            _tool(p) for p in parts if isinstance(p, ToolResultPart) and p.tool_call_id in answered
        ]
    text = "\n\n".join(p.text for p in parts if isinstance(p, TextPart) and p.text)
    if message.role is MessageRole.ASSISTANT:
        tool_calls = [
            _call(p) for p in parts if isinstance(p, ToolCallPart) and p.tool_call_id in answered
        ]
        if not text and not tool_calls:
            return []
        shaped: ModelMessage = {"role": "assistant", "content": text or None}
        if tool_calls:
            shaped["tool_calls"] = tool_calls
        return [shaped]
    files = [p for p in parts if isinstance(p, FilePart)]
    if not files:
        return [{"role": message.role.value, "content": text}] if text else []
    content = [{"type": "text", "text": text}] if text else []
    content.extend(_file(p) for p in files)
    return [{"role": message.role.value, "content": content}]


def _call(part: ToolCallPart) -> ModelMessage:
    arguments = json.dumps(part.arguments, separators=(",", ":"), sort_keys=True)
    return {
        "id": part.tool_call_id,
        "type": "function",
        "function": {"name": part.tool_name, "arguments": arguments},
    }


def _tool(part: ToolResultPart) -> ModelMessage:
    result: Any = part.result
    if part.status is not ToolResultStatus.OK:
        result = {"status": part.status.value, "result": result}
    return {
        "role": "tool",
        "tool_call_id": part.tool_call_id,
        "content": json.dumps(result, separators=(",", ":"), sort_keys=True),
    }


def _file(part: FilePart) -> ModelMessage:
    """A reference the caller resolves (its storage key), never the bytes."""
    return {
        "type": "file",
        "file": {
            "name": part.name,
            "media_type": part.media_type,
            "size": part.size,
            "sha256": part.sha256,
            "storage_key": part.storage_key,
        },
    }
