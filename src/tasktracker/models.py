"""Every table model, imported once so the shared metadata is complete (Alembic, tools)."""

from tasktracker.accounts.models import User
from tasktracker.db.base import metadata
from tasktracker.tasks.models import Category, Task

__all__ = ["Category", "Task", "User", "metadata"]
