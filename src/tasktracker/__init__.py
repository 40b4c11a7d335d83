"""TaskTracker data layer: users, tasks, chat and test engineering on PostgreSQL and SQLite.

The package's public names are the core's (`tasktracker.db`), each imported on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasktracker.db import __all__ as __all__
from tasktracker.db import __dir__ as __dir__
from tasktracker.db import __getattr__ as __getattr__

if TYPE_CHECKING:
    from tasktracker.db import *  # noqa: F403
