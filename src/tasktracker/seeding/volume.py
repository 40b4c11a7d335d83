"""Volume data: deterministic data for every domain at any size, loaded through the bulk path
(what `tasktracker db seed` and the benchmarks load; the quickstart's demo is `seeding.demo`).

    plan = SeedPlan(users=100, tasks_per_user=10_000, seed=42)
    with engine.begin() as connection:
        report = load(connection, plan)

The same plan (seed, sizes and anchor time) always produces the same content: every text,
choice and date comes from Faker and `random.Random` seeded from the plan, per table and
per user, so a table's data does not depend on how the others were generated. Only the
ids (UUIDv7, time-ordered by design) and the insertion timestamps of a few tables differ
between two runs.

Per user: 5 task categories, `tasks_per_user` tasks (every status and priority, due dates
around the anchor, some overdue; every tenth a subtask of the one before it), 3 labels
(on every 7th, 11th and 50th task), one conversation per 1,000 tasks (at least one) of 6
messages, and a test-engineering workspace that grows with the tasks: parameters with
variants, commands with signatures, one requirement and one test specification per 500
tasks (at least 5 of each) with 4 steps each, their arguments, and links that leave one
requirement in 7 uncovered and make some links suspect. Row counts are exact and known up
front (`SeedPlan.counts`), so progress can be shown against real totals.

Every seeded user has the password `SEED_PASSWORD` (hashed once: Argon2 is slow by design).
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from faker import Faker
from sqlalchemy import Connection

from tasktracker.accounts.models import User
from tasktracker.accounts.passwords import hash_password
from tasktracker.chat.models import Conversation, Message, ToolCall, TurnSummary
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.types import new_id
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

SEED_PASSWORD = "tasktracker-seed"  # noqa: S105  (a published development credential)
CATEGORIES = (
    ("Work", "#2563EB"),
    ("Home", "#16A34A"),
    ("Errands", "#F59E0B"),
    ("Health", "#DC2626"),
    ("Learning", "#7C3AED"),
)
LABELS = (("urgent", "#DC2626"), ("waiting", "#9333EA"), ("someday", "#6B7280"))
LABEL_EVERY = (7, 11, 50)
"""Label k is on every `LABEL_EVERY[k]`th task of the user, from the first."""
SUBTASK_EVERY = 10
MESSAGES_PER_CONVERSATION = 6
_ROLES = ("user", "assistant", "tool", "user", "assistant", "assistant")
_SEED_CALL_ID = "call_list_tasks"


def _seed_parts(number: int, content: str) -> list[dict[str, Any]] | None:
    """The second message calls a tool and the third answers it; the others are text only
    (no parts, as messages stored before parts existed)."""
    if number == 1:
        call = {"type": "tool_call", "tool_call_id": _SEED_CALL_ID, "tool_name": "list_tasks"}
        return [{"type": "text", "text": content}, {**call, "arguments": {"status": "pending"}}]
    if number == 2:
        result = {"type": "tool_result", "tool_call_id": _SEED_CALL_ID, "status": "ok"}
        return [{**result, "result": {"count": 3}}]
    return None


STEPS_PER_SPECIFICATION = 4
TASKS_PER_CONVERSATION = 1_000
TASKS_PER_REMINDER = 10
"""Every tenth task has a reminder."""
TASKS_PER_REQUIREMENT = 500
MIN_REQUIREMENTS = 5
UNCOVERED_EVERY = 7
"""One requirement in 7 (the 5th, so even the smallest workspace has one) gets no test
specification: the traceability matrix shows gaps."""

Row = dict[str, Any]
ProgressCallback = Callable[[str, int], None]


@dataclass(frozen=True)
class _Parameter:
    name: str
    data_type: str
    unit: str | None
    minimum: float | None
    maximum: float | None
    default: str | None
    category: int
    variants: tuple[tuple[str, str], ...]
    """(name, value); the first is the default variant."""


_PARAMETERS = (
    _Parameter("supply_voltage", "float", "V", 0, 30, "12.0", 0,
               (("nominal_12V", "12.0"), ("low_battery", "9.5"), ("overvoltage", "16.0"))),
    _Parameter("channel", "integer", None, 1, 4, "1", 0, (("ch1", "1"), ("ch2", "2"))),
    _Parameter("duration_ms", "integer", "ms", 0, 600_000, "1000", 1,
               (("short", "100"), ("long", "5000"))),
    _Parameter("mode", "string", None, None, None, None, 1, (("eco", "eco"), ("sport", "sport"))),
)  # fmt: skip
_COMMANDS = (
    # name, category, syntax, signature: (parameter index, required)
    ("SET_VOLTAGE", 0, "SET_VOLTAGE {channel} {supply_voltage}", ((1, True), (0, True))),
    ("WAIT", 1, "WAIT {duration_ms}", ((2, True),)),
    ("SET_MODE", 1, "SET_MODE {mode}", ((3, True),)),
    ("MEASURE_CURRENT", 0, "MEASURE_CURRENT {channel}", ((1, False),)),
)
_COMMAND_CATEGORIES = ("Power supply", "Sequencing")
_PARAMETER_CATEGORIES = ("Electrical", "Timing")
# Steps of every specification: (command index or None, action, expected result)
_STEPS = (
    (0, "Power the unit from the bench supply", "The unit boots within 2 s"),
    (1, "Let the unit settle", None),
    (3, "Measure the supply current", "The current is below the budget of the mode"),
    (None, "Inspect the status LED", "The LED shows steady green"),
)
_COMPONENTS = ("controller", "power stage", "display", "logger", "bootloader", "CAN interface")
_KINDS = ("functional", "performance", "interface", "safety", "security", "other")
_LEVELS = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class SeedPlan:
    users: int
    tasks_per_user: int
    seed: int = 42
    anchor: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    )
    """Dates are spread around this instant (due dates before it are overdue)."""

    @property
    def conversations_per_user(self) -> int:
        return max(1, self.tasks_per_user // TASKS_PER_CONVERSATION)

    @property
    def requirements_per_user(self) -> int:
        return max(MIN_REQUIREMENTS, self.tasks_per_user // TASKS_PER_REQUIREMENT)

    def _links_per_user(self) -> int:
        count = self.requirements_per_user
        return sum(_links_of(i, count) for i in range(count))

    def counts(self) -> dict[str, int]:
        """Exactly how many rows each table gets, in insertion order (parents first)."""
        n, specs = self.users, self.requirements_per_user
        conversations = self.conversations_per_user
        arguments = sum(len(_COMMANDS[c][3]) for c, *_ in _STEPS if c is not None)
        return {
            "users": n,
            "categories": n * len(CATEGORIES),
            "tasks": n * self.tasks_per_user,
            "task_reminders": n * -(-self.tasks_per_user // TASKS_PER_REMINDER),
            "labels": n * len(LABELS),
            "task_labels": n * sum(len(range(0, self.tasks_per_user, e)) for e in LABEL_EVERY),
            "conversations": n * conversations,
            "messages": n * conversations * MESSAGES_PER_CONVERSATION,
            "message_tool_calls": n * conversations,
            "conversation_summaries": n * conversations,
            "command_categories": n * len(_COMMAND_CATEGORIES),
            "parameter_categories": n * len(_PARAMETER_CATEGORIES),
            "parameters": n * len(_PARAMETERS),
            "parameter_variants": n * sum(len(p.variants) for p in _PARAMETERS),
            "generic_commands": n * len(_COMMANDS),
            "generic_command_parameters": n * sum(len(c[3]) for c in _COMMANDS),
            "requirements": n * specs,
            "test_specifications": n * specs,
            "requirement_test_links": n * self._links_per_user(),
            "test_steps": n * specs * len(_STEPS),
            "test_step_arguments": n * specs * arguments,
            "requirement_versions": n * specs,
            "test_specification_versions": n * specs,
            "baselines": n,
            "baseline_requirements": n * specs,
            "test_runs": n,
            "test_executions": n * specs,
            "test_step_results": n * specs * STEP_RESULTS,
        }


STEP_RESULTS = 2
"""Each seeded execution records its first two steps."""
FAILED_EVERY = 5
"""One seeded execution in 5 failed (the others passed)."""


def _links_of(index: int, count: int) -> int:
    """How many specifications requirement `index` is linked to (0: uncovered)."""
    if index % UNCOVERED_EVERY == MIN_REQUIREMENTS - 1:
        return 0
    return 2 if index % 3 == 0 and count > 1 else 1


@dataclass(frozen=True)
class SeedReport:
    rows: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else float("inf")


class _Pools:
    """Faker text generated once per seed; rows pick from it (Faker per row is too slow)."""

    def __init__(self, seed: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.fake = fake
        self.titles = [
            fake.sentence(nb_words=fake.random_int(3, 8)).rstrip(".")[:200] for _ in range(4000)
        ]
        self.descriptions = [fake.paragraph(nb_sentences=3)[:5000] for _ in range(800)]
        self.messages = [fake.paragraph(nb_sentences=4) for _ in range(800)]
        self.conversation_titles = [fake.catch_phrase()[:200] for _ in range(300)]
        self.objectives = [fake.paragraph(nb_sentences=2) for _ in range(200)]
        self.features = [fake.bs() for _ in range(300)]


class _Generator:
    """The rows of every table for one plan; ids of parents are kept to reference them."""

    def __init__(self, plan: SeedPlan, password_hash: str) -> None:
        self.plan = plan
        self.password_hash = password_hash
        self.user_ids = [new_id() for _ in range(plan.users)]
        self.category_ids: list[list[uuid.UUID]] = []
        self.task_ids: dict[int, list[uuid.UUID]] = {}
        self.label_ids: list[list[uuid.UUID]] = []
        self.conversation_ids: list[list[tuple[uuid.UUID, datetime]]] = []
        self.tool_calls: list[list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]] = []
        self.reminded: list[list[tuple[uuid.UUID, datetime | None, datetime]]] = []
        self.command_category_ids: list[list[uuid.UUID]] = []
        self.parameter_category_ids: list[list[uuid.UUID]] = []
        self.parameter_ids: list[list[uuid.UUID]] = []
        self.variant_ids: list[list[list[uuid.UUID]]] = []
        self.command_ids: list[list[uuid.UUID]] = []
        self.requirements: list[list[tuple[uuid.UUID, int]]] = []
        self.specification_ids: list[list[uuid.UUID]] = []
        self.step_ids: list[list[uuid.UUID]] = []
        self.requirement_version_ids: list[list[uuid.UUID]] = []
        self.specification_version_ids: list[list[uuid.UUID]] = []
        self.baseline_ids: list[uuid.UUID] = []
        self.run_ids: list[uuid.UUID] = []
        self.execution_ids: list[list[uuid.UUID]] = []
        self.requirement_rows: list[list[Row]] = []
        self.specification_rows: list[list[Row]] = []

    @cached_property
    def pools(self) -> _Pools:
        return _Pools(self.plan.seed)

    def _rng(self, table: str, user: int) -> random.Random:
        return random.Random(f"{self.plan.seed}:{table}:{user}")  # noqa: S311  (not crypto)

    def _past(self, rng: random.Random, days: int) -> datetime:
        return self.plan.anchor - timedelta(seconds=rng.randrange(days * 86_400))

    def tables(self) -> list[tuple[type[Any], Callable[[], Iterator[Row]]]]:
        return [
            (User, self.users),
            (Category, self.categories),
            (Task, self.tasks),
            (TaskReminder, self.task_reminders),
            (Label, self.labels),
            (TaskLabel, self.task_labels),
            (Conversation, self.conversations),
            (Message, self.messages),
            (ToolCall, self.message_tool_calls),
            (TurnSummary, self.conversation_summaries),
            (CommandCategory, self.command_categories),
            (ParameterCategory, self.parameter_categories),
            (Parameter, self.parameters),
            (ParameterVariant, self.parameter_variants),
            (GenericCommand, self.generic_commands),
            (GenericCommandParameter, self.signatures),
            (Requirement, self.requirements_rows),
            (TestSpecification, self.specifications),
            (RequirementTestLink, self.links),
            (TestStep, self.steps),
            (TestStepArgument, self.arguments),
            (RequirementVersion, self.requirement_versions),
            (TestSpecificationVersion, self.specification_versions),
            (Baseline, self.baselines),
            (BaselineRequirement, self.baseline_requirements),
            (TestRun, self.runs),
            (TestExecution, self.executions),
            (TestStepResult, self.step_results),
        ]

    # accounts and tasks

    def users(self) -> Iterator[Row]:
        fake = Faker("en_US")
        fake.seed_instance(self.plan.seed)
        for index, user_id in enumerate(self.user_ids):
            username = f"{fake.user_name()}.s{self.plan.seed}.{index}"[-50:]
            created = self._past(self._rng("users", index), 730)
            yield {
                "id": user_id,
                "email": f"{username}@example.com",
                "username": username,
                "password_hash": self.password_hash,
                "is_active": True,
                "created_at": created,
            }

    def categories(self) -> Iterator[Row]:
        for user_id in self.user_ids:
            ids = []
            for name, color in CATEGORIES:
                ids.append(category_id := new_id())
                yield {"user_id": user_id, "id": category_id, "name": name, "color": color}
            self.category_ids.append(ids)

    def tasks(self) -> Iterator[Row]:
        titles, descriptions = self.pools.titles, self.pools.descriptions
        anchor = self.plan.anchor
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("tasks", index)
            categories = self.category_ids[index]
            random_ = rng.random
            reminded = []
            ids = self.task_ids[index] = [new_id() for _ in range(self.plan.tasks_per_user)]
            for number, task_id in enumerate(ids):
                created = anchor - timedelta(seconds=int(random_() * 31_536_000))
                roll = random_()
                status = "pending" if roll < 0.45 else "in_progress" if roll < 0.65 else "completed"
                roll = random_()
                priority = "low" if roll < 0.3 else "medium" if roll < 0.8 else "high"
                due = (
                    (anchor + timedelta(days=int(random_() * 90) - 30)).replace(hour=17)
                    if random_() < 0.7
                    else None
                )
                if number % TASKS_PER_REMINDER == 0:
                    reminded.append((task_id, due, created))
                yield {
                    "user_id": user_id,
                    "id": task_id,
                    # Every tenth task a subtask of the one before it (no draw of the
                    # generator: the other columns stay as they were before subtasks).
                    "parent_id": ids[number - 1] if number % SUBTASK_EVERY == 9 else None,
                    "title": titles[int(random_() * len(titles))],
                    "description": (
                        descriptions[int(random_() * len(descriptions))]
                        if random_() < 0.4
                        else None
                    ),
                    "status": status,
                    "priority": priority,
                    "due_date": due,
                    "category_id": (
                        categories[int(random_() * len(categories))] if random_() < 0.8 else None
                    ),
                    "completed_at": (
                        min(created + timedelta(hours=int(random_() * 720)), anchor)
                        if status == "completed"
                        else None
                    ),
                    "created_at": created,
                }
            self.reminded.append(reminded)

    def task_reminders(self) -> Iterator[Row]:
        """An hour before the due date, or a day after creation for a task without one."""
        for user_id, reminded in zip(self.user_ids, self.reminded, strict=True):
            for task_id, due, created in reminded:
                relative = due is not None
                fires = due - timedelta(hours=1) if due is not None else created + timedelta(days=1)
                yield {
                    "user_id": user_id,
                    "task_id": task_id,
                    "remind_at": None if relative else fires,
                    "minutes_before_due": 60 if relative else None,
                    "fires_at": fires,
                    "sent_at": fires if fires < self.plan.anchor else None,
                }

    def labels(self) -> Iterator[Row]:
        for user_id in self.user_ids:
            ids = []
            for name, color in LABELS:
                ids.append(label_id := new_id())
                yield {"user_id": user_id, "id": label_id, "name": name, "color": color}
            self.label_ids.append(ids)

    def task_labels(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            for label_id, every in zip(self.label_ids[index], LABEL_EVERY, strict=True):
                for task_id in self.task_ids[index][::every]:
                    yield {"user_id": user_id, "task_id": task_id, "label_id": label_id}

    # chat

    def conversations(self) -> Iterator[Row]:
        titles = self.pools.conversation_titles
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("conversations", index)
            made = []
            for _ in range(self.plan.conversations_per_user):
                conversation_id, started = new_id(), self._past(rng, 180)
                made.append((conversation_id, started))
                yield {
                    "user_id": user_id,
                    "id": conversation_id,
                    "title": titles[rng.randrange(len(titles))],
                    "created_at": started,
                    # moved forward by each message, so it is the last message's time
                    "updated_at": started + timedelta(minutes=MESSAGES_PER_CONVERSATION - 1),
                }
            self.conversation_ids.append(made)

    def messages(self) -> Iterator[Row]:
        """user, assistant (a tool call), tool (its result), then user and assistant text."""
        contents = self.pools.messages
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("messages", index)
            calls: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
            for conversation_id, started in self.conversation_ids[index]:
                ids = [new_id() for _ in range(MESSAGES_PER_CONVERSATION)]
                calls.append((conversation_id, ids[1], ids[2]))
                for number in range(MESSAGES_PER_CONVERSATION):
                    content = contents[rng.randrange(len(contents))]
                    yield {
                        "user_id": user_id,
                        "id": ids[number],
                        "conversation_id": conversation_id,
                        "role": _ROLES[number],
                        "content": "" if number == 2 else content,
                        "parts": _seed_parts(number, content),
                        "created_at": started + timedelta(minutes=number),
                    }
            self.tool_calls.append(calls)

    def message_tool_calls(self) -> Iterator[Row]:
        for user_id, calls in zip(self.user_ids, self.tool_calls, strict=True):
            for conversation_id, call_message, result_message in calls:
                yield {
                    "user_id": user_id,
                    "conversation_id": conversation_id,
                    "message_id": call_message,
                    "tool_call_id": _SEED_CALL_ID,
                    "tool_name": "list_tasks",
                    "result_message_id": result_message,
                }

    def conversation_summaries(self) -> Iterator[Row]:
        """One per conversation, covering the tool round trip (its first three messages)."""
        for user_id, calls in zip(self.user_ids, self.tool_calls, strict=True):
            for conversation_id, _, result_message in calls:
                yield {
                    "user_id": user_id,
                    "conversation_id": conversation_id,
                    "covers_until_id": result_message,
                    "text": "The user asked for their pending tasks; there are three.",
                    "model": "summarizer",
                    "input_tokens": 300,
                    "output_tokens": 15,
                }

    # test engineering

    def _named(self, names: tuple[str, ...], into: list[list[uuid.UUID]]) -> Iterator[Row]:
        for user_id in self.user_ids:
            ids = []
            for name in names:
                ids.append(row_id := new_id())
                yield {"user_id": user_id, "id": row_id, "name": name, "description": None}
            into.append(ids)

    def command_categories(self) -> Iterator[Row]:
        return self._named(_COMMAND_CATEGORIES, self.command_category_ids)

    def parameter_categories(self) -> Iterator[Row]:
        return self._named(_PARAMETER_CATEGORIES, self.parameter_category_ids)

    def parameters(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            ids = []
            for parameter in _PARAMETERS:
                ids.append(parameter_id := new_id())
                yield {
                    "user_id": user_id,
                    "id": parameter_id,
                    "name": parameter.name,
                    "description": None,
                    "data_type": parameter.data_type,
                    "unit": parameter.unit,
                    "default_value": parameter.default,
                    "min_value": parameter.minimum,
                    "max_value": parameter.maximum,
                    "category_id": self.parameter_category_ids[index][parameter.category],
                }
            self.parameter_ids.append(ids)

    def parameter_variants(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            per_parameter = []
            for parameter, parameter_id in zip(_PARAMETERS, self.parameter_ids[index], strict=True):
                ids = []
                for number, (name, value) in enumerate(parameter.variants):
                    ids.append(variant_id := new_id())
                    yield {
                        "user_id": user_id,
                        "id": variant_id,
                        "parameter_id": parameter_id,
                        "name": name,
                        "value": value,
                        "description": None,
                        "is_default": number == 0,
                    }
                per_parameter.append(ids)
            self.variant_ids.append(per_parameter)

    def generic_commands(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            ids = []
            for name, category, syntax, _ in _COMMANDS:
                ids.append(command_id := new_id())
                yield {
                    "user_id": user_id,
                    "id": command_id,
                    "name": name,
                    "description": None,
                    "syntax": syntax,
                    "category_id": self.command_category_ids[index][category],
                    "is_active": True,
                }
            self.command_ids.append(ids)

    def signatures(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            for command_id, (*_, signature) in zip(self.command_ids[index], _COMMANDS, strict=True):
                for position, (parameter, required) in enumerate(signature, start=1):
                    yield {
                        "user_id": user_id,
                        "command_id": command_id,
                        "parameter_id": self.parameter_ids[index][parameter],
                        "position": position,
                        "is_required": required,
                    }

    def requirements_rows(self) -> Iterator[Row]:
        features = self.pools.features
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("requirements", index)
            made: list[tuple[uuid.UUID, int]] = []
            rows: list[Row] = []
            parent: uuid.UUID | None = None
            for number in range(self.plan.requirements_per_user):
                requirement_id, revision = new_id(), 1 + (rng.random() < 0.2)
                component = rng.choice(_COMPONENTS)
                feature = features[rng.randrange(len(features))]
                limit = rng.choice((10, 50, 100, 250, 500))
                yield (
                    row := {
                        "user_id": user_id,
                        "id": requirement_id,
                        "key": f"REQ-{number + 1:03d}",
                        "title": f"The {component} shall {feature}"[:200],
                        "statement": f"The {component} shall {feature} within {limit} ms of the "
                        "request, under every supply condition of the operating range.",
                        "rationale": None,
                        "kind": rng.choice(_KINDS),
                        "priority": rng.choice(_LEVELS),
                        "status": rng.choice(("draft", "in_review", "approved", "approved")),
                        "source_ref": f"SYS-SPEC §{number // 5 + 1}.{number % 5 + 1}",
                        "revision": revision,
                        "parent_id": None if number % 5 == 0 else parent,
                    }
                )
                if number % 5 == 0:
                    parent = requirement_id
                made.append((requirement_id, revision))
                rows.append(row)
            self.requirements.append(made)
            self.requirement_rows.append(rows)

    def specifications(self) -> Iterator[Row]:
        objectives, features = self.pools.objectives, self.pools.features
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("specifications", index)
            ids, rows = [], []
            for number in range(self.plan.requirements_per_user):
                ids.append(specification_id := new_id())
                yield (
                    row := {
                        "user_id": user_id,
                        "id": specification_id,
                        "key": f"TS-{number + 1:03d}",
                        "title": f"Verify: {features[rng.randrange(len(features))]}"[:200],
                        "objective": objectives[rng.randrange(len(objectives))],
                        "preconditions": "Unit on the bench, firmware flashed, supply off.",
                        "status": rng.choice(("draft", "ready", "approved")),
                        "priority": rng.choice(_LEVELS),
                    }
                )
                rows.append(row)
            self.specification_ids.append(ids)
            self.specification_rows.append(rows)

    def links(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            specifications = self.specification_ids[index]
            count = len(specifications)
            for number, (requirement_id, revision) in enumerate(self.requirements[index]):
                for offset in range(_links_of(number, count)):
                    yield {
                        "user_id": user_id,
                        "requirement_id": requirement_id,
                        "test_specification_id": specifications[(number + offset) % count],
                        # reviewed at revision 1: after a change (revision 2) it is suspect
                        "verified_revision": revision if offset == 0 else 1,
                    }

    def steps(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            ids = []
            commands = self.command_ids[index]
            for specification_id in self.specification_ids[index]:
                for position, (command, action, expected) in enumerate(_STEPS, start=1):
                    ids.append(step_id := new_id())
                    yield {
                        "user_id": user_id,
                        "id": step_id,
                        "test_specification_id": specification_id,
                        "position": position,
                        "action": action,
                        "expected_result": expected,
                        "command_id": None if command is None else commands[command],
                        "continue_on_failure": command is None,
                    }
            self.step_ids.append(ids)

    def arguments(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            rng = self._rng("arguments", index)
            steps = iter(self.step_ids[index])
            for _ in self.specification_ids[index]:
                for command, *_ in _STEPS:
                    step_id = next(steps)
                    if command is None:
                        continue
                    for parameter, _required in _COMMANDS[command][3]:
                        yield self._argument(rng, index, user_id, step_id, parameter)

    def _argument(
        self, rng: random.Random, index: int, user_id: uuid.UUID, step_id: uuid.UUID, parameter: int
    ) -> Row:
        spec = _PARAMETERS[parameter]
        row: Row = {
            "user_id": user_id,
            "test_step_id": step_id,
            "parameter_id": self.parameter_ids[index][parameter],
            "variant_id": None,
            "value": None,
        }
        if rng.random() < 0.5:
            row["variant_id"] = rng.choice(self.variant_ids[index][parameter])
        elif spec.data_type == "integer":
            low, high = int(spec.minimum or 0), int(spec.maximum or 100)
            row["value"] = str(rng.randint(low, min(high, low + 5000)))
        else:
            row["value"] = rng.choice(spec.variants)[1]
        return row

    # versions, baselines, runs

    def requirement_versions(self) -> Iterator[Row]:
        """The current revision of each requirement."""
        fields = ("key", "title", "statement", "rationale", "kind", "priority", "status")
        for index, user_id in enumerate(self.user_ids):
            ids = []
            for row in self.requirement_rows[index]:
                ids.append(version_id := new_id())
                yield {
                    "user_id": user_id,
                    "id": version_id,
                    "requirement_id": row["id"],
                    "revision": row["revision"],
                    **{name: row[name] for name in fields},
                }
            self.requirement_version_ids.append(ids)

    def specification_versions(self) -> Iterator[Row]:
        """Version 1 of each specification: its fields and steps (no step ids, arguments left
        out: the data stays the same for the same seed)."""
        fields = ("key", "title", "objective", "preconditions", "status", "priority")
        for index, user_id in enumerate(self.user_ids):
            ids = []
            for row in self.specification_rows[index]:
                content: dict[str, Any] = {name: row[name] for name in fields}
                content["steps"] = [
                    {"position": position, "action": action, "expected_result": expected,
                     "arguments": []}
                    for position, (_, action, expected) in enumerate(_STEPS, start=1)
                ]  # fmt: skip
                ids.append(version_id := new_id())
                yield {
                    "user_id": user_id,
                    "id": version_id,
                    "test_specification_id": row["id"],
                    "version": 1,
                    "key": row["key"],
                    "title": row["title"],
                    "status": row["status"],
                    "step_count": len(_STEPS),
                    "digest": hashlib.sha256(repr(content).encode()).hexdigest(),
                    "content": content,
                }
            self.specification_version_ids.append(ids)

    def baselines(self) -> Iterator[Row]:
        for user_id in self.user_ids:
            self.baseline_ids.append(baseline_id := new_id())
            yield {"user_id": user_id, "id": baseline_id, "name": "release 1.0",
                   "description": "Every requirement as seeded."}  # fmt: skip

    def baseline_requirements(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            versions = self.requirement_version_ids[index]
            for (requirement_id, revision), version_id in zip(
                self.requirements[index], versions, strict=True
            ):
                yield {
                    "user_id": user_id,
                    "baseline_id": self.baseline_ids[index],
                    "requirement_id": requirement_id,
                    "requirement_version_id": version_id,
                    "revision": revision,
                }

    def runs(self) -> Iterator[Row]:
        for user_id in self.user_ids:
            self.run_ids.append(run_id := new_id())
            yield {"user_id": user_id, "id": run_id, "name": "seed run", "status": "done",
                   "started_at": self.plan.anchor - timedelta(hours=2),
                   "finished_at": self.plan.anchor - timedelta(hours=1),
                   "environment": {"bench": "B1"}, "build": {"version": "1.0.0"}}  # fmt: skip

    def executions(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            ids = []
            pairs = zip(
                self.specification_ids[index], self.specification_version_ids[index], strict=True
            )
            for number, (specification_id, version_id) in enumerate(pairs):
                failed = number % FAILED_EVERY == FAILED_EVERY - 1
                ids.append(execution_id := new_id())
                yield {
                    "user_id": user_id,
                    "id": execution_id,
                    "run_id": self.run_ids[index],
                    "test_specification_id": specification_id,
                    "specification_version_id": version_id,
                    "combination": "",
                    "status": "failed" if failed else "passed",
                    "tester": "seed",
                    "duration_ms": 1000 + number,
                    "message": "expected 12.0 V, read 11.2 V" if failed else None,
                }
            self.execution_ids.append(ids)

    def step_results(self) -> Iterator[Row]:
        for index, user_id in enumerate(self.user_ids):
            for execution_id in self.execution_ids[index]:
                for position in range(1, STEP_RESULTS + 1):
                    yield {
                        "user_id": user_id,
                        "execution_id": execution_id,
                        "position": position,
                        "status": "passed",
                        "actual_result": None,
                        "duration_ms": 100 * position,
                        "note": None,
                    }


def load(
    connection: Connection,
    plan: SeedPlan,
    *,
    password_hash: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> SeedReport:
    """Generate the plan's rows and bulk-insert them, table by table, on `connection` (the
    caller commits). `on_progress(table, rows)` reports each chunk."""
    generator = _Generator(plan, password_hash or hash_password(SEED_PASSWORD))
    started = time.perf_counter()
    rows: dict[str, int] = {}
    for model, make_rows in generator.tables():
        table = model.__tablename__

        def progress(count: int, table: str = table) -> None:
            if on_progress is not None:
                on_progress(table, count)

        rows[table] = bulk_insert(connection, model, make_rows(), on_progress=progress)
    return SeedReport(rows, time.perf_counter() - started)


def first_email(plan: SeedPlan) -> str | None:
    """The email of the plan's first user (to tell whether this seed was loaded already)."""
    if plan.users == 0:
        return None
    return str(next(_Generator(plan, "-").users())["email"])
