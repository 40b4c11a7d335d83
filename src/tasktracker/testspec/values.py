"""Parameter values: text, parsed by the parameter's `data_type`, within its range.

The same rules apply to a parameter's `default_value`, to a variant's `value` and to a step
argument's literal `value`. Formats are strict, so a stored value means one thing:

- integer: optional sign and decimal digits (`-12`, `+3`, `0`);
- float: a finite decimal number, exponent allowed (`12`, `-0.5`, `1e-3`); no `nan`/`inf`;
- boolean: `true` or `false`;
- string: any text (no range applies).
"""

import math
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator

from tasktracker.db.text import CleanText, NonBlank
from tasktracker.testspec.enums import DataType

Value = str | int | float | bool
"""A parsed parameter value."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}


class InvalidValueError(ValueError):
    """A value does not parse as its data type, or lies outside its range."""


def parse_value(data_type: DataType, raw: str) -> Value:
    """The typed value of `raw`, or `InvalidValueError` saying why it is not one."""
    if data_type == DataType.INTEGER:
        if not _INTEGER.fullmatch(raw):
            raise InvalidValueError(f"{raw!r} is not an integer")
        return int(raw)
    if data_type == DataType.FLOAT:
        if not _FLOAT.fullmatch(raw) or not math.isfinite(number := float(raw)):
            raise InvalidValueError(f"{raw!r} is not a finite decimal number")
        return number
    if data_type == DataType.BOOLEAN:
        if raw not in _BOOLEANS:
            raise InvalidValueError(f"{raw!r} is not a boolean (true or false)")
        return _BOOLEANS[raw]
    return raw


@dataclass(frozen=True)
class ValueRule:
    """What a value of one parameter must satisfy: its data type and range."""

    data_type: DataType
    min_value: float | None = None
    max_value: float | None = None

    def parse(self, raw: str) -> Value:
        """The typed value, or `InvalidValueError` if it does not parse or lies out of range."""
        value = parse_value(self.data_type, raw)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.min_value is not None and value < self.min_value:
                raise InvalidValueError(f"{raw} is below the minimum {self.min_value:g}")
            if self.max_value is not None and value > self.max_value:
                raise InvalidValueError(f"{raw} is above the maximum {self.max_value:g}")
        return value

    def problem(self, raw: str) -> str | None:
        """Why `raw` is not a valid value, or None if it is."""
        try:
            self.parse(raw)
        except InvalidValueError as problem:
            return str(problem)
        return None


def value_text(value: Value) -> str:
    """The stored text of a typed value (`True` → `"true"`, `12` → `"12"`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if not isinstance(value, str) else value


def _as_text(value: object) -> object:
    return value_text(value) if isinstance(value, int | float) else value


ValueText = Annotated[str, BeforeValidator(_as_text), CleanText()]
"""A value field: typed values are accepted and stored as text (`True` → `"true"`)."""
RequiredValueText = Annotated[str, BeforeValidator(_as_text), NonBlank()]
"""A required value field (a variant's `value`): like `ValueText`, and not blank."""
