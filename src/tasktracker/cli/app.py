"""Entry point: the Typer app, global options, and one-line errors with exit codes."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.logging import RichHandler

from tasktracker.cli import db_commands
from tasktracker.db.errors import TaskTrackerError

app = typer.Typer(
    name="tasktracker",
    help="TaskTracker data layer: migrate, inspect and seed the database.\n\n"
    "Example: tasktracker db upgrade && tasktracker db health",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_commands.app, name="db")
err = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def configure(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log connection and migration events."
    ),
) -> None:
    _state["debug"] = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(console=err, show_path=False)]
    )
    logging.getLogger("tasktracker.migrations").setLevel(logging.INFO)


def main() -> None:
    """Run the CLI; expected failures print one line and exit 1 (tracebacks with --debug)."""
    try:
        app(standalone_mode=False)
    except TaskTrackerError as exc:
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected bug: still one line unless --debug
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
