"""Identifier formats: requirement and specification keys, command and parameter names.

Each format is enforced twice, like every rule of the spec: a pydantic type with a message a
test engineer understands, and a CHECK that the database applies to plain SQL too. SQLite has
no regular expressions, so the CHECKs use `ltrim`/`substr`/`replace`, which both backends
share and which express these formats exactly.
"""

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import CheckConstraint, text

from tasktracker.db.constraints import field_check

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"

KEY_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*")
COMMAND_NAME_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*")
PARAMETER_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
PLACEHOLDER_PATTERN = re.compile(r"\{([^{}]*)\}")

KEY_MESSAGE = (
    "must look like REQ-001: groups of capital letters and digits joined by single dashes, "
    "starting with a letter"
)
COMMAND_NAME_MESSAGE = (
    "must look like SET_VOLTAGE: capital letters, digits and _, starting with a letter"
)
PARAMETER_NAME_MESSAGE = (
    "must look like supply_voltage: lowercase letters, digits and _, starting with a letter"
)


def _matching(pattern: re.Pattern[str], kind: str, message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise PydanticCustomError(kind, message)
        return value

    return check


Key = Annotated[str, AfterValidator(_matching(KEY_PATTERN, "key_format", KEY_MESSAGE))]
"""A requirement or specification key such as `REQ-001` or `SYS-PWR-12`."""

CommandName = Annotated[
    str, AfterValidator(_matching(COMMAND_NAME_PATTERN, "command_name", COMMAND_NAME_MESSAGE))
]
ParameterName = Annotated[
    str, AfterValidator(_matching(PARAMETER_NAME_PATTERN, "parameter_name", PARAMETER_NAME_MESSAGE))
]


def _only_chars(column: str, allowed: str, first: str) -> str:
    return (
        f"length({column}) > 0 AND ltrim({column}, '{allowed}') = '' "
        f"AND ltrim(substr({column}, 1, 1), '{first}') = ''"
    )


def key_check(column: str = "key") -> CheckConstraint:
    """`[A-Z][A-Z0-9]*(-[A-Z0-9]+)*`: allowed characters, a letter first, no `--`, no final `-`."""
    sql = (
        _only_chars(column, _UPPER + _DIGITS + "-", _UPPER)
        + f" AND replace({column}, '--', '') = {column}"
        + f" AND substr({column}, length({column}), 1) <> '-'"
    )
    return field_check(column, text(sql), "format", KEY_MESSAGE)


def command_name_check(column: str = "name") -> CheckConstraint:
    sql = _only_chars(column, _UPPER + _DIGITS + "_", _UPPER)
    return field_check(column, text(sql), "format", COMMAND_NAME_MESSAGE)


def parameter_name_check(column: str = "name") -> CheckConstraint:
    sql = _only_chars(column, _LOWER + _DIGITS + "_", _LOWER)
    return field_check(column, text(sql), "format", PARAMETER_NAME_MESSAGE)


def placeholders(syntax: str) -> list[str]:
    """The `{name}` placeholders of a command's syntax template, in order of appearance."""
    return PLACEHOLDER_PATTERN.findall(syntax)
