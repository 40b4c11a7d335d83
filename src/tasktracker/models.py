"""Every table model, imported once so the shared metadata is complete (Alembic, tools)."""

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.base import metadata
from tasktracker.tasks.models import Category, Task

__all__ = ["Category", "Conversation", "Message", "Task", "User", "metadata"]
