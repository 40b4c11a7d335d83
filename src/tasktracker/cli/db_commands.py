"""`tasktracker db ...`: schema migrations and the health check."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tasktracker.cli.console import ExitCodeError, engine, missing_database, out
from tasktracker.cli.guard import confirm_destruction
from tasktracker.db.errors import TaskTrackerError

if TYPE_CHECKING:
    from tasktracker.admin.health import HealthReport

app = typer.Typer(help="Schema migrations, health and inspection.", no_args_is_help=True)

UNREACHABLE = 1
"""`db health`'s exit code when the database cannot be reached."""
NOT_AT_HEAD = 3
"""`db health`'s exit code when the database answers but is not at the head revision."""
NOT_DISTRIBUTED = 4
"""`db health`'s exit code on Citus when a table is not distributed as the spec says."""


class _StepPrinter(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        out.print(record.getMessage())


@contextmanager
def _printing_steps() -> Iterator[None]:
    """Show each revision applied and its time (logged by env.py) on stdout, once; Alembic's
    refusals (an unknown revision) become one-line errors."""
    from tasktracker.admin.downgrade import revision_errors

    logger = logging.getLogger("tasktracker.migrations")
    handler, level, propagate = _StepPrinter(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with revision_errors():
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head), printing each one and its time.

    Creates the SQLite file if it does not exist yet.

    Example: tasktracker db upgrade
    """
    from tasktracker.admin import schema

    with engine(create=True) as bound:
        with _printing_steps():
            schema.upgrade(bound, revision)
        with bound.connect() as connection:
            out.print(f"database at revision {schema.current_revision(connection)}")


def _revision_spec(value: str) -> str:
    """A target that starts with '-' is relative (`-1`); anything else so spelled is an
    option mistyped, not a revision (the command accepts `-1` as an argument)."""
    if value.startswith("-") and not value[1:].isdigit():
        raise typer.BadParameter(f"no such option: {value}")
    return value


@app.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    revision: str = typer.Argument(
        ..., help="Target revision: -1 (one step), a revision id, or base.", callback=_revision_spec
    ),
    yes: bool = typer.Option(False, "--yes", help="Drop tables even if they hold rows."),
    force: bool = typer.Option(
        False, "--force", help="Also on a database that does not look like a development one."
    ),
) -> None:
    """Revert migrations down to REVISION, printing each one and its time.

    A downgrade that drops tables holding rows is refused without --yes, and on a
    PostgreSQL database whose name has none of the words dev, test, local, scratch, demo
    or tmp also without --force (the same guard as `db reset`).

    Example: tasktracker db downgrade -1
    """
    from tasktracker.admin import schema
    from tasktracker.admin.downgrade import plan_downgrade

    with engine() as bound:
        plan = plan_downgrade(bound, revision)
        target = plan.target or "base"
        if plan.rows:
            confirm_destruction(
                bound.url,
                verb="downgrade",
                target=f" to {target}",
                loss=plan.describe(),
                yes=yes,
                force=force,
            )
        with _printing_steps():
            schema.downgrade(bound, target)
        with bound.connect() as connection:
            out.print(f"database at revision {schema.current_revision(connection) or 'base'}")


@app.command()
def current() -> None:
    """Print the database's current revision and the head. Example: tasktracker db current"""
    from tasktracker.admin import schema

    with engine() as bound, bound.connect() as connection:
        revision = schema.current_revision(connection)
    head = schema.head_revision()
    state = "up to date" if revision == head else "behind head"
    out.print(f"current: {revision or 'base'}  head: {head}  ({state})")


@app.command()
def history() -> None:
    """List every revision, oldest first. Example: tasktracker db history"""
    from tasktracker.admin import schema

    table = Table("revision", "revises", "description")
    for script in schema.history():
        table.add_row(script.revision, str(script.down_revision or "-"), script.doc)
    out.print(table)


@app.command()
def check() -> None:
    """Fail if the models and the migrations have drifted apart, or (on Citus) a table is not
    distributed as docs/citus.md says. Example: tasktracker db check"""
    from alembic.util import AutogenerateDiffsDetected

    from tasktracker.admin import distribution, schema

    with engine() as bound:
        try:
            schema.check(bound)
        except AutogenerateDiffsDetected as exc:
            raise TaskTrackerError(f"models and migrations differ: {exc}") from None
        with bound.connect() as connection:
            found = distribution.distribution(connection)
    if problems := distribution.problems(found):
        raise TaskTrackerError("not distributed as docs/citus.md says: " + "; ".join(problems))
    out.print("models and migrations agree")
    if found is not None:
        out.print(f"Citus: {len(found)} tables distributed as docs/citus.md says")


@app.command()
def distribute() -> None:
    """On Citus, distribute an existing database once: `users` a reference table, every
    other table by user_id, co-located (the revisions do it for the tables they create).
    Idempotent: tables already distributed are left alone.

    Example: tasktracker db distribute
    """
    from tasktracker.admin import distribution

    with engine() as bound, bound.begin() as connection:
        if distribution.distribution(connection) is None:
            raise TaskTrackerError(
                "the database has no citus extension: CREATE EXTENSION citus first"
            )
        changed = distribution.distribute_all(connection)
    out.print(f"distributed: {', '.join(changed)}" if changed else "already distributed")


def _report() -> HealthReport:
    from tasktracker.admin import schema
    from tasktracker.admin.health import HealthReport, check_health
    from tasktracker.db.settings import get_settings, mask_url

    url = get_settings().url
    missing = missing_database(url)
    if missing is not None:  # nothing to connect to (and connecting would create the file)
        return HealthReport(
            False,
            mask_url(url),
            url.get_backend_name(),
            head=schema.head_revision(),
            error=str(missing),
        )
    with engine() as bound:
        return check_health(bound)


@app.command()
def health(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check reachability, latency, version, SSL, pool, revision and, on Citus, distribution.

    With --json the report is one JSON document on stdout, also when the database is
    unreachable. Exit code: 0 reachable and at the head revision, 1 unreachable, 3
    reachable but not at the head revision, 4 on Citus a table not distributed as it should.

    Example: tasktracker db health --json
    """
    report = _report()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    elif report.reachable:  # unreachable, the table would only repeat the error line
        table = Table("check", "value", title="database health")
        for key, value in report.to_dict().items():
            table.add_row(key, "-" if value is None else str(value))
        out.print(table)
    if not report.reachable:
        raise ExitCodeError(f"database unreachable: {report.error}", exit_code=UNREACHABLE)
    if not report.up_to_date:
        raise ExitCodeError(
            f"the database is at revision {report.revision or 'base'}, the head is "
            f"{report.head}: run `tasktracker db upgrade`",
            exit_code=NOT_AT_HEAD,
        )
    if report.distribution_problems:
        raise ExitCodeError(
            "not distributed as docs/citus.md says: "
            + "; ".join(report.distribution_problems)
            + ": run `tasktracker db distribute`",
            exit_code=NOT_DISTRIBUTED,
        )
