"""`tasktracker chat purge-expired | close-abandoned`: the assistant chat's housekeeping."""

from __future__ import annotations

import typer

from tasktracker.cli.console import engine, out

app = typer.Typer(help="Chat housekeeping.", no_args_is_help=True, rich_markup_mode=None)


@app.command("purge-expired")
def purge_expired(
    batch: int = typer.Option(
        500, "--batch", min=1, max=10_000, help="Conversations per transaction."
    ),
) -> None:
    """Delete every user's expired conversations (with their messages), in batches.

    Each batch is its own short transaction, so the purge can run while the application
    does (on PostgreSQL it skips conversations locked by a writer, for the next run).

    Example: tasktracker chat purge-expired --batch 1000
    """
    from tasktracker.admin import schema
    from tasktracker.chat.housekeeping import purge_expired as purge
    from tasktracker.db.sessions import Database

    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        purged = purge(Database(bound), batch=batch)
    out.print(f"purged {purged:,} expired conversation(s)")


@app.command("close-abandoned")
def close_abandoned(
    idle_minutes: float = typer.Option(
        10.0,
        "--idle-minutes",
        min=0.0,
        help="Minutes without a delta that make a stream abandoned.",
    ),
    batch: int = typer.Option(500, "--batch", min=1, max=10_000, help="Streams per transaction."),
) -> None:
    """Close every user's abandoned streams (no delta for --idle-minutes) as interrupted.

    Example: tasktracker chat close-abandoned --idle-minutes 10
    """
    from datetime import timedelta

    from tasktracker.admin import schema
    from tasktracker.chat.housekeeping import close_abandoned_streams
    from tasktracker.db.sessions import Database

    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        closed = close_abandoned_streams(
            Database(bound), timedelta(minutes=idle_minutes), batch=batch
        )
    out.print(f"closed {closed:,} abandoned stream(s) as interrupted")
