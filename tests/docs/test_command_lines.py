"""Every `tasktracker ...` command shown in README.md and docs/*.md (in ```bash/```sh blocks
and inline code spans) names real commands and options of the app."""

from __future__ import annotations

import pytest

from tests.docs.blocks import CommandLine, DocError, command_lines, doc_files
from tests.docs.running import check_command


def _commands() -> list[CommandLine]:
    found: list[CommandLine] = []
    for path in doc_files():
        try:
            found.extend(command_lines(path))
        except DocError:
            continue  # reported by test_python_blocks.py::test_every_doc_file_reads
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: f"{c.where} {c.text}")
@pytest.mark.usefixtures("isolated")
def test_command_names_real_commands_and_options(command: CommandLine) -> None:
    check_command(command)
