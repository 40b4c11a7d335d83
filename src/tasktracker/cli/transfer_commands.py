"""`tasktracker export` and `tasktracker import`: a user's data as one JSON document."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasktracker.cli.console import engine, err, out
from tasktracker.db.errors import NotFoundError, TaskTrackerError, ValidationError

if TYPE_CHECKING:
    from tasktracker.db.sessions import Database

UserOption = Annotated[
    str, typer.Option("--user", help="The user's email or username.", show_default=False)
]


def _user_id(db: Database, login: str) -> tuple[uuid.UUID, str]:
    from tasktracker.accounts.repository import UserRepository

    with db.session() as session:
        user = UserRepository(session).find(login)
        if user is None:
            raise NotFoundError(f"no user with email or username {login!r}")
        return user.id, user.email


def export(
    user: UserOption,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
) -> None:
    """Export everything a user owns as one JSON document (never the password hash).

    Example: tasktracker export --user ada@example.com --output ada.json
    """
    from tasktracker.admin import schema
    from tasktracker.db.sessions import Database
    from tasktracker.transfer.service import export_user

    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        db = Database(bound)
        user_id, email = _user_id(db, user)
        document = export_user(db, user_id)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TaskTrackerError(f"cannot write {output}: {exc.strerror}") from None
    rows = sum(len(rows) for rows in document["tables"].values())
    err.print(f"exported {rows:,} rows of {email} to {output}")


def import_(
    file: Annotated[
        Path, typer.Argument(help="A document written by `tasktracker export`.", show_default=False)
    ],
    user: UserOption,
) -> None:
    """Import an exported document into an existing user, with new ids (one transaction).

    Example: tasktracker import ada.json --user grace@example.com
    """
    from tasktracker.admin import catalog, schema
    from tasktracker.admin.stats import TableStats
    from tasktracker.cli import views
    from tasktracker.db.sessions import Database
    from tasktracker.transfer.service import import_user

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaskTrackerError(f"cannot read {file}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError.single("file", f"{file} is not JSON: {exc}") from None
    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        db = Database(bound)
        user_id, email = _user_id(db, user)
        counts = import_user(db, user_id, document)
    stats = [
        TableStats(table.name, catalog.domain_of(table), counts[table.name])
        for table in catalog.tables_by_domain()
        if table.name in counts
    ]
    out.print(views.counts_table(stats, title=f"rows imported into {email}"))
    out.print(f"imported {sum(counts.values()):,} rows into {email}")
