"""The typed parts of a message, stored as one JSON array (`messages.parts`).

A discriminated union on `type`, in the shape of the AI SDK's `UIMessage.parts` and the
OpenAI Responses items: text, reasoning, a tool call, a tool result, a file reference and
an app-defined data part. `PARTS_VERSION` is stored with each message (`content_version`),
so a later shape can be read beside this one. `plain_text` derives `messages.content`,
the column that previews and full-text search read.
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, field_validator

from tasktracker.db.text import CleanText, NonBlank

PARTS_VERSION = 1
"""The shape of `parts` written by this code (`messages.content_version`)."""

MAX_PARTS = 100
MAX_JSON_CHARS = 100_000
"""The longest JSON text of a tool call's arguments, a tool result or a data part."""

Identifier = Annotated[str, NonBlank(), Field(max_length=200)]
Text = Annotated[str, CleanText()]


def _bounded(value: JsonValue) -> JsonValue:
    if len(json.dumps(value)) > MAX_JSON_CHARS:
        raise ValueError(f"must be at most {MAX_JSON_CHARS} characters as JSON")
    return value


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: Text


class ReasoningPart(_Part):
    """The model's reasoning, kept for replay; not part of `content`."""

    type: Literal["reasoning"] = "reasoning"
    text: Text


class ToolCallPart(_Part):
    """The assistant asks for a tool: `tool_call_id` is unique within the conversation."""

    type: Literal["tool_call"] = "tool_call"
    tool_call_id: Identifier
    tool_name: Identifier
    arguments: dict[str, JsonValue] = Field(default_factory=dict)

    _arguments = field_validator("arguments")(_bounded)


class ToolResultStatus(enum.StrEnum):
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"
    TIMEOUT = "timeout"


class ToolResultPart(_Part):
    """A tool's answer to an earlier call of the same conversation (role `tool`)."""

    type: Literal["tool_result"] = "tool_result"
    tool_call_id: Identifier
    status: ToolResultStatus = ToolResultStatus.OK
    result: JsonValue = None

    _result = field_validator("result")(_bounded)


class FilePart(_Part):
    """A reference to a stored file, never its bytes."""

    type: Literal["file"] = "file"
    name: Annotated[str, NonBlank(), Field(max_length=255)]
    media_type: Annotated[str, NonBlank(), Field(max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")]
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    storage_key: Annotated[str, NonBlank(), Field(max_length=1000)]


class DataPart(_Part):
    """App-defined structured data (a task card, a chart), named by `name`."""

    type: Literal["data"] = "data"
    name: Identifier
    data: JsonValue = None

    _data = field_validator("data")(_bounded)


Part = Annotated[
    TextPart | ReasoningPart | ToolCallPart | ToolResultPart | FilePart | DataPart,
    Field(discriminator="type"),
]
Parts = Annotated[list[Part], Field(max_length=MAX_PARTS)]
PARTS = TypeAdapter(Parts)


def plain_text(parts: list[Any]) -> str:
    """`content`: the text parts, joined by blank lines (what a preview or a search reads)."""
    return "\n\n".join(part.text for part in parts if isinstance(part, TextPart) and part.text)


def stored(parts: list[Any]) -> list[dict[str, Any]]:
    """The JSON array as the `parts` column stores it."""
    return [part.model_dump(mode="json") for part in parts]


def loaded(value: list[dict[str, Any]] | None, content: str) -> list[Any]:
    """The parts of a stored message; a message stored before parts existed is its text."""
    if value is None:
        return [TextPart(text=content)] if content else []
    return PARTS.validate_python(value)
