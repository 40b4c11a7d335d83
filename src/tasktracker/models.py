"""Every table model, imported once so the shared metadata is complete (Alembic, tools)."""

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.base import metadata
from tasktracker.tasks.labels import Label, TaskLabel
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.reminders import TaskReminder
from tasktracker.testspec.models import (
    Baseline,
    BaselineRequirement,
    CommandCategory,
    GenericCommand,
    GenericCommandParameter,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    Requirement,
    RequirementTestLink,
    RequirementVersion,
    TestExecution,
    TestRun,
    TestSpecification,
    TestSpecificationVersion,
    TestStep,
    TestStepArgument,
    TestStepResult,
)

__all__ = [
    "Baseline",
    "BaselineRequirement",
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
    "RequirementVersion",
    "Task",
    "TaskLabel",
    "TaskReminder",
    "TestExecution",
    "TestRun",
    "TestSpecification",
    "TestSpecificationVersion",
    "TestStep",
    "TestStepArgument",
    "TestStepResult",
    "User",
    "metadata",
]
