"""The `cli` extra (Typer, Rich, Faker): the one-line hint where a part of it is missing.

No third-party import here: it must load where the extra is not installed.
"""

from __future__ import annotations

CLI_EXTRA = frozenset({"typer", "click", "rich", "faker"})


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The hint for a module of the extra that could not be imported; None for others."""
    package = (exc.name or "").partition(".")[0]
    if package not in CLI_EXTRA:
        return None
    return (
        f"the tasktracker command needs the cli extra ({package} is missing): "
        "pip install 'tasktracker[cli]'"
    )
