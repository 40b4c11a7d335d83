"""The schema as a Mermaid `erDiagram`, generated from the models' metadata.

Our own small generator rather than paracelsus: paracelsus draws one edge per foreign-key
*column*, so each composite tenant key `(user_id, x_id) → parent(user_id, id)` turns into
two edges (a spurious `parent → child : user_id` besides the real one), and it marks every
primary-key column as unique, which turns the one-to-many edges into one-to-one. Here
each foreign-key *constraint* is one edge, labelled with all its columns; types are shown
as PostgreSQL stores them; composite primary keys mark each member `PK`; unique
constraints and indexes are noted on their columns ("unique per user" when they include
the tenant key).
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import Column, ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

from tasktracker.admin import catalog

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_TYPE_NAMES = {
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DOUBLE PRECISION": "float",
    "FLOAT": "float",
}

MARKDOWN_HEADER = (
    "# Database schema\n\n"
    "Generated from the models by `tasktracker db diagram --output docs/schema.md`; a test "
    "fails when this file is out of date.\n"
    "Every tenant table's primary key is `(user_id, id)` (or `user_id` plus the keys of the "
    "pair it links), and every foreign key between tenant tables includes `user_id`, so a "
    "row can only reference rows of the same user.\n"
)


def _type_name(column: Column[object]) -> str:
    compiled = column.type.compile(dialect=_DIALECT)
    name = _TYPE_NAMES.get(compiled, compiled).lower()
    return re.sub(r"[^a-z0-9()_]", "_", name)


def _index_columns(index: Index) -> tuple[list[str], bool]:
    """The column names of an index, and whether any is wrapped in `lower()`."""
    names, lowered = [], False
    for expression in index.expressions:
        if isinstance(expression, Column):
            names.append(expression.name)
        else:
            match = re.search(r"lower\((\w+)\)", str(expression))
            lowered = lowered or match is not None
            names.append(match.group(1) if match else str(expression))
    return names, lowered


def _unique_notes(table: Table) -> dict[str, list[str]]:
    """Per column, its unique constraints and indexes other than the primary key."""
    notes: dict[str, list[str]] = defaultdict(list)
    groups: list[tuple[list[str], str]] = [
        ([c.name for c in constraint.columns], "")
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    for index in table.indexes:
        if index.unique:
            names, lowered = _index_columns(index)
            where = index.dialect_options["postgresql"].get("where")
            extra = ", case-insensitive" if lowered else ""
            extra += f" where {where}" if where is not None else ""
            groups.append((names, extra))
    for names, extra in sorted(groups):  # table.constraints is a set: fix the order
        members = [name for name in names if name != catalog.TENANT_KEY]
        note = "unique per user" if catalog.TENANT_KEY in names else "unique"
        if len(members) > 1:
            note += " (" + ", ".join(members) + ")"
        for name in members:
            notes[name].append(note + extra)
    return notes


def _attribute(column: Column[object], uniques: dict[str, list[str]]) -> str:
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if uniques.get(column.name):
        keys.append("UK")
    comments = list(uniques.get(column.name, []))
    if column.nullable and not column.primary_key:
        comments.append("nullable")
    line = f"    {_type_name(column)} {column.name}"
    if keys:
        line += " " + ", ".join(keys)
    if comments:
        line += ' "' + "; ".join(comments) + '"'
    return line


def _edge(table: Table, constraint: ForeignKeyConstraint) -> str:
    columns = [column.name for column in constraint.columns]
    own = [name for name in columns if name != catalog.TENANT_KEY]
    optional = any(table.c[name].nullable for name in own)
    parent_side = "|o" if optional else "||"
    child_key = set(columns)
    one_to_one = child_key == {c.name for c in table.primary_key.columns} or any(
        isinstance(u, UniqueConstraint) and {c.name for c in u.columns} == child_key
        for u in table.constraints
    )
    child_side = "o|" if one_to_one else "o{"
    label = ", ".join(columns)
    if constraint.ondelete:
        label += f" ({constraint.ondelete.lower()})"
    parent = constraint.referred_table.name
    return f'  {parent} {parent_side}--{child_side} {table.name} : "{label}"'


def mermaid() -> str:
    """The `erDiagram` source for every table of the metadata."""
    tables = catalog.tables_by_domain()
    lines = ["erDiagram"]
    for table in tables:
        uniques = _unique_notes(table)
        lines.append(f"  {table.name} {{")
        lines.extend(_attribute(column, uniques) for column in table.c)
        lines.append("  }")
    for table in tables:
        foreign_keys = sorted(
            (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)),
            key=lambda c: (c.referred_table.name, [col.name for col in c.columns]),
        )
        lines.extend(_edge(table, constraint) for constraint in foreign_keys)
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """`docs/schema.md`: the diagram in a Mermaid code block, with a short preface."""
    return f"{MARKDOWN_HEADER}\n```mermaid\n{mermaid()}```\n"
