"""Entry point: the Typer app, global options, and one-line errors with exit codes.

Every failure ends in one line on stderr and a non-zero exit code: 1 for the errors the
data layer raises on purpose (`TaskTrackerError`: bad input, unreachable database, ...),
2 for anything unexpected (a bug). `--debug` shows the traceback instead. The handling
lives in the command group itself, so it holds however the app is run (console script,
`python -m`, or typer's `CliRunner` in the tests). A command whose output is cut short
(`tasktracker quickstart | head -2`) stops quietly with exit code 0, as Unix tools do.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

import typer
from rich.logging import RichHandler
from rich.markup import escape
from typer.core import TyperGroup

from tasktracker.bench import cli as bench_cli
from tasktracker.cli import (
    chat_commands,
    data_commands,
    db_commands,
    quickstart,
    runs_commands,
    search_commands,
    transfer_commands,
)
from tasktracker.cli.console import ExitCodeError, err
from tasktracker.cli.extra import missing_extra
from tasktracker.db.errors import TaskTrackerError

_state = {"debug": False}
GLOBAL_FLAGS = frozenset({"--debug", "--verbose", "-v"})


class _OneLineErrors(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """The global flags count wherever they are given (`tasktracker db current --debug`),
        up to a `--`: they are moved in front of the subcommand."""
        end = args.index("--") if "--" in args else len(args)
        flags = [arg for arg in args[:end] if arg in GLOBAL_FLAGS]
        others = [arg for arg in args[:end] if arg not in GLOBAL_FLAGS]
        return super().parse_args(ctx, [*flags, *others, *args[end:]])

    def invoke(self, ctx: Any) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader gone away shows here, not at interpreter exit
            return result
        except BrokenPipeError:
            _discard_stdout()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except TaskTrackerError as exc:
            if _state["debug"]:
                raise
            _fail(str(exc), exc.exit_code if isinstance(exc, ExitCodeError) else 1)
        except ModuleNotFoundError as exc:  # Faker, imported by the commands that seed
            if _state["debug"]:
                raise
            _fail(missing_extra(exc) or f"{type(exc).__name__}: {exc}", 2)
        except Exception as exc:  # an unexpected bug: still one line unless --debug
            if _state["debug"]:
                raise
            _fail(f"{type(exc).__name__}: {exc}", 2)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that what is still buffered for a reader that has gone
    away (`| head`) does not fail again when Python flushes it at exit."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (typer's CliRunner)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _fail(message: str, code: int) -> None:
    first_line = (message.strip().splitlines() or ["failed"])[0]
    # Escaped: a message may hold brackets (`tasktracker[cli]`) that Rich would read as markup.
    err.print(f"[red]error:[/red] {escape(first_line)}", highlight=False, soft_wrap=True)
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
app.add_typer(chat_commands.app, name="chat")
app.add_typer(runs_commands.app, name="runs")
db_commands.app.command("seed")(data_commands.seed)
db_commands.app.command("stats")(data_commands.stats)
db_commands.app.command("diagram")(data_commands.diagram)
db_commands.app.command("reset")(data_commands.reset)
app.command("quickstart")(quickstart.quickstart)
app.command("bench")(bench_cli.bench)
app.command("bench-chat")(bench_cli.bench_chat)
app.command("bench-reminders")(bench_cli.bench_reminders)
app.command("bench-runs")(bench_cli.bench_runs)
app.command("bench-structure")(bench_cli.bench_structure)
app.command("export")(transfer_commands.export)
app.command("import")(transfer_commands.import_)
app.command("search")(search_commands.search)
app.command("coverage")(runs_commands.coverage)


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
