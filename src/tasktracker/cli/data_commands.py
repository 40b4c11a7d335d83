"""`tasktracker db seed | stats | diagram | reset`: data for development and inspection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasktracker.cli.console import engine, human_bytes, out
from tasktracker.cli.guard import confirm_destruction
from tasktracker.db.errors import ConflictError, NotFoundError, TaskTrackerError

if TYPE_CHECKING:
    from rich.progress import Progress

    from tasktracker.admin.stats import TableStats


def seed(
    users: int = typer.Option(10, "--users", min=1, help="How many users to create."),
    tasks_per_user: int = typer.Option(
        100, "--tasks-per-user", min=0, help="Tasks per user (other domains grow with it)."
    ),
    seed: int = typer.Option(42, "--seed", help="The same seed gives the same data."),
) -> None:
    """Load deterministic Faker data for every domain through the bulk path.

    Each user gets categories, tasks, conversations with messages, and a test-engineering
    workspace (requirements, specifications, steps, commands, parameters, variants). All
    seeded users have the password 'tasktracker-seed'. One transaction: on failure
    nothing is left behind.

    Example: tasktracker db seed --users 100 --tasks-per-user 10000 --seed 7
    """
    from tasktracker.accounts.repository import UserRepository
    from tasktracker.admin import schema
    from tasktracker.cli import views
    from tasktracker.db.sessions import Database
    from tasktracker.seeding.volume import SEED_PASSWORD, SeedPlan, first_email, load

    plan = SeedPlan(users=users, tasks_per_user=tasks_per_user, seed=seed)
    counts = plan.counts()
    with engine() as bound:
        started = time.perf_counter()
        with bound.begin() as connection:
            schema.require_head(connection)
            with Database(connection).session() as session:
                email = first_email(plan)
                if email and UserRepository(session).find(email) is not None:
                    raise ConflictError(
                        f"seed {seed} is already loaded ({email} exists): "
                        "use another --seed, or `tasktracker db reset --yes`"
                    )
            with _progress() as progress:
                bar = progress.add_task("seeding", total=sum(counts.values()))

                def advance(table: str, rows: int) -> None:
                    progress.update(bar, advance=rows, description=table)

                report = load(connection, plan, on_progress=advance)
                progress.update(bar, description="committing")
        elapsed = time.perf_counter() - started
    out.print(views.counts_table(_as_stats(report.rows), title="rows inserted"))
    out.print(
        f"seeded {report.total:,} rows ({users:,} users x {tasks_per_user:,} tasks) in "
        f"{elapsed:.1f} s: {report.total / elapsed:,.0f} rows/s"
    )
    out.print(f"every seeded user's password is {SEED_PASSWORD}")


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=False,
    )


def _as_stats(rows: dict[str, int]) -> list[TableStats]:
    from tasktracker.admin import catalog
    from tasktracker.admin.stats import TableStats

    tables = {table.name: table for table in catalog.tables()}
    return [
        TableStats(name, catalog.domain_of(tables[name]), count) for name, count in rows.items()
    ]


def stats(
    user: str | None = typer.Option(
        None, "--user", help="Only this user's rows (email or username)."
    ),
) -> None:
    """Row counts per table (and per user), and the database size.

    Without --user: every table's rows, the average per user, and (PostgreSQL) its size
    on disk. With --user: that user's rows in every table.

    Example: tasktracker db stats --user ada@example.com
    """
    from tasktracker.accounts.repository import UserRepository
    from tasktracker.admin import schema
    from tasktracker.admin.stats import database_size, table_counts
    from tasktracker.cli import views
    from tasktracker.db.sessions import Database

    with engine() as bound:
        db = Database(bound)
        with bound.connect() as connection:
            schema.require_head(connection)
            size = database_size(connection)
        if user is None:
            with db.session() as session:
                entries = table_counts(session)
            users = next((e.rows for e in entries if e.table == "users"), 0)
            out.print(views.counts_table(entries, per_user=users))
            total = sum(entry.rows for entry in entries)
            out.print(f"{total:,} rows, {users:,} users; database size {human_bytes(size)}")
            return
        with db.session() as session:
            found = UserRepository(session).find(user)
            if found is None:
                raise NotFoundError(f"no user with email or username {user!r}")
            user_id, email = found.id, found.email
        with db.user_scope(user_id) as session:
            entries = table_counts(session)
        out.print(views.counts_table(entries, title=f"rows of {email}"))
        out.print(f"{sum(e.rows for e in entries):,} rows; database size {human_bytes(size)}")


def diagram(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file instead of stdout; a .md file gets a Markdown wrapper.",
        ),
    ] = None,
) -> None:
    """Print the ER diagram of the schema (Mermaid erDiagram), with keys and relationships.

    Example: tasktracker db diagram --output docs/schema.md
    """
    from tasktracker.admin import diagram as schema_diagram

    if output is None:
        typer.echo(schema_diagram.mermaid(), nl=False)
        return
    text = schema_diagram.markdown() if output.suffix == ".md" else schema_diagram.mermaid()
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TaskTrackerError(f"cannot write {output}: {exc.strerror}") from None
    out.print(f"wrote {output}")


def reset(
    yes: bool = typer.Option(False, "--yes", help="Really delete every row."),
    force: bool = typer.Option(
        False, "--force", help="Also on a database that does not look like a development one."
    ),
) -> None:
    """Delete everything: downgrade to base, then migrate to head (development only).

    Refuses without --yes, and refuses a PostgreSQL database whose name has none of the
    words dev, test, local, scratch, demo or tmp (e.g. tasktracker_dev) unless --force.

    Example: tasktracker db reset --yes
    """
    from tasktracker.admin import schema
    from tasktracker.db.settings import get_settings, mask_url

    url = get_settings().url
    confirm_destruction(url, verb="reset", loss="this deletes every row", yes=yes, force=force)
    with engine(create=True) as bound:
        schema.downgrade(bound, "base")
        schema.upgrade(bound, "head")
    out.print(f"reset {mask_url(url)}: empty, at revision {schema.head_revision()}")
