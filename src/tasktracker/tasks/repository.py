"""Queries for categories and tasks, inside a user's scope (isolation is automatic)."""

from __future__ import annotations

import builtins
import enum
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from annotated_types import MaxLen
from sqlalchemy import and_, bindparam, exists, func, insert, select
from sqlmodel import col

from tasktracker.db.caseless import caseless
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.fastpath.steps import OnSession, Steps, run_steps
from tasktracker.db.listing import (
    AtLeast,
    Equals,
    Flag,
    LessThan,
    LinkedToAll,
    LinkedToAny,
    Listing,
    ListingFilter,
    NoFilter,
    OneOf,
)
from tasktracker.db.pagination import Ordering, Page, SortKey
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.search import SearchHit, search
from tasktracker.db.search.similar import similar_titles
from tasktracker.db.tenancy import SCOPE_PARAMETER
from tasktracker.db.types import AWARE, new_id, utc_now
from tasktracker.tasks import tree
from tasktracker.tasks.labels import TaskLabel
from tasktracker.tasks.models import (
    DUE_DATE_OR_NEVER,
    PRIORITY_RANK,
    TASK_SEARCH,
    Category,
    Task,
    TaskPriority,
    TaskStatus,
    completed_at_for,
)
from tasktracker.tasks.schemas import (
    CategoryCreate,
    CategoryUpdate,
    TaskCreate,
    TaskRow,
    TaskUpdate,
)
from tasktracker.tasks.tree import Progress

MAX_LABELS_IN_FILTER = 100
"""The most label ids a `TaskFilter` takes in `labels_any` or `labels_all`."""
_LABELLED = and_(col(TaskLabel.user_id) == col(Task.user_id), col(TaskLabel.task_id) == Task.id)
LabelIds = Annotated[Sequence[uuid.UUID], MaxLen(MAX_LABELS_IN_FILTER)]

# The name regardless of case is unique per user (`uq_categories_user_id_name_lower`), so it
# orders by itself, and that index yields the order with no sort step.
_CATEGORIES = Listing(
    Category, NoFilter, {"name": Ordering("category-name", (SortKey(caseless(Category.name)),))}
)


class CategoryRepository(TenantRepository[Category]):
    model = Category

    def create(self, data: CategoryCreate | Mapping[str, Any]) -> Category:
        return self.create_from(validated(CategoryCreate, data))

    def update(
        self,
        id: uuid.UUID,
        changes: CategoryUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Category:
        changes = validated(CategoryUpdate, changes)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page[Category]:
        """Categories by name, case-insensitively."""
        return _CATEGORIES.entities(self.session, sort="name", limit=limit, cursor=cursor)


class TaskSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    DUE_SOONEST = "due_soonest"
    RECENTLY_UPDATED = "recently_updated"
    TITLE = "title"
    PRIORITY = "priority"


class TaskFilter(ListingFilter):
    """Which tasks to list; every criterion is optional and they combine with AND."""

    status: Annotated[Sequence[TaskStatus] | None, OneOf(Task.status)] = None
    priority: Annotated[Sequence[TaskPriority] | None, OneOf(Task.priority)] = None
    category_id: Annotated[uuid.UUID | None, Equals(Task.category_id)] = None
    due_before: Annotated[datetime | None, AWARE, LessThan(Task.due_date)] = None
    due_after: Annotated[datetime | None, AWARE, AtLeast(Task.due_date)] = None
    overdue: Annotated[bool | None, Flag(Task.is_overdue)] = None
    completed: Annotated[bool | None, Flag(Task.completed)] = None
    parent_id: Annotated[uuid.UUID | None, Equals(Task.parent_id)] = None
    top_level: Annotated[bool | None, Flag(col(Task.parent_id).is_(None))] = None
    labels_any: Annotated[LabelIds | None, LinkedToAny(col(TaskLabel.label_id), _LABELLED)] = None
    labels_all: Annotated[LabelIds | None, LinkedToAll(col(TaskLabel.label_id), _LABELLED)] = None
    labelled: Annotated[bool | None, Flag(exists().where(_LABELLED))] = None


class TreeTask(NamedTuple):
    """A task of a tree (`TaskRepository.tree`) and its depth below the tree's root."""

    task: TaskRow
    depth: int


_task_id = SortKey(Task.id)  # type: ignore[arg-type]
_newest_id = SortKey(Task.id, descending=True)  # type: ignore[arg-type]
_TASKS = Listing(
    Task,
    TaskFilter,
    {
        TaskSort.NEWEST: Ordering("newest", (SortKey(Task.created_at, True), _newest_id)),  # type: ignore[arg-type]
        TaskSort.OLDEST: Ordering("oldest", (SortKey(Task.created_at), _task_id)),  # type: ignore[arg-type]
        TaskSort.DUE_SOONEST: Ordering("due", (SortKey(DUE_DATE_OR_NEVER), _task_id)),
        TaskSort.RECENTLY_UPDATED: Ordering(
            "updated",
            (SortKey(Task.updated_at, True), _newest_id),  # type: ignore[arg-type]
        ),
        TaskSort.TITLE: Ordering("title", (SortKey(Task.title), _task_id)),  # type: ignore[arg-type]
        TaskSort.PRIORITY: Ordering("priority", (SortKey(PRIORITY_RANK), _task_id)),
    },
    TaskRow,
)
_BY_ID = CompiledQuery(select(*_TASKS.columns).where(col(Task.id) == bindparam("id")), TaskRow)
_INSERT: CompiledQuery[Any] = CompiledQuery(
    insert(Task).values(
        user_id=bindparam(SCOPE_PARAMETER), **{name: bindparam(name) for name in TaskRow._fields}
    )
)


class _Found(NamedTuple):
    id: uuid.UUID


class _StatusCount(NamedTuple):
    status: TaskStatus
    tasks: int


_COUNTS_BY_STATUS = CompiledQuery(
    select(col(Task.status), func.count().label("tasks")).group_by(col(Task.status)),
    _StatusCount,
)


_CATEGORY = CompiledQuery(
    select(col(Category.id)).where(col(Category.id) == bindparam("id")), _Found
)


class TaskRepository(TenantRepository[Task]):
    model = Task

    def create(self, data: TaskCreate | Mapping[str, Any]) -> Task:
        """A new task, tracked by the unit (change it and the unit's commit writes the
        change): inserted as `create_row` inserts it, and tracked as if loaded, so creating
        costs one INSERT and no flush of the ORM's."""
        return self._tracked(self.create_row(data)._asdict())

    def create_row(self, data: TaskCreate | Mapping[str, Any]) -> TaskRow:
        """A new task, inserted by one compiled INSERT and returned as a read row: the fast
        path for callers that do not go on to change the task in the same unit."""
        return run_steps(self.session, self._create_row(data))

    def _create_row(self, data: TaskCreate | Mapping[str, Any]) -> Steps[TaskRow]:
        data = validated(TaskCreate, data)
        yield from self._checked_category(data.category_id)
        if data.parent_id is not None:
            parent_id = data.parent_id
            yield OnSession(lambda: tree.check_parent(self.session, None, parent_id))
        now = utc_now()
        row = TaskRow(
            id=new_id(),
            title=data.title,
            description=data.description,
            status=data.status,
            priority=data.priority,
            due_date=data.due_date,
            category_id=data.category_id,
            completed_at=completed_at_for(data.status, None, now),
            created_at=now,
            updated_at=now,
            parent_id=data.parent_id,
        )
        yield _INSERT.changing(**row._asdict())
        return row

    def update(
        self,
        id: uuid.UUID,
        changes: TaskUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Task:
        changes = validated(TaskUpdate, changes)
        if "category_id" in changes.model_fields_set:
            self._check_category(changes.category_id)
        if "parent_id" in changes.model_fields_set and changes.parent_id is not None:
            tree.check_parent(self.session, self.checked_id(id), changes.parent_id)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def move(self, id: uuid.UUID, parent_id: uuid.UUID | None) -> Task:
        """Put the task (and its subtasks) under `parent_id`, or at the top level (None)."""
        return self.update(id, {"parent_id": parent_id})

    def delete(self, id: uuid.UUID) -> None:
        """Delete the task and, with it, every subtask below it (the database's cascade);
        the unit forgets the subtasks it holds."""
        below = tree.descendants(self.session, self.checked_id(id))
        super().delete(id)
        for child in below:
            obj = self.session.identity_map.get(
                self.session.identity_key(Task, (self.user_id, child))
            )
            if obj is not None:
                self.session.expunge(obj)

    def children(
        self, id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[TaskRow]:
        """The task's direct subtasks, oldest first, keyset-paged (a task without any, or
        another user's, has none)."""
        return run_steps(self.session, self._children(id, limit, cursor))

    def _children(self, id: uuid.UUID, limit: int, cursor: str | None) -> Steps[Page[TaskRow]]:
        filter = TaskFilter(parent_id=self.checked_id(id))
        return self._read_page(filter, TaskSort.OLDEST, limit, cursor)

    def tree(self, id: uuid.UUID) -> builtins.list[TreeTask]:
        """The task and every task below it, depth first, each level oldest first: one
        recursive query (`NotFoundError` if the task is not the user's)."""
        down = tree.subtree(self.checked_id(id))
        statement = (
            select(*_TASKS.columns)
            .where(col(Task.id).in_(select(down.c.id)))
            .order_by(col(Task.created_at), col(Task.id))
        )
        rows = {row.id: row for row in map(TaskRow._make, self.session.execute(statement))}
        if id not in rows:
            raise NotFoundError(f"Task {id} not found")
        links = {row.id: row.parent_id for row in rows.values()}
        return [TreeTask(rows[node.id], node.depth) for node in tree.nodes(links, id)]

    def progress(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Progress]:
        """For each task, its subtasks at every level below it: done (completed) and in
        all, in one query; `Progress(0, 0)` for a task without subtasks."""
        return tree.progress(self.session, [self.checked_id(id) for id in ids])

    def list(
        self,
        filter: TaskFilter | None = None,
        *,
        sort: TaskSort = TaskSort.NEWEST,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Task]:
        """A page of tasks, keyset-paginated: pass the returned `next_cursor` to continue."""
        return _TASKS.entities(self.session, filter, sort=sort, limit=limit, cursor=cursor)

    def read(self, id: uuid.UUID) -> TaskRow:
        """One task as a read row (the fast path: no identity map), or `NotFoundError`."""
        return run_steps(self.session, self._read(id))

    def _read(self, id: uuid.UUID) -> Steps[TaskRow]:
        rows = yield _BY_ID.fetching(id=self.checked_id(id))
        if not rows:
            raise NotFoundError(f"Task {id} not found")
        return rows[0]  # type: ignore[no-any-return]

    def read_page(
        self,
        filter: TaskFilter | None = None,
        *,
        sort: TaskSort = TaskSort.NEWEST,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[TaskRow]:
        """As `list`, as read rows: the fast path for callers that only read."""
        return run_steps(self.session, self._read_page(filter, sort, limit, cursor))

    def _read_page(
        self, filter: TaskFilter | None, sort: TaskSort, limit: int, cursor: str | None
    ) -> Steps[Page[TaskRow]]:
        return _TASKS.row_steps(filter, sort=sort, limit=limit, cursor=cursor)

    def search(
        self,
        query: str,
        filter: TaskFilter | None = None,
        *,
        limit: int = 20,
        cursor: str | None = None,
        prefix: bool = False,
    ) -> Page[SearchHit]:
        """Tasks matching `query` (title above description), best first, among those the
        filter selects; `prefix` matches the last word as typed so far (docs/search.md)."""
        criteria = filter.criteria() if filter is not None else []
        return search(
            self.session,
            [(TASK_SEARCH, criteria)],
            query,
            limit=limit,
            cursor=cursor,
            prefix=prefix,
        )

    def similar_titles(self, text: str, *, limit: int = 10) -> builtins.list[SearchHit]:
        """Tasks whose title is like `text` despite typos, most similar first: PostgreSQL
        with pg_trgm only, else `ConfigurationError` (docs/search.md)."""
        return similar_titles(self.session, TASK_SEARCH, text, limit=limit)

    def count(self, filter: TaskFilter | None = None) -> int:
        return _TASKS.count(self.session, filter)

    def counts_by_status(self) -> dict[TaskStatus, int]:
        """Every status with its number of tasks (zero included), by one compiled query: it
        returns no models, so nothing of the ORM's loading is needed."""
        counts = dict.fromkeys(TaskStatus, 0)
        counts.update(_COUNTS_BY_STATUS.all(self.session))
        return counts

    def _check_category(self, category_id: uuid.UUID | None) -> None:
        run_steps(self.session, self._checked_category(category_id))

    def _checked_category(self, category_id: uuid.UUID | None) -> Steps[None]:
        """A friendly error before the database's composite foreign key would refuse it."""
        if category_id is not None and not (yield _CATEGORY.fetching(id=category_id)):
            raise ValidationError.single("category_id", "no such category", model="Task")
