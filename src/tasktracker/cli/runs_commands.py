"""`tasktracker runs ...` and `tasktracker coverage`: test runs, JUnit XML, coverage by
results, as Rich tables. The queries are the repositories' and services' (testspec)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from tasktracker.cli.console import engine, out
from tasktracker.cli.transfer_commands import UserOption, _user_id

if TYPE_CHECKING:
    from tasktracker.units.sync import Unit

app = typer.Typer(
    help="Test runs: import and export JUnit XML, list runs, show one.\n\n"
    "Example: tasktracker runs import-junit report.xml --user ada --run nightly",
    no_args_is_help=True,
)

RunOption = Annotated[str, typer.Option("--run", help="The run's name.")]


@contextmanager
def _user_unit(login: str, *, read_only: bool = True) -> Iterator[tuple[Unit, str]]:
    """A unit of work of the user `login` (email or username) and the user's email, on the
    configured database, which must be at the head revision."""
    from tasktracker.admin import schema
    from tasktracker.units import Database

    with engine() as bound:
        with bound.connect() as connection:
            schema.require_head(connection)
        db = Database(bound)
        user_id, email = _user_id(db, login)
        with db.user_scope(user_id, read_only=read_only) as unit:
            yield unit, email


@app.command("import-junit")
def import_junit(  # noqa: PLR0917 - one CLI option per parameter
    file: Annotated[Path, typer.Argument(help="A JUnit XML report (`-` for stdin).")],
    user: UserOption,
    run: RunOption,
    key_from: Annotated[
        str, typer.Option("--key-from", help="Read the key from: name, classname or both.")
    ] = "name",
    pattern: Annotated[
        str | None, typer.Option("--pattern", help="A regex matching the key (group 1 if any).")
    ] = None,
    report_unknown: Annotated[
        bool, typer.Option("--report-unknown", help="List unknown keys instead of failing.")
    ] = False,
) -> None:
    """Import a JUnit XML report into a run (made if missing), all or nothing.

    Example: tasktracker runs import-junit report.xml --user ada --run nightly
    """
    from tasktracker.cli import views
    from tasktracker.testspec.services.junit import DEFAULT_PATTERN, KeyRule

    if key_from not in {"name", "classname", "both"}:
        raise typer.BadParameter("one of name, classname, both", param_hint="--key-from")
    source: Literal["name", "classname", "both"] = key_from  # type: ignore[assignment]
    rule = KeyRule(source, pattern or DEFAULT_PATTERN)
    with _user_unit(user, read_only=False) as (unit, email):
        stream = sys.stdin.buffer if str(file) == "-" else file
        report = unit.junit.import_report(
            stream, run, rule=rule, unknown="report" if report_unknown else "error"
        )
    out.print(views.junit_import_table(report, title=f"{email}: {run}"))
    if unmatched := views.unmatched_line(report):
        out.print(unmatched, soft_wrap=True, highlight=False, markup=False)


@app.command("export-junit")
def export_junit(
    user: UserOption,
    run: RunOption,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Export a run as JUnit XML.

    Example: tasktracker runs export-junit --user ada --run nightly -o nightly.xml
    """
    with _user_unit(user) as (unit, _):
        report = unit.junit.export_report(unit.runs.get_by_name(run).id)
    text: bytes = report.tostring()  # type: ignore[no-untyped-call]
    if output is None:
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
    else:
        output.write_bytes(text)


@app.command("list")
def list_runs(user: UserOption) -> None:
    """The user's runs, newest first, with their executions by status.

    Example: tasktracker runs list --user ada
    """
    from tasktracker.cli import views

    with _user_unit(user) as (unit, email):
        runs = unit.runs.list()
    out.print(views.runs_table(runs, title=f"test runs of {email}"))


@app.command("show")
def show(user: UserOption, run: RunOption) -> None:
    """One run's executions: specification, version (and whether it is outdated), result.

    Example: tasktracker runs show --user ada --run nightly
    """
    from tasktracker.cli import views

    with _user_unit(user) as (unit, email):
        rows = unit.runs.executions(unit.runs.get_by_name(run).id)
    out.print(views.executions_table(rows, title=f"{email}: {run}"))


def coverage(
    user: UserOption,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Against this baseline's revisions.")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Only this run's results.")] = None,
) -> None:
    """Coverage by results: per requirement linked, executed, passed, failed, suspect.

    Example: tasktracker coverage --user ada --baseline "release 1.2"
    """
    from tasktracker.cli import views

    with _user_unit(user) as (unit, email):
        baseline_id = None if baseline is None else unit.baselines.get_by_name(baseline).id
        run_id = None if run is None else unit.runs.get_by_name(run).id
        report = unit.coverage.report(run_id=run_id, baseline_id=baseline_id)
    scope = f" at baseline {baseline}" if baseline else f" in run {run}" if run else ""
    out.print(views.coverage_table(report, title=f"coverage of {email}{scope}"))
