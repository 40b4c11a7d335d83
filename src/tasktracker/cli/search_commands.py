"""`tasktracker search`: a user's hits of every kind, best first, as a Rich table."""

from __future__ import annotations

from typing import Annotated

import typer

from tasktracker.cli.console import engine, out
from tasktracker.cli.transfer_commands import UserOption, _user_id


def search(
    query: Annotated[str, typer.Argument(help='Words, "a phrase", -excluded, a or b.')],
    user: UserOption,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Hits per page.")] = 20,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue after a previous page.")
    ] = None,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="The last word matches as a prefix.")
    ] = False,
) -> None:
    """Search everything a user owns: tasks, messages, requirements, specifications, steps.

    Example: tasktracker search --user ada "quarterly report"
    """
    from tasktracker.admin import schema
    from tasktracker.cli import views
    from tasktracker.units import Database

    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        db = Database(bound)
        user_id, email = _user_id(db, user)
        with db.user_scope(user_id, read_only=True) as unit:
            page = unit.search.everything(query, limit=limit, cursor=cursor, prefix=prefix)
    out.print(views.search_table(page.items, title=f"{email}: {query}"))
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}", soft_wrap=True)  # one line, to copy
