"""Entry point: the Typer app, global options, and one-line errors with exit codes.

Every failure ends in one line on stderr and a non-zero exit code: 1 for the errors the
data layer raises on purpose (`TaskTrackerError`: bad input, unreachable database, ...),
2 for anything unexpected (a bug). `--debug` shows the traceback instead. The handling
lives in the command group itself, so it holds however the app is run (console script,
`python -m`, or typer's `CliRunner` in the tests).
"""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.logging import RichHandler
from typer.core import TyperGroup

from tasktracker.bench import cli as bench_cli
from tasktracker.cli import data_commands, db_commands, quickstart, transfer_commands
from tasktracker.cli.console import err
from tasktracker.db.errors import TaskTrackerError

_state = {"debug": False}


class _OneLineErrors(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except TaskTrackerError as exc:
            if _state["debug"]:
                raise
            _fail(str(exc), 1)
        except Exception as exc:  # an unexpected bug: still one line unless --debug
            if _state["debug"]:
                raise
            _fail(f"{type(exc).__name__}: {exc}", 2)


def _fail(message: str, code: int) -> None:
    first_line = (message.strip().splitlines() or ["failed"])[0]
    err.print(f"[red]error:[/red] {first_line}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


app = typer.Typer(
    name="tasktracker",
    cls=_OneLineErrors,
    help="TaskTracker data layer: migrate, inspect, seed, export and import the database.\n\n"
    "Example: tasktracker quickstart",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(db_commands.app, name="db")
db_commands.app.command("seed")(data_commands.seed)
db_commands.app.command("stats")(data_commands.stats)
db_commands.app.command("diagram")(data_commands.diagram)
db_commands.app.command("reset")(data_commands.reset)
app.command("quickstart")(quickstart.quickstart)
app.add_typer(bench_cli.app, name="bench")
app.command("export")(transfer_commands.export)
app.command("import")(transfer_commands.import_)


@app.callback()
def configure(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log connection and migration events."
    ),
) -> None:
    _state["debug"] = debug
    # Quiet by default: a failure is reported once, as the one-line error from main().
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)]
    )


def main() -> None:
    """Run the CLI (the `tasktracker` console script)."""
    app()
