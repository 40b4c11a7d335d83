"""The `tasktracker` command line: thin commands over the package's public API.

It needs the `cli` extra (Typer, Rich, Faker). The console script is installed with the
package either way, so where the extra is missing `main` says so in one line.
"""

from __future__ import annotations

import sys

__all__ = ["app", "main"]

CLI_EXTRA = frozenset({"typer", "click", "rich", "faker"})

try:
    from tasktracker.cli.app import app, main
except ModuleNotFoundError as missing:
    _package = (missing.name or "").partition(".")[0]
    if _package not in CLI_EXTRA:
        raise
    _hint = (
        f"error: the tasktracker command needs the cli extra ({_package} is missing): "
        "pip install 'tasktracker[cli]'\n"
    )

    def main() -> None:
        """Report the missing extra (the `tasktracker` console script without Typer/Rich)."""
        sys.stderr.write(_hint)
        raise SystemExit(2) from None
