"""The reference data set: the project's seeder, plus what some operations need in bulk.

The base is `tasktracker.seeding.volume` (the same data `tasktracker db seed` loads,
through the project's bulk path): per user 5 categories, `tasks_per_user` tasks, a few
short conversations and a test-engineering workspace. The benchmark adds, per user and
through the same bulk path, one long conversation (`long_messages` messages, so "latest 50
messages" reads a full page) and one specification of `spec_steps` steps that invoke
commands with arguments.

A data set is found again by the seeder's e-mail pattern for its seed (`--reuse`) and is
removed by deleting its users (everything else cascades).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, text

from tasktracker.accounts.models import User
from tasktracker.chat.models import Conversation, Message
from tasktracker.db.bulk import bulk_insert
from tasktracker.seeding.volume import SeedPlan
from tasktracker.seeding.volume import load as seed
from tasktracker.tasks.models import Task
from tasktracker.testspec.models import (
    GenericCommandParameter,
    ParameterVariant,
    TestSpecification,
    TestStep,
    TestStepArgument,
)

LONG_CONVERSATION_TITLE = "Benchmark: long conversation"
SPEC_KEY = "BENCH-SPEC"


def _table(model: type[Any]) -> Table:
    return model.__table__  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DatasetSpec:
    """The size of a data set (and the seed of its content)."""

    users: int = 100
    tasks_per_user: int = 10_000
    long_messages: int = 200
    spec_steps: int = 50
    seed: int = 42

    def plan(self) -> SeedPlan:
        return SeedPlan(users=self.users, tasks_per_user=self.tasks_per_user, seed=self.seed)

    def counts(self) -> dict[str, int]:
        """Rows per table, the seeder's plus the benchmark's own."""
        counts = self.plan().counts()
        counts["conversations"] += self.users
        counts["messages"] += self.users * self.long_messages
        counts["test_specifications"] += self.users
        counts["test_steps"] += self.users * self.spec_steps
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": self.counts()}


@dataclass
class LoadReport:
    """What loading took: rows per table, seconds, and the statistics pass after it."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    analyze_seconds: float = 0.0
    reused: bool = False

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "reused": self.reused,
            "rows": self.total,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "analyze_seconds": round(self.analyze_seconds, 3),
            "tables": self.rows,
        }


def _users_of(seed: int) -> Any:
    """The ids of the seeder's users for `seed` (their e-mails end in `.s<seed>.<n>@...`)."""
    users = _table(User)
    return select(users.c.id).where(users.c.email.like(f"%.s{seed}.%@example.com"))


def existing(connection: Connection, seed: int) -> DatasetSpec | None:
    """The size of the data set of `seed` already in the database (None: none, or only part
    of one)."""
    user_ids = _users_of(seed)
    users = connection.scalar(select(func.count()).select_from(user_ids.subquery())) or 0
    if not users:
        return None

    def count(model: type[Any], *where: Any) -> int:
        table = _table(model)
        statement = select(func.count()).select_from(table).where(table.c.user_id.in_(user_ids))
        return connection.scalar(statement.where(*where)) or 0

    conversations = _table(Conversation)
    long_conversations = count(Conversation, conversations.c.title == LONG_CONVERSATION_TITLE)
    specifications = _table(TestSpecification)
    if (
        long_conversations != users
        or count(TestSpecification, specifications.c.key == SPEC_KEY) != users
    ):
        return None
    messages = _table(Message)
    long_ids = select(conversations.c.id).where(conversations.c.title == LONG_CONVERSATION_TITLE)
    steps = _table(TestStep)
    spec_ids = select(specifications.c.id).where(specifications.c.key == SPEC_KEY)
    return DatasetSpec(
        users=users,
        tasks_per_user=count(Task) // users,
        long_messages=count(Message, messages.c.conversation_id.in_(long_ids)) // users,
        spec_steps=count(TestStep, steps.c.test_specification_id.in_(spec_ids)) // users,
        seed=seed,
    )


def remove(engine: Engine, seed: int) -> int:
    """Delete the users of `seed`'s data set and (by cascade) all they own; returns how many."""
    with engine.begin() as connection:
        users = _table(User)
        return connection.execute(users.delete().where(users.c.id.in_(_users_of(seed)))).rowcount


def load(
    engine: Engine,
    spec: DatasetSpec,
    *,
    on_progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load a new data set (in one transaction), then refresh the planner statistics."""
    report = LoadReport()
    started = time.perf_counter()
    with engine.begin() as connection:
        seeded = seed(connection, spec.plan(), on_progress=on_progress)
        report.rows = dict(seeded.rows)
        for table, count in add_workload(connection, spec, on_progress).items():
            report.rows[table] = report.rows.get(table, 0) + count
    report.seconds = time.perf_counter() - started
    report.analyze_seconds = analyze(engine)
    return report


def add_workload(
    connection: Connection,
    spec: DatasetSpec,
    on_progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Add the benchmark's own rows to the seeded users of `spec.seed`: per user a long
    conversation and a specification of `spec.spec_steps` steps; returns rows per table."""
    user_ids = list(connection.scalars(_users_of(spec.seed)))
    now = datetime.now(UTC)
    conversations: list[dict[str, Any]] = []
    for number, user_id in enumerate(user_ids):
        start = now - timedelta(days=2, minutes=number)
        conversations.append(
            {
                "user_id": user_id,
                "title": LONG_CONVERSATION_TITLE,
                "created_at": start,
                "updated_at": start + timedelta(seconds=spec.long_messages),
            }
        )
    rows: dict[str, int] = {}

    def insert(model: type[Any], data: Any) -> None:
        name = model.__tablename__

        def progress(count: int) -> None:
            if on_progress is not None:
                on_progress(name, count)

        rows[name] = bulk_insert(connection, model, data, on_progress=progress)

    insert(Conversation, conversations)
    insert(Message, _messages(conversations, spec.long_messages, spec.seed))
    specifications = [
        {
            "user_id": user_id,
            "key": SPEC_KEY,
            "title": f"Benchmark specification of {spec.spec_steps} steps",
            "objective": "Exercise a long specification read with commands and arguments.",
        }
        for user_id in user_ids
    ]
    insert(TestSpecification, specifications)
    signatures = _signatures(connection, user_ids)
    steps = list(_steps(specifications, signatures, spec.spec_steps))
    insert(TestStep, steps)
    insert(TestStepArgument, _arguments(steps, signatures, spec.seed))
    return rows


def _messages(
    conversations: list[dict[str, Any]], count: int, seed: int
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - not crypto
    words = [
        "plan",
        "the",
        "release",
        "review",
        "the",
        "tests",
        "ask",
        "the",
        "assistant",
        "about",
        "overdue",
        "tasks",
    ]
    for conversation in conversations:
        for position in range(count):
            yield {
                "user_id": conversation["user_id"],
                "conversation_id": conversation["id"],
                "role": "user" if position % 2 == 0 else "assistant",
                "content": " ".join(rng.choices(words, k=rng.randrange(5, 80))),
                "created_at": conversation["created_at"] + timedelta(seconds=position + 1),
            }


@dataclass
class _Command:
    id: uuid.UUID
    parameters: list[uuid.UUID]
    variants: dict[uuid.UUID, list[uuid.UUID]]


def _signatures(
    connection: Connection, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[_Command]]:
    """Each user's commands with their signature and the variants of each parameter."""
    signature = _table(GenericCommandParameter)
    variants = _table(ParameterVariant)
    by_user: dict[uuid.UUID, dict[uuid.UUID, _Command]] = defaultdict(dict)
    rows = connection.execute(
        select(signature.c.user_id, signature.c.command_id, signature.c.parameter_id)
        .where(signature.c.user_id.in_(user_ids))
        .order_by(signature.c.user_id, signature.c.command_id, signature.c.position)
    )
    for user_id, command_id, parameter_id in rows:
        command = by_user[user_id].setdefault(command_id, _Command(command_id, [], {}))
        command.parameters.append(parameter_id)
    variant_rows = connection.execute(
        select(variants.c.user_id, variants.c.parameter_id, variants.c.id).where(
            variants.c.user_id.in_(user_ids)
        )
    )
    of_parameter: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for _user_id, parameter_id, variant_id in variant_rows:
        of_parameter[parameter_id].append(variant_id)
    result: dict[uuid.UUID, list[_Command]] = {}
    for user_id, commands in by_user.items():
        for command in commands.values():
            command.variants = {p: of_parameter[p] for p in command.parameters}
        result[user_id] = sorted(commands.values(), key=lambda c: c.id)
    return result


def _steps(
    specifications: list[dict[str, Any]],
    signatures: dict[uuid.UUID, list[_Command]],
    count: int,
) -> Iterator[dict[str, Any]]:
    for specification in specifications:
        commands = signatures.get(specification["user_id"], [])
        for position in range(1, count + 1):
            command = commands[position % len(commands)] if commands else None
            yield {
                "user_id": specification["user_id"],
                "test_specification_id": specification["id"],
                "position": position,
                "action": f"Step {position}",
                "expected_result": "As specified" if position % 3 else None,
                "command_id": command.id if command else None,
            }


def _arguments(
    steps: list[dict[str, Any]], signatures: dict[uuid.UUID, list[_Command]], seed: int
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - not crypto
    for step in steps:
        commands = {c.id: c for c in signatures.get(step["user_id"], [])}
        command = commands.get(step["command_id"])
        if command is None:
            continue
        for parameter_id in command.parameters:
            variants = command.variants.get(parameter_id) or []
            variant = rng.choice(variants) if variants and rng.random() < 0.5 else None
            yield {
                "user_id": step["user_id"],
                "test_step_id": step["id"],
                "parameter_id": parameter_id,
                "variant_id": variant,
                "value": None if variant else str(rng.randrange(1, 4)),
            }


def analyze(engine: Engine) -> float:
    """Refresh planner statistics (and, on PostgreSQL, the visibility map); returns seconds."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


@dataclass
class Fixture:
    """Ids the operations need, read once from the loaded data set."""

    user_ids: list[uuid.UUID]
    task_ids: dict[uuid.UUID, list[uuid.UUID]]
    long_conversation: dict[uuid.UUID, uuid.UUID]
    specification: dict[uuid.UUID, uuid.UUID]


def read_fixture(connection: Connection, seed: int, *, tasks_per_user: int = 100) -> Fixture:
    """The data set's users, a random sample of each one's task ids, and each one's long
    conversation and benchmark specification."""
    rng = random.Random(seed)  # noqa: S311 - not crypto
    tasks, conversations = _table(Task), _table(Conversation)
    specifications = _table(TestSpecification)
    user_ids = sorted(connection.scalars(_users_of(seed)))
    task_ids: dict[uuid.UUID, list[uuid.UUID]] = {}
    for user_id in user_ids:
        ids = list(connection.scalars(select(tasks.c.id).where(tasks.c.user_id == user_id)))
        task_ids[user_id] = rng.sample(ids, min(tasks_per_user, len(ids)))
    long_conversation: dict[uuid.UUID, uuid.UUID] = dict(
        connection.execute(
            select(conversations.c.user_id, conversations.c.id).where(
                conversations.c.title == LONG_CONVERSATION_TITLE,
                conversations.c.user_id.in_(user_ids),
            )
        ).all()
    )
    specification: dict[uuid.UUID, uuid.UUID] = dict(
        connection.execute(
            select(specifications.c.user_id, specifications.c.id).where(
                specifications.c.key == SPEC_KEY, specifications.c.user_id.in_(user_ids)
            )
        ).all()
    )
    return Fixture(user_ids, task_ids, long_conversation, specification)
