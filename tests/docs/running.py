"""Running what the docs show: a file's python blocks, and `tasktracker` command lines."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tasktracker.cli import app
from tasktracker.db.sessions import Database
from tests.docs.blocks import PYTHON, Block, CommandLine, blocks


def runnable_python(path: Path) -> list[Block]:
    return [block for block in blocks(path) if block.language in PYTHON and not block.not_run]


def run_python_blocks(path: Path) -> dict[str, Any]:
    """Run the file's python blocks in order in one namespace (as one script would), and
    return it. A failure names the file and the block's line; tracebacks point at the
    Markdown lines themselves."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        for block in runnable_python(path):
            _run(block, namespace)
    finally:
        for value in namespace.values():
            if isinstance(value, Database):
                value.dispose()
    return namespace


def _run(block: Block, namespace: dict[str, Any]) -> None:
    # Leading newlines put each line of the block at its own line number in the file.
    source = "\n" * (block.first_code_line - 1) + block.code
    try:
        # dont_inherit: a block runs as a script would, without this module's __future__ imports.
        exec(compile(source, str(block.path), "exec", dont_inherit=True), namespace)
    except Exception as exc:
        # Without this function's own frame: the first frame shown is the block's line.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        detail = "".join(traceback.format_exception(type(exc), exc, tb))
    else:
        return
    pytest.fail(f"{block.where}: the ```python block fails:\n{detail}", pytrace=False)


def check_command(command: CommandLine) -> None:
    """Fail unless the command line names real commands and options of `tasktracker`.

    It is parsed by the real app with `--help` added (before any `--`), so nothing runs:
    an unknown command or option fails the parse, as it would for a reader."""
    arguments = list(command.arguments)
    end = arguments.index("--") if "--" in arguments else len(arguments)
    arguments.insert(end, "--help")
    result = CliRunner().invoke(app, arguments)
    if result.exit_code != 0 or "Usage: tasktracker" not in result.output:
        reason = (result.output.strip().splitlines() or [repr(result.exception)])[-1]
        pytest.fail(f"{command.where}: `{command.text}`: {reason}", pytrace=False)
