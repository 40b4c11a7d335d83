"""Two users with the same searchable words in every domain: what one finds, the other must not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import TaskStatus
from tasktracker.tasks.repository import TaskRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService


@dataclass(frozen=True)
class Library:
    ada: uuid.UUID
    bob: uuid.UUID
    tasks: dict[str, uuid.UUID]
    """Ada's tasks by title."""
    conversations: list[uuid.UUID]
    """Ada's two conversations."""


TASKS = [
    ("Quarterly report", "numbers for the board", TaskStatus.PENDING),
    ("Call the bank", "about the quarterly report", TaskStatus.PENDING),
    ("Report card", "sign it", TaskStatus.COMPLETED),
    ("Groceries", "milk, eggs; 100% organic", TaskStatus.PENDING),
]


def fill(db: Database, user: uuid.UUID, name: str) -> tuple[dict[str, uuid.UUID], list[uuid.UUID]]:
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        found = {
            title: tasks.create({"title": title, "description": body, "status": status}).id
            for title, body, status in TASKS
        }
        tasks.create({"title": f"{name} secret quarterly report"})
        chats = ConversationRepository(session)
        conversations = []
        for text in ("draft the quarterly report", "the report is late"):
            conversation = chats.start({"title": "chat"})
            chats.append(conversation.id, {"role": "user", "content": text})
            conversations.append(conversation.id)
        RequirementRepository(session).create(
            {
                "key": "REQ-1",
                "title": "Quarterly report export",
                "statement": "The system shall export it.",
            }
        )
        spec = TestSpecificationRepository(session).create(
            {"key": "TS-1", "title": "Export", "objective": "check the export"}
        )
        StepService(session).insert(
            spec.id, {"action": "open the quarterly report", "expected_result": "it opens"}
        )
    return found, conversations


@pytest.fixture
def library(db: Database, make_user: Callable[[str], uuid.UUID]) -> Library:
    ada, bob = make_user("ada"), make_user("bob")
    tasks, conversations = fill(db, ada, "ada")
    fill(db, bob, "bob")
    return Library(ada, bob, tasks, conversations)
