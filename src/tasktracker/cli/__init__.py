"""The `tasktracker` command line: thin commands over the package's public API."""

from tasktracker.cli.app import app, main

__all__ = ["app", "main"]
