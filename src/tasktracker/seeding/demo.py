"""The quickstart demo: two users with a small, realistic workspace in every domain.

Written through the domain repositories (so it exercises the same rules as the
application), in one unit of work, and only once: if the demo users exist, nothing is
written again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.models import MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tasktracker.db.types import utc_now
from tasktracker.tasks.repository import CategoryRepository, TaskRepository

DEMO_PASSWORD = "tasktracker-demo"  # noqa: S105  (a published demo credential)


@dataclass(frozen=True)
class DemoUser:
    email: str
    username: str


ADA = DemoUser("ada@example.com", "ada")
GRACE = DemoUser("grace@example.com", "grace")
DEMO_USERS = (ADA, GRACE)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    """False when the demo was already there (nothing was written)."""
    user_ids: dict[str, uuid.UUID]


def _day(now: datetime, days: float, hour: int = 17) -> datetime:
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def _ada_tasks(session: Session, now: datetime) -> None:
    categories = CategoryRepository(session)
    work = categories.create({"name": "Work", "color": "#2563EB"})
    home = categories.create({"name": "Home", "color": "#16A34A"})
    errands = categories.create({"name": "Errands", "color": "#F59E0B"})
    tasks = TaskRepository(session)
    for title, status, priority, due, category, description in (
        (
            "Submit the quarterly report",
            "in_progress",
            "high",
            -2,
            work,
            "Numbers are in the shared sheet; the summary still needs a chart.",
        ),
        ("Renew the car insurance", "pending", "high", -1, errands, None),
        (
            "Review Grace's pull request",
            "pending",
            "medium",
            1,
            work,
            "Focus on the migration and the new indexes.",
        ),
        ("Book the dentist", "pending", "low", 6, errands, None),
        (
            "Fix the leaking kitchen tap",
            "in_progress",
            "medium",
            3,
            home,
            "Washer size 1/2 inch; the shop on Elm Street has them.",
        ),
        ("Plan the team offsite", "pending", "medium", 21, work, None),
        ("Read 'Designing Data-Intensive Applications'", "pending", "low", None, None, None),
        ("Set up the new laptop", "completed", "medium", -5, work, None),
        ("Pay the electricity bill", "completed", "high", -3, home, None),
    ):
        tasks.create(
            {
                "title": title,
                "description": description,
                "status": status,
                "priority": priority,
                "due_date": None if due is None else _day(now, due),
                "category_id": None if category is None else category.id,
            }
        )


def _ada_conversation(session: Session) -> None:
    conversations = ConversationRepository(session)
    conversation = conversations.start(
        ConversationCreate(
            title="Plan my week",
            first_message=MessageCreate(
                role=MessageRole.USER, content="What is overdue, and what should I do first?"
            ),
        )
    )
    for role, content in (
        (
            MessageRole.ASSISTANT,
            "Two tasks are overdue: 'Submit the quarterly report' (high, in progress) and "
            "'Renew the car insurance' (high). Start with the report: it is already half done.",
        ),
        (
            MessageRole.USER,
            "Good. Move the dentist to next week and remind me about the insurance tonight.",
        ),
        (
            MessageRole.ASSISTANT,
            "Done: 'Book the dentist' is due in six days. I will remind you about the "
            "insurance at 19:00.",
        ),
    ):
        conversations.append(conversation.id, MessageCreate(role=role, content=content))


def _grace_tasks(session: Session, now: datetime) -> None:
    categories = CategoryRepository(session)
    research = categories.create({"name": "Research", "color": "#7C3AED"})
    tasks = TaskRepository(session)
    for title, status, priority, due in (
        ("Write the compiler test plan", "in_progress", "high", 2),
        ("Order lab supplies", "pending", "low", -4),
        ("Present the results", "completed", "high", -10),
    ):
        tasks.create(
            {
                "title": title,
                "status": status,
                "priority": priority,
                "due_date": _day(now, due, 10),
                "category_id": research.id,
            }
        )


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """The caller's connection as it is, or a new one whose transaction commits at the end."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.begin() as connection:
        yield connection


def seed_demo(bind: Engine | Connection, *, password_hash: str | None = None) -> DemoResult:
    """Create the demo users and their data, unless they exist; safe to call repeatedly.

    Everything is written in one transaction (each domain's unit of work is a savepoint of
    it). `password_hash` skips hashing the demo password (tests share one hash)."""
    now = utc_now()
    with _transaction(bind) as connection:
        db = Database(connection)
        with db.session() as session:
            users = UserRepository(session)
            found = {demo.email: users.find(demo.email) for demo in DEMO_USERS}
            if all(found.values()):
                return DemoResult(False, {email: u.id for email, u in found.items() if u})
            if any(found.values()):
                raise ConflictError(
                    "some demo users exist but not all: run `tasktracker db reset --yes`"
                )
            ids = {demo.email: _create_user(session, demo, password_hash) for demo in DEMO_USERS}
        with db.user_scope(ids[ADA.email]) as session:
            _ada_tasks(session, now)
            _ada_conversation(session)
        with db.user_scope(ids[GRACE.email]) as session:
            _grace_tasks(session, now)
    return DemoResult(True, ids)


def _create_user(session: Session, demo: DemoUser, password_hash: str | None) -> uuid.UUID:
    if password_hash is None:
        fields = {"email": demo.email, "username": demo.username, "password": DEMO_PASSWORD}
        return UserRepository(session).register(fields).id
    user = User(email=demo.email, username=demo.username, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user.id
