"""Annotated string types: the text rules that validation and the database both enforce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema


def _check_clean(value: str) -> str:
    if value is None:
        return value
    if "\x00" in value:
        raise PydanticCustomError("nul_byte", "must not contain NUL (\\x00) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("bad_unicode", "must be valid Unicode text") from None
    return value


def _check_non_blank(value: str) -> str:
    if value is None:
        return value
    _check_clean(value)
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value


@dataclass(frozen=True)
class CleanText:
    """Refuses NUL characters (PostgreSQL cannot store them) and lone surrogates."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_check_clean, handler(source))


@dataclass(frozen=True)
class NonBlank(CleanText):
    """Required text: non-blank after trimming. The database gets a matching CHECK."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_check_non_blank, handler(source))


RequiredText = Annotated[str, NonBlank()]
OptionalText = Annotated[str, CleanText()]
