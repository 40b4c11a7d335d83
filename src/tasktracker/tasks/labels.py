"""`labels` and `task_labels`: a user's labels, many per task (docs/tasks.md#labels)."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import ForeignKeyConstraint, Index, text
from sqlmodel import Field, SQLModel

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.db.base import Created, Schema, TenantModel, Timestamped, UserOwned, field_of
from tasktracker.db.caseless import caseless
from tasktracker.db.constraints import field_check
from tasktracker.db.text import RequiredText
from tasktracker.tasks.models import DEFAULT_COLOR, Color

COLOR_CHECK = (
    "length(color) = 7 AND substr(color, 1, 1) = '#' "
    "AND ltrim(substr(color, 2), '0123456789abcdefABCDEF') = ''"
)


class LabelFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    name: RequiredText = Field(max_length=50)
    color: Color = Field(
        default=DEFAULT_COLOR, max_length=7, sa_column_kwargs={"server_default": DEFAULT_COLOR}
    )


class Label(LabelFields, Timestamped, TenantModel, table=True):
    __tablename__ = "labels"
    __table_args__ = (
        Index(
            "uq_labels_user_id_name_lower",
            "user_id",
            caseless(text("name")),
            unique=True,
            info={"field": "name", "message": "is already used by another label"},
        ),
        field_check("color", text(COLOR_CHECK), "format", "must be a #RRGGBB hex color"),
    )


class TaskLabel(Created, UserOwned, table=True):
    """A task carries a label. Deleting either removes the link (the database's cascade)."""

    __tablename__ = "task_labels"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "task_id"], ["tasks.user_id", "tasks.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["user_id", "label_id"], ["labels.user_id", "labels.id"], ondelete="CASCADE"
        ),
        # The tasks of a label (the filters' other way in, and the counts per label); the
        # primary key `(user_id, task_id, label_id)` serves a task's labels.
        Index("ix_task_labels_user_id_label_id_task_id", "user_id", "label_id", "task_id"),
    )

    task_id: uuid.UUID = Field(primary_key=True)
    label_id: uuid.UUID = Field(primary_key=True)


class LabelCreate(LabelFields, Schema):
    """A new label."""


class LabelUpdate(Schema):
    name: RequiredText | None = field_of(LabelFields, "name", default=None)
    color: Color | None = field_of(LabelFields, "color", default=None)


class LabelCount(NamedTuple):
    """A label with the number of tasks that carry it (`LabelRepository.counts`)."""

    id: uuid.UUID
    name: str
    color: str
    tasks: int
