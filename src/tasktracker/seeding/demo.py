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
from tasktracker.accounts.passwords import hash_password
from tasktracker.accounts.repository import UserRepository
from tasktracker.chat.models import MessageRole
from tasktracker.chat.repository import ConversationRepository
from tasktracker.chat.schemas import ConversationCreate, MessageCreate
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tasktracker.db.types import utc_now
from tasktracker.tasks.label_repository import LabelRepository
from tasktracker.tasks.reminders import ReminderRepository
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.testspec import (
    BaselineService,
    CommandCategoryRepository,
    DataType,
    GenericCommandRepository,
    ParameterCategoryRepository,
    ParameterRepository,
    RequirementRepository,
    RunService,
    StepService,
    TestRunRepository,
    TestSpecificationRepository,
    TraceabilityService,
    VariantRepository,
)

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


_REMINDED = {
    "Review Grace's pull request": {"minutes_before_due": 60},
    "Book the dentist": {"minutes_before_due": 24 * 60},
}
"""Ada's tasks with a reminder (the due date minus these minutes)."""


def _ada_tasks(session: Session, now: datetime) -> None:
    categories = CategoryRepository(session)
    work = categories.create({"name": "Work", "color": "#2563EB"})
    home = categories.create({"name": "Home", "color": "#16A34A"})
    errands = categories.create({"name": "Errands", "color": "#F59E0B"})
    tasks = TaskRepository(session)
    by_title: dict[str, uuid.UUID] = {}
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
        created = tasks.create(
            {
                "title": title,
                "description": description,
                "status": status,
                "priority": priority,
                "due_date": None if due is None else _day(now, due),
                "category_id": None if category is None else category.id,
            }
        )
        if title in _REMINDED:
            ReminderRepository(session).create(created.id, _REMINDED[title])
        by_title[title] = created.id
    _ada_structure(session, by_title)


def _ada_structure(session: Session, by_title: dict[str, uuid.UUID]) -> None:
    """Subtasks of the report (two levels) and labels on a few tasks."""
    tasks = TaskRepository(session)
    report = by_title["Submit the quarterly report"]
    numbers = tasks.create({"title": "Collect the numbers", "parent_id": report}).id
    tasks.update(numbers, {"status": "completed"})
    chart = tasks.create({"title": "Draw the chart", "parent_id": report}).id
    tasks.create({"title": "Pick the colours", "parent_id": chart, "priority": "low"})
    labels = LabelRepository(session)
    urgent = labels.create({"name": "urgent", "color": "#DC2626"}).id
    waiting = labels.create({"name": "waiting on others", "color": "#9333EA"}).id
    labels.create({"name": "someday"})
    labels.attach(report, [urgent])
    labels.attach(by_title["Renew the car insurance"], [urgent, waiting])
    labels.attach(by_title["Review Grace's pull request"], [waiting])


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


def _ada_test_engineering(session: Session) -> None:
    """A bench-test workspace: parameters with variants, commands, requirements (one of them
    uncovered, one changed since its link was reviewed) and two specifications with steps."""
    electrical = ParameterCategoryRepository(session).create({"name": "Electrical"})
    power = CommandCategoryRepository(session).create({"name": "Power supply"})
    parameters = ParameterRepository(session)
    voltage = parameters.create(
        {
            "name": "supply_voltage",
            "description": "Bench supply output",
            "data_type": DataType.FLOAT,
            "unit": "V",
            "min_value": 0,
            "max_value": 30,
            "category_id": electrical.id,
            "variants": [
                {"name": "nominal_12V", "value": "12.0", "is_default": True},
                {"name": "low_battery", "value": "9.5"},
                {"name": "overvoltage", "value": "16.0"},
            ],
        }
    )
    channel = parameters.create(
        {"name": "channel", "data_type": DataType.INTEGER, "min_value": 1, "max_value": 4,
         "default_value": "1", "category_id": electrical.id}
    )  # fmt: skip
    duration = parameters.create(
        {"name": "duration_ms", "data_type": DataType.INTEGER, "unit": "ms", "min_value": 0,
         "max_value": 600_000, "default_value": "1000"}
    )  # fmt: skip
    variants = {v.name: v.id for v in VariantRepository(session).list_for(voltage.id)}
    commands = GenericCommandRepository(session)
    set_voltage = commands.create(
        {
            "name": "SET_VOLTAGE",
            "syntax": "SET_VOLTAGE {channel} {supply_voltage}",
            "category_id": power.id,
            "signature": [{"parameter_id": channel.id}, {"parameter_id": voltage.id}],
        }
    )
    wait = commands.create(
        {
            "name": "WAIT",
            "syntax": "WAIT {duration_ms}",
            "signature": [{"parameter_id": duration.id}],
        }
    )
    measure = commands.create(
        {
            "name": "MEASURE_CURRENT",
            "syntax": "MEASURE_CURRENT {channel}",
            "category_id": power.id,
            "signature": [{"parameter_id": channel.id, "is_required": False}],
        }
    )
    requirements = RequirementRepository(session)
    supply = requirements.create(
        {"key": "REQ-001", "title": "Operate from a 12 V vehicle supply",
         "statement": "The controller shall operate from 9 V to 16 V.",
         "kind": "functional", "priority": "high", "status": "approved"}
    )  # fmt: skip
    brownout = requirements.create(
        {"key": "REQ-002", "title": "Keep settings through a low battery",
         "statement": "The controller shall keep its settings when the supply drops to 9.5 V.",
         "kind": "safety", "priority": "critical", "status": "approved", "parent_id": supply.id}
    )  # fmt: skip
    idle = requirements.create(
        {"key": "REQ-003", "title": "Idle current below 5 mA",
         "statement": "The controller shall draw less than 5 mA when idle.",
         "kind": "performance", "status": "in_review"}
    )  # fmt: skip
    requirements.create(
        {"key": "REQ-004", "title": "Log every supply fault",
         "statement": "The controller shall log each supply fault with a time stamp.",
         "kind": "functional", "status": "draft", "parent_id": supply.id}
    )  # fmt: skip
    specifications = TestSpecificationRepository(session)
    range_test = specifications.create(
        {"key": "TS-001", "title": "Supply range and brown-out", "status": "approved",
         "objective": "Show that the unit works across the supply range and keeps its settings.",
         "preconditions": "Unit on the bench, firmware flashed, supply off."}
    )  # fmt: skip
    idle_test = specifications.create(
        {"key": "TS-002", "title": "Idle current", "status": "ready",
         "preconditions": "Unit configured, display off."}
    )  # fmt: skip
    steps = StepService(session)
    nominal = [{"parameter_id": channel.id}, {"parameter_id": voltage.id}]  # defaults
    for specification, action, expected, command, arguments in (
        (range_test, "Power the unit at nominal voltage", "The unit boots within 2 s",
         set_voltage, nominal),
        (range_test, "Let the unit settle", None, wait,
         [{"parameter_id": duration.id, "value": "2000"}]),
        (range_test, "Drop the supply to low battery", "Settings are kept", set_voltage,
         [{"parameter_id": channel.id, "value": "1"},
          {"parameter_id": voltage.id, "variant_id": variants["low_battery"]}]),
        (range_test, "Raise the supply to overvoltage", "The unit shuts down safely", set_voltage,
         [{"parameter_id": channel.id, "value": "1"},
          {"parameter_id": voltage.id, "variant_id": variants["overvoltage"]}]),
        (idle_test, "Power the unit at nominal voltage", None, set_voltage, nominal),
        (idle_test, "Wait for idle", None, wait, []),
        (idle_test, "Measure the supply current", "Below 5 mA", measure, []),
        (idle_test, "Read the fault log", "No entries", None, []),
    ):  # fmt: skip
        steps.insert(
            specification.id,
            {
                "action": action,
                "expected_result": expected,
                "command_id": None if command is None else command.id,
                "arguments": arguments,
            },
        )
    traceability = TraceabilityService(session)
    traceability.link(supply.id, range_test.id)
    traceability.link(brownout.id, range_test.id)
    traceability.link(idle.id, idle_test.id)
    BaselineService(session).freeze({"name": "release 1.0", "description": "As reviewed."})
    # Changed after its review (and the baseline): the link to TS-001 becomes suspect.
    requirements.update(
        brownout.id,
        {"statement": "The controller shall keep its settings when the supply drops to 9.0 V."},
    )
    # Last night's bench run: the range test passed, the idle current was too high.
    run = TestRunRepository(session).create(
        {"name": "nightly bench", "status": "done", "environment": {"bench": "B2"}}
    )
    executions = RunService(session)
    for specification, status, message in (
        (range_test, "passed", None),
        (idle_test, "failed", "Measured 7.2 mA"),
    ):
        execution = executions.add_execution(run.id, specification.id)
        steps_run = [{"position": 1, "status": "passed", "duration_ms": 2100}]
        if status == "failed":
            steps_run.append({"position": 3, "status": "failed", "actual_result": "7.2 mA"})
        result = {"status": status, "tester": "ada", "message": message}
        executions.record(execution.id, result, steps_run)


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
            # One hash for both: the password is public, and Argon2 is slow on purpose.
            hashed = password_hash or hash_password(DEMO_PASSWORD)
            ids = {demo.email: _create_user(session, demo, hashed) for demo in DEMO_USERS}
        with db.user_scope(ids[ADA.email]) as session:
            _ada_tasks(session, now)
            _ada_conversation(session)
            _ada_test_engineering(session)
        with db.user_scope(ids[GRACE.email]) as session:
            _grace_tasks(session, now)
    return DemoResult(True, ids)


def _create_user(session: Session, demo: DemoUser, password_hash: str) -> uuid.UUID:
    user = User(email=demo.email, username=demo.username, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user.id
