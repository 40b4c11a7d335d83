"""Every table model, imported once so the shared metadata is complete (Alembic, tools)."""

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.base import metadata
from tasktracker.tasks.labels import Label, TaskLabel
from tasktracker.tasks.models import Category, Task
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    Requirement,
    RequirementTestLink,
    TestSpecification,
    TestStep,
    TestStepArgument,
)

__all__ = [
    "Category",
    "CommandCategory",
    "Conversation",
    "GenericCommand",
    "GenericCommandParameter",
    "Label",
    "Message",
    "Parameter",
    "ParameterCategory",
    "ParameterVariant",
    "Requirement",
    "RequirementTestLink",
    "Task",
    "TaskLabel",
    "TestSpecification",
    "TestStep",
    "TestStepArgument",
    "User",
    "metadata",
]
