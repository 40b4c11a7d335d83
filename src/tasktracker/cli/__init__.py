"""The `tasktracker` command line: thin commands over the package's public API.

It needs the `cli` extra (Typer, Rich, Faker). The console script is installed with the
package either way, so where the extra is missing `main` says so in one line.
"""

from __future__ import annotations

import sys

from tasktracker.cli.extra import missing_extra

__all__ = ["app", "main"]

try:
    from tasktracker.cli.app import app, main
except ModuleNotFoundError as missing:
    _hint = missing_extra(missing)
    if _hint is None:
        raise

    def main() -> None:
        """Report the missing extra (the `tasktracker` console script without Typer/Rich)."""
        sys.stderr.write(f"error: {_hint}\n")
        raise SystemExit(2) from None
