"""Everything a user owns as one JSON document, and back into another user with new ids.

Generic over the schema: the tables come from the metadata (every table with `user_id`,
parents first), so a new domain is exported and imported without code here.

    document = export_user(db, ada_id)              # plain JSON-ready dict
    counts = import_user(db, grace_id, document)    # {table: rows}, one transaction

The document never holds the password hash (nor any user id): the `user` section only
says whose data it was. On import every row gets a new id, and every column that
references an id (the columns of each foreign key) is remapped through the same table, so
the copy is wired exactly like the original. New ids are handed out in the order of the
old ones, so the copy keeps the original's order. A document is imported only at the
schema revision it was exported at (`schema_revision`, the head when it was written).
Rows are validated through the table models (`transfer.writing`), then by the rules
that span rows, which the domains' services otherwise apply (`RULES`: the same functions,
e.g. a step argument must fit its parameter and its command's signature), and only then
written; the database then checks keys and uniqueness (importing twice into one user fails
on the unique names, and changes nothing). Every refusal names the row as the document
has it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, Uuid, select
from sqlalchemy.orm import Session

from tasktracker.accounts.repository import UserRepository
from tasktracker.admin import catalog, schema
from tasktracker.db.errors import FieldError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.types import UTCDateTime, new_id, utc_now
from tasktracker.tasks.tree import imported_depths
from tasktracker.testspec.services.imported import Located, imported_problems
from tasktracker.transfer.writing import Row, build_rows, write_rows

FORMAT = "tasktracker-export"
VERSION = 1
Document = dict[str, Any]

RULES: tuple[Callable[[Mapping[str, Sequence[Located]]], list[FieldError]], ...] = (
    imported_problems,
    imported_depths,
)
"""The domains' rules across rows, each given every built row by table name as
`(place, model instance)` and returning what the rows break; a domain whose services
enforce such rules adds its function here."""


def _exported_columns(table: Table) -> list[Column[Any]]:
    return [column for column in table.c if column.name != catalog.TENANT_KEY]


def _key_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.primary_key.columns if c.name != catalog.TENANT_KEY]


def _reference_columns(table: Table) -> set[str]:
    """The columns that hold another row's id: the own `id`, every foreign-key column and
    those that name the table they reference (`info["references"]`) without a key."""
    names = {c.name for fk in table.foreign_key_constraints for c in fk.columns}
    names |= {c.name for c in table.c if "references" in c.info}
    if "id" in table.c:
        names.add("id")
    return names - {catalog.TENANT_KEY}


def _to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum as its plain value
    return value


def _export_rows(session: Session, table: Table) -> list[dict[str, Any]]:
    model = catalog.model_for(table)
    columns = _exported_columns(table)
    statement = select(*(getattr(model, c.name) for c in columns)).order_by(
        *(getattr(model, c.name) for c in _key_columns(table))
    )
    names = [column.name for column in columns]
    return [
        {name: _to_json(value) for name, value in zip(names, row, strict=True)}
        for row in session.execute(statement)
    ]


def export_user(db: Database, user_id: uuid.UUID) -> Document:
    """Every row the user owns, table by table (parents first), as a JSON-ready dict."""
    with db.user_scope(user_id) as session:
        user = UserRepository(session).get(user_id)
        tables = {table.name: _export_rows(session, table) for table in catalog.tenant_tables()}
        return {
            "format": FORMAT,
            "version": VERSION,
            "schema_revision": schema.head_revision(),
            "exported_at": utc_now().isoformat(),
            "user": {
                "email": user.email,
                "username": user.username,
                "is_active": user.is_active,
                "created_at": _to_json(user.created_at),
            },
            "tables": tables,
        }


def _check_document(document: Any) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise ValidationError.single("format", f"not a {FORMAT} document")
    if document.get("version") != VERSION:
        raise ValidationError.single(
            "version", f"unsupported version {document.get('version')!r} (expected {VERSION})"
        )
    revision, head = document.get("schema_revision"), schema.head_revision()
    if revision != head:
        raise ValidationError.single(
            "schema_revision",
            f"the document was exported at schema revision {revision!r}, this database is at "
            f"{head!r}: only a document of the same revision is imported (none is converted)",
        )
    tables = document.get("tables")
    if not isinstance(tables, Mapping):
        raise ValidationError.single("tables", "missing or not an object")
    known = {table.name for table in catalog.tenant_tables()}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ValidationError.single("tables", f"unknown table(s): {', '.join(unknown)}")
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
            raise ValidationError.single(f"tables.{name}", "must be a list of objects")
    return {name: list(rows) for name, rows in tables.items()}


def _new_ids(tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, uuid.UUID]:
    """A new id for every row id in the document, handed out in the old ids' order."""
    old = sorted(
        {str(row["id"]) for rows in tables.values() for row in rows if row.get("id") is not None}
    )
    return dict(zip(old, sorted(new_id() for _ in old), strict=True))


def _from_json(column: Column[Any], value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        if isinstance(column.type, UTCDateTime):
            return datetime.fromisoformat(value)
        if isinstance(column.type, Uuid):
            return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ValidationError.single(where, f"not a valid {column.type}") from None
    return value


def _converted(
    table: Table, rows: Iterable[Mapping[str, Any]], id_map: Mapping[str, uuid.UUID]
) -> list[Row]:
    columns = {column.name: column for column in _exported_columns(table)}
    references = _reference_columns(table)
    converted = []
    for number, row in enumerate(rows):
        where = f"tables.{table.name}[{number}]"
        unknown = sorted(set(row) - set(columns))
        if unknown:
            raise ValidationError.single(where, f"unknown column(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in row.items():
            if name in references and value is not None:
                if str(value) not in id_map:
                    raise ValidationError.single(
                        f"{where}.{name}", "refers to a row that is not in the document"
                    )
                values[name] = id_map[str(value)]
            else:
                values[name] = _from_json(columns[name], value, f"{where}.{name}")
        converted.append(Row(where, values))
    return converted


def _parents_first(table: Table, rows: list[Row]) -> list[Row]:
    """Rows ordered so that a row referencing another row of the same table comes after it."""
    self_columns = [
        column.name
        for fk in table.foreign_key_constraints
        if fk.referred_table is table
        for column in fk.columns
        if column.name != catalog.TENANT_KEY
    ]
    if not self_columns:
        return rows
    by_id = {row.values["id"]: row for row in rows}
    ordered: list[Row] = []
    placed: set[uuid.UUID] = set()

    def place(row: Row, seen: frozenset[uuid.UUID]) -> None:
        row_id = row.values["id"]
        if row_id in placed:
            return
        if row_id in seen:
            raise ValidationError.single(
                f"tables.{table.name}", "rows reference each other in a cycle"
            )
        for name in self_columns:
            parent = by_id.get(row.values.get(name))
            if parent is not None:
                place(parent, seen | {row_id})
        placed.add(row_id)
        ordered.append(row)

    for row in rows:
        place(row, frozenset())
    return ordered


def import_user(db: Database, user_id: uuid.UUID, document: Any) -> dict[str, int]:
    """Write a document's rows as the user's, with new ids; returns rows per table.

    One unit of work: any invalid row, broken reference or conflict (e.g. a category
    name the user already has) rolls the whole import back, and the error names the row
    as the document has it (`tables.categories[2].name: 'Work' is already used ...`)."""
    tables = _check_document(document)
    id_map = _new_ids(tables)
    with db.user_scope(user_id) as session:
        rows = {
            table: _parents_first(table, _converted(table, tables.get(table.name, []), id_map))
            for table in catalog.tenant_tables()
        }
        built = {table: build_rows(table, table_rows) for table, table_rows in rows.items()}
        located = {
            table.name: [(row.where, obj) for row, obj in zip(rows[table], objects, strict=True)]
            for table, objects in built.items()
        }
        if errors := [error for rule in RULES for error in rule(located)]:
            raise ValidationError(errors)
        for table, objects in built.items():
            write_rows(session, table, rows[table], objects)
    return {table.name: len(table_rows) for table, table_rows in rows.items()}
