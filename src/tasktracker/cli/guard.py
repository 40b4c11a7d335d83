"""The one guard of every command that deletes rows: `db reset`, a downgrade that drops
tables holding rows. It needs `--yes`, and `--force` too on a database that does not
look like a development one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tasktracker.db.errors import TaskTrackerError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEVELOPMENT_NAME = re.compile(
    r"(?:^|[^a-z])(?:dev|development|test|tests|testing|local|scratch|demo|tmp)(?:[^a-z]|$)",
    re.IGNORECASE,
)
"""A word of the database name (between non-letters) that says "not production":
`tasktracker_dev`, `test-42`, `app_local` match; `latest`, `devices` do not."""


def looks_like_development(url: URL) -> bool:
    """SQLite, or a database whose name says it is for development or tests."""
    return url.get_backend_name() == "sqlite" or bool(DEVELOPMENT_NAME.search(url.database or ""))


def confirm_destruction(
    url: URL, *, verb: str, target: str = "", loss: str, yes: bool, force: bool
) -> None:
    """Refuse to `verb` (the database, `target`) without --yes, where `loss` says what is
    lost, and on a database that does not look like a development one without --force."""
    from tasktracker.db.settings import mask_url

    if not yes:
        raise TaskTrackerError(f"refusing to {verb}{target} without --yes: {loss}")
    if not force and not looks_like_development(url):
        raise TaskTrackerError(
            f"refusing to {verb} {mask_url(url)}{target}: it does not look like a development "
            "database (SQLite, or a name with a word like dev, test or local); "
            "pass --force if it is one"
        )
