"""Labels and which tasks carry them, inside a user's scope (docs/tasks.md#labels)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col

from tasktracker.db.caseless import caseless
from tasktracker.db.errors import ValidationError
from tasktracker.db.listing import Listing, NoFilter
from tasktracker.db.pagination import Ordering, Page, SortKey
from tasktracker.db.repository import TenantRepository, validated, write
from tasktracker.tasks.labels import Label, LabelCount, LabelCreate, LabelUpdate, TaskLabel
from tasktracker.tasks.models import Task

MAX_LABELS_PER_CALL = 100
"""The most label ids one `attach`, `detach` or `replace` takes."""

# The name regardless of case is unique per user (`uq_labels_user_id_name_lower`), so it
# orders by itself, and that index yields the order with no sort step.
_LABELS = Listing(
    Label, NoFilter, {"name": Ordering("label-name", (SortKey(caseless(Label.name)),))}
)
_TASKS_OF_LABEL = (
    select(func.count())
    .where(col(TaskLabel.user_id) == Label.user_id, col(TaskLabel.label_id) == Label.id)
    .scalar_subquery()
)
_COUNTS = select(col(Label.id), col(Label.name), col(Label.color), _TASKS_OF_LABEL)


def _label_ids(ids: Sequence[uuid.UUID]) -> builtins.list[uuid.UUID]:
    if isinstance(ids, str | bytes) or not all(isinstance(id, uuid.UUID) for id in ids):
        raise ValidationError.single("label_ids", "must be a list of UUIDs", model="TaskLabel")
    distinct = builtins.list(dict.fromkeys(ids))
    if len(distinct) > MAX_LABELS_PER_CALL:
        raise ValidationError.single(
            "label_ids", f"at most {MAX_LABELS_PER_CALL} labels at once", model="TaskLabel"
        )
    return distinct


class LabelRepository(TenantRepository[Label]):
    model = Label

    def create(self, data: LabelCreate | Mapping[str, Any]) -> Label:
        return self.create_from(validated(LabelCreate, data))

    def update(
        self,
        id: uuid.UUID,
        changes: LabelUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Label:
        changes = validated(LabelUpdate, changes)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page[Label]:
        """Labels by name, case-insensitively, keyset-paged."""
        return _LABELS.entities(self.session, sort="name", limit=limit, cursor=cursor)

    def counts(self, *, limit: int = 100, cursor: str | None = None) -> Page[LabelCount]:
        """Every label by name, case-insensitively, with how many tasks carry it (zero
        included), keyset-paged: each count is read from `ix_task_labels_user_id_label_id_
        task_id` alone."""
        return _LABELS.page(
            self.session, _COUNTS, LabelCount._make, sort="name", limit=limit, cursor=cursor
        )

    def of_task(self, task_id: uuid.UUID) -> builtins.list[Label]:
        """The labels of a task, by name regardless of case."""
        statement = (
            select(Label)
            .join(
                TaskLabel,
                (col(TaskLabel.user_id) == Label.user_id) & (col(TaskLabel.label_id) == Label.id),
            )
            .where(col(TaskLabel.task_id) == self.checked_id(task_id))
            .order_by(caseless(Label.name))
        )
        return builtins.list(self.session.scalars(statement))

    def attach(self, task_id: uuid.UUID, label_ids: Sequence[uuid.UUID]) -> None:
        """Put the labels on the task; those it already carries are left as they are."""
        wanted = self._checked(task_id, label_ids)
        carried = set(self._carried(task_id))
        with write(self.session):
            self.session.add_all(
                TaskLabel(user_id=self.user_id, task_id=task_id, label_id=label_id)
                for label_id in wanted
                if label_id not in carried
            )

    def detach(self, task_id: uuid.UUID, label_ids: Sequence[uuid.UUID]) -> None:
        """Take the labels off the task; those it does not carry are ignored."""
        ids = _label_ids(label_ids)
        if not ids:
            return
        statement = delete(TaskLabel).where(
            col(TaskLabel.task_id) == self.checked_id(task_id), col(TaskLabel.label_id).in_(ids)
        )
        with write(self.session):
            self.session.execute(statement)

    def replace(self, task_id: uuid.UUID, label_ids: Sequence[uuid.UUID]) -> None:
        """The task carries exactly these labels afterwards."""
        wanted = self._checked(task_id, label_ids)
        carried = self._carried(task_id)
        self.detach(task_id, [id for id in carried if id not in wanted])
        self.attach(task_id, wanted)

    def _carried(self, task_id: uuid.UUID) -> builtins.list[uuid.UUID]:
        statement = select(col(TaskLabel.label_id)).where(col(TaskLabel.task_id) == task_id)
        return builtins.list(self.session.scalars(statement))

    def _checked(
        self, task_id: uuid.UUID, label_ids: Sequence[uuid.UUID]
    ) -> builtins.list[uuid.UUID]:
        """The distinct label ids, refused unless the task and every label are the user's
        (a friendly error before the composite foreign keys would refuse them)."""
        task_id = self.checked_id(task_id)
        ids = _label_ids(label_ids)
        if self.session.scalar(select(col(Task.id)).where(col(Task.id) == task_id)) is None:
            raise ValidationError.single("task_id", "no such task", model="TaskLabel")
        found = set(self.session.scalars(select(col(Label.id)).where(col(Label.id).in_(ids))))
        if missing := [id for id in ids if id not in found]:
            raise ValidationError.single(
                "label_ids", f"no such label: {', '.join(map(str, missing))}", model="TaskLabel"
            )
        return ids
