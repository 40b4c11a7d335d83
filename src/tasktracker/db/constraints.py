"""CHECK constraints derived from field declarations, so validation and the database agree.

For every table model, each column gets the CHECKs its pydantic field implies:
`max_length` → `length(col) <= n` (SQLite ignores `varchar(n)`), `NonBlank` →
`length(trim(col)) > 0`, `ge/gt/le/lt` → comparisons, a `StrEnumType` column → `IN (...)`.
Each constraint carries `info={"field": ..., "message": ...}` so a violation raised by the
database is reported on the same field as the validation error would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

import annotated_types as at
from pydantic.fields import FieldInfo
from sqlalchemy import CheckConstraint, Column, Table, event, func, literal_column
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel

from tasktracker.db.text import NonBlank
from tasktracker.db.types import StrEnumType


def field_check(field: str, sqltext: Any, rule: str, message: str) -> CheckConstraint:
    """A named CHECK on one field; the naming convention makes it `ck_<table>_<field>_<rule>`."""
    return CheckConstraint(
        sqltext, name=f"{field}_{rule}", info={"field": field, "message": message}
    )


def _checks_for(name: str, col: Column[Any], metadata: list[Any]) -> Iterator[CheckConstraint]:
    for item in metadata:
        if isinstance(item, at.MaxLen):
            yield field_check(
                name,
                func.length(col) <= item.max_length,
                "max_length",
                f"must be at most {item.max_length} characters",
            )
        elif isinstance(item, NonBlank):
            yield field_check(
                name, func.length(func.trim(col)) > 0, "not_blank", "must not be blank"
            )
        elif isinstance(item, at.Ge):
            yield field_check(name, col >= item.ge, "min", f"must be at least {item.ge}")
        elif isinstance(item, at.Gt):
            yield field_check(name, col > item.gt, "min", f"must be greater than {item.gt}")
        elif isinstance(item, at.Le):
            yield field_check(name, col <= item.le, "max", f"must be at most {item.le}")
        elif isinstance(item, at.Lt):
            yield field_check(name, col < item.lt, "max", f"must be less than {item.lt}")
    if isinstance(col.type, StrEnumType):
        values = [member.value for member in col.type.enum_class]
        allowed = ", ".join(f"'{value}'" for value in values)
        yield field_check(
            name,
            literal_column(f"{col.name} IN ({allowed})"),
            "allowed",
            f"must be one of {', '.join(values)}",
        )


def _metadata(field: FieldInfo) -> list[Any]:
    """The field's constraints, including those of an `Annotated` type inside `... | None`."""
    nested = [
        item
        for arg in get_args(field.annotation)
        if get_origin(arg) is Annotated
        for item in arg.__metadata__
    ]
    return [*field.metadata, *nested]


def derived_checks(model: type[SQLModel], table: Table) -> list[CheckConstraint]:
    checks: list[CheckConstraint] = []
    for name, field in model.model_fields.items():
        if name in table.c:
            checks.extend(_checks_for(name, table.c[name], _metadata(field)))
    return checks


def _append_derived_checks(mapper: Mapper[Any], class_: type) -> None:
    table = mapper.local_table
    if not (isinstance(table, Table) and issubclass(class_, SQLModel)):
        return
    existing = {constraint.name for constraint in table.constraints}
    for check in derived_checks(class_, table):
        if check.name not in existing:
            table.append_constraint(check)


def add_derived_checks(base: type[SQLModel]) -> None:
    """Every table model derived from `base` gets the CHECKs its fields imply, as it is
    mapped; models of other bases (a host application's) are left alone."""
    event.listen(base, "instrument_class", _append_derived_checks, propagate=True)
